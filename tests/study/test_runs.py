"""adder.study.runs and the queue's record of a trial: errors come back as values, not as text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from adder.errors import InputError
from adder.study.queue import StudyQueue, open_storage
from adder.study.runs import captured, run_trial
from adder.study.spec import load_experiment
from tests.helpers.study import TINY, study_file


def test_a_runs_output_is_kept_out_of_the_study_s_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with captured():
        print("summary table")
        print("error: loss became nan at step 3", file=sys.stderr)
    assert capsys.readouterr() == ("", "")


def test_a_trial_s_bad_flag_raises_the_training_api_s_error(tmp_path: Path) -> None:
    experiment = load_experiment(study_file(tmp_path, "bad", points=[{"label": "x", "model.hidden_size": 0}]))
    flags = experiment.flags(experiment.points[0], quick=False)
    with pytest.raises(InputError, match="hidden_size must be a positive integer"):
        run_trial(experiment, flags, 0, tmp_path / "runs" / "bad" / "x" / "seed0", quick=False)


def test_a_failed_trial_stores_its_message_and_the_study_goes_on(tmp_path: Path) -> None:
    points = [{"label": "zero", "model.hidden_size": 0}, {"label": "nan", "optimizer.lr": float("nan")}]
    experiment = load_experiment(study_file(tmp_path, "failing", points=points))
    storage = open_storage(None, tmp_path / "failing.journal")
    queue = StudyQueue(experiment, storage, tmp_path / "runs", quick=False)
    queue.enqueue_grid()
    lines: list[str] = []
    assert queue.work(out=lines.append) == 2
    zero, nan = sorted(queue.trials(), key=lambda t: t.number)
    assert zero.state.name == nan.state.name == "FAIL"
    assert zero.user_attrs["error"].startswith("hidden_size must be a positive integer")
    assert "lr" in nan.user_attrs["error"] and "\n" not in nan.user_attrs["error"]
    assert lines[0] == f"failing: zero seed 0 ... failed: {zero.user_attrs['error']}"


@pytest.mark.parametrize("asked", [False, True], ids=["args-silent", "args-ask"])
def test_a_trial_is_verified_only_where_its_study_asks(asked: bool, tmp_path: Path) -> None:
    """adder fit verifies by default; a study's trial does not unless the study's args say
    verify_after_fit (a verdict in every trial would cost up to minutes each)."""
    args = {**TINY, **({"verify_after_fit": 5} if asked else {})}
    experiment = load_experiment(study_file(tmp_path, "proofs", args=args, points=[{"label": "a"}]))
    flags = experiment.flags(experiment.points[0], quick=False)
    record = run_trial(experiment, flags, 0, tmp_path / "runs" / "proofs" / "a" / "seed0", quick=False)
    assert ("verdict" in record) == asked
    assert (tmp_path / "runs" / "proofs" / "a" / "seed0" / "verify.json").is_file() == asked
