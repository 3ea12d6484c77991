"""adder.training.fit and test: training from Python, its results and its errors as values."""

from __future__ import annotations

from pathlib import Path

import pytest

from adder import training
from adder.errors import InputError
from adder.training import FitRecord, Interrupted, fit
from adder.training.api import arguments, failure
from adder.training.module import NonFiniteLossError
from tests.helpers.cli import QUIET
from tests.helpers.study import TINY as STUDY_TINY

#: The studies' tiny fit without its step count (each test gives its own), and quiet.
TINY = {key: value for key, value in STUDY_TINY.items() if key != "trainer.max_steps"} | {
    "trainer.enable_progress_bar": False,
    "trainer.enable_model_summary": False,
}


def test_fit_returns_a_record_of_the_run_and_test_its_metrics(tmp_path: Path) -> None:
    record = fit("rnn", **TINY, **{"trainer.max_steps": 3, "trainer.default_root_dir": str(tmp_path)})
    assert isinstance(record, FitRecord) and record.step == 3 and record.seconds > 0
    assert record.run_dir == tmp_path / "lightning_logs" / "version_0"
    assert record.last_checkpoint == record.run_dir / "checkpoints" / "last.ckpt" and record.last_checkpoint.is_file()
    assert record.best_checkpoint is not None and record.best_checkpoint.is_file()  # validated at step 3
    assert 0 <= record.metrics["val/exact_match"] == record.metrics["val/exact_match_best"] <= 1
    assert record.metrics["train/fit_seconds"] == round(record.seconds, 1)
    assert record.num_parameters > 0
    metrics = training.test(
        record.last_checkpoint, record.run_dir / "config.yaml", **{"trainer.enable_progress_bar": False}
    )
    assert 0 <= metrics["test/exact_match/random/3"] <= 1
    # It goes on from its last checkpoint, as adder fit --ckpt_path does.
    more = fit(record.run_dir / "config.yaml", ckpt_path=record.last_checkpoint, **{"trainer.max_steps": 6})
    assert more.step == 6 and more.run_dir == record.run_dir


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model.hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"trainer.log_every_n_steps": "many"}, "trainer.log_every_n_steps"),  # jsonargparse's own check of the flag
        ({"no_such.flag": 1}, "no_such.flag"),
    ],
)
def test_bad_input_raises_input_error_with_the_command_s_line(
    overrides: dict, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InputError) as raised:
        fit(**{**TINY, **overrides, "trainer.max_steps": 2, "trainer.default_root_dir": str(tmp_path)})
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert failure(raised.value) == (str(raised.value), 2)
    assert "error:" not in capsys.readouterr().err  # raised, not printed
    assert not (tmp_path / "lightning_logs").exists()


def test_a_diverging_fit_raises_and_failure_gives_its_line(tmp_path: Path) -> None:
    poison = [{"class_path": "tests.helpers.callbacks.PoisonAtStep", "init_args": {"step": 1}}]
    with pytest.raises(NonFiniteLossError) as raised:
        fit(**TINY, **{"trainer.max_steps": 4, "trainer.default_root_dir": str(tmp_path), "trainer.callbacks": poison})
    message, status = failure(raised.value) or ("", 0)
    assert status == 1 and "nan" in message.lower()


def test_sigterm_raises_interrupted_after_saving(tmp_path: Path) -> None:
    stop = [{"class_path": "tests.helpers.callbacks.SignalAtStep", "init_args": {"step": 2, "signum": "SIGTERM"}}]
    with pytest.raises(Interrupted) as raised:
        fit(**TINY, **{"trainer.max_steps": 50, "trainer.default_root_dir": str(tmp_path), "trainer.callbacks": stop})
    assert raised.value.status == 143
    assert (tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt").is_file()


def test_configs_and_flags_become_the_command_line() -> None:
    assert arguments(None, {"model.hidden_size": 8, "early_stopping.target": None}) == [
        "--model.hidden_size",
        "8",
        "--early_stopping.target",
        "null",
    ]
    assert arguments(["binary", {"trainer": {"max_steps": 3}}], {"data.test_lengths": [3, 30]}) == [
        "--config",
        "binary",
        "--config",
        "{trainer: {max_steps: 3}}",
        "--data.test_lengths",
        "[3, 30]",
    ]


def test_the_command_still_prints_one_line_and_exits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from adder.training.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--trainer.default_root_dir", str(tmp_path), *QUIET, "--model.hidden_size", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "hidden_size" in err[0]


def test_failure_words_a_run_s_errors_as_the_command_does() -> None:
    denied = PermissionError(13, "Permission denied", "/runs/x")
    assert failure(denied) == ("cannot write /runs/x: Permission denied", 1)
    assert failure(InputError("bad")) == ("bad", 2)
    assert failure(KeyError("a bug")) is None  # not a run's failure: its traceback stays


@pytest.mark.slow
def test_a_fit_that_verifies_returns_its_verdict_and_a_resumed_one_does_not(tmp_path: Path) -> None:
    flags = {**TINY, "trainer.max_steps": 3, "trainer.default_root_dir": str(tmp_path)}
    record = fit("rnn", **flags, verify_after_fit=5)
    assert record.verdict in ("counterexample", "undecided")  # 3 steps do not make an adder
    assert record.metrics["verify/proved"] == 0.0
    # The run's verify.json is the first fit's: a fit on from it that verifies nothing (its config.yaml
    # says verify_after_fit: 5, the flag turns it off) has no verdict.
    more = fit(
        record.run_dir / "config.yaml",
        ckpt_path=record.last_checkpoint,
        verify_after_fit=None,
        **{"trainer.max_steps": 6},
    )
    assert more.verdict is None and "verify/proved" not in more.metrics
