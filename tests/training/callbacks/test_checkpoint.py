"""AdderCheckpoint beside Lightning's own ModelCheckpoint and OnExceptionCheckpoint, on the same
scripted run: what it does that their settings cannot (each test's docstring says why)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lightning.pytorch.callbacks import ModelCheckpoint, OnExceptionCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

import adder.training.callbacks.checkpoint
from adder.training.callbacks import AdderCheckpoint
from adder.training.cli import main
from tests.helpers.cli import QUIET, tiny_fit_args
from tests.helpers.scripted import RaiseAtStep, SaveLog, fit_scripted

BEST = {"monitor": "val/exact_match", "mode": "max", "filename": "best-step{step}", "auto_insert_metric_name": False}


def test_why_not_lightnings_save_last_last_ckpt_follows_every_validation_and_the_end(tmp_path: Path) -> None:
    """why not Lightning's ModelCheckpoint(save_last=True), beside a second one with
    every_n_train_steps for a periodic last.ckpt: save_last refreshes last.ckpt only at a step
    where a best checkpoint was saved, so a validation that is not a new best leaves it behind,
    and the periodic one (its triggers exclude saving at validation) ends a fit that stops between
    two of its saves with an old last.ckpt. AdderCheckpoint writes last.ckpt at every validation,
    every save_last_every_n_steps steps and when fit ends: a preempted run loses the fewest steps."""
    scores = [0.5, 0.9, 0.7]  # validations at steps 2, 4, 6, 8, 10 (0.7 from the third on): best at 4
    lightning = fit_scripted(tmp_path / "lightning", [ModelCheckpoint(**BEST, save_last=True)], scores, 11)
    assert lightning.steps_of("last.ckpt")[-1] == 4  # not refreshed at 6, 8, 10 or the end (11)
    periodic = ModelCheckpoint(save_top_k=0, save_last=True, every_n_train_steps=3)
    pair = fit_scripted(tmp_path / "pair", [ModelCheckpoint(**BEST), periodic], scores, 11)
    assert pair.steps_of("last.ckpt") == [3, 6, 9]  # neither at the validations nor at the end
    ours = fit_scripted(tmp_path / "adder", [AdderCheckpoint(**BEST, save_last_every_n_steps=3)], scores, 11)
    assert ours.steps_of("last.ckpt") == [2, 3, 4, 6, 8, 9, 10, 11]
    assert sorted(p.name for p in (tmp_path / "adder" / "checkpoints").iterdir()) == ["best-step4.ckpt", "last.ckpt"]


def test_why_not_lightnings_best_of_equal_scores_the_later_is_kept(tmp_path: Path) -> None:
    """why not Lightning's ModelCheckpoint(save_top_k=1): of two equal validations it keeps the
    earlier model; a run whose validation is perfect from some step on goes on training (and
    decaying its learning rate), and AdderCheckpoint keeps the later one, which has had more of it."""
    scores = [0.5, 0.9, 0.9]
    lightning = ModelCheckpoint(**BEST)
    fit_scripted(tmp_path / "lightning", [lightning], scores, 6)
    ours = AdderCheckpoint(**BEST)
    fit_scripted(tmp_path / "adder", [ours], scores, 6)
    assert Path(lightning.best_model_path).name == "best-step4.ckpt"
    assert Path(ours.best_model_path).name == "best-step6.ckpt"


@pytest.mark.parametrize(("error", "saved"), [(SIGTERMException(), True), (RuntimeError("mid-step"), False)])
def test_why_not_lightnings_on_exception_checkpoint_only_a_stop_between_steps_saves_last(
    tmp_path: Path, error: BaseException, saved: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """why not Lightning's OnExceptionCheckpoint (or ModelCheckpoint's save on exception): it saves
    after any exception, into a file of its own (on_exception.ckpt), though an error raised halfway
    through a step may leave the state half-updated. AdderCheckpoint saves on SIGTERM (and Ctrl-C,
    which Interruptible turns into SIGTERM), which stop between two steps, into last.ckpt, the file
    that resuming names, and says how to resume."""
    on_exception, ours = SaveLog(), SaveLog()
    with pytest.raises(type(error)):
        fit_scripted(
            tmp_path / "l", [OnExceptionCheckpoint(tmp_path / "l"), RaiseAtStep(5, error)], [0.5], io=on_exception
        )
    assert on_exception.saves == [("on_exception.ckpt", 5)]  # whatever the exception
    callbacks: list[Any] = [AdderCheckpoint(**BEST), RaiseAtStep(5, error)]
    said: list[str] = []
    monkeypatch.setattr(adder.training.callbacks.checkpoint, "rank_zero_info", said.append)
    with pytest.raises(type(error)):
        fit_scripted(tmp_path / "adder", callbacks, [0.5], io=ours)
    assert (5 in ours.steps_of("last.ckpt")) is saved and ours.steps_of("last.ckpt")[0] == 2
    assert any("resume with: adder fit" in line for line in said) is saved


def test_why_not_lightnings_load_state_dict_a_run_spelled_otherwise_keeps_its_best(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    """why not Lightning's ModelCheckpoint.load_state_dict: it compares the saved checkpoint folder
    with the new one as text, and a resume that spells the same folder otherwise (``runs/...``
    first, ``./runs/...`` on resume) forgets, with a warning, the best checkpoints and the
    last.ckpt it kept, so that the old best file can be left behind beside a new one.
    AdderCheckpoint takes the same folder as the same."""
    monkeypatch.chdir(tmp_path)
    main(["fit", *QUIET, *tiny_fit_args(3), "--trainer.default_root_dir", "runs"])
    run = Path("runs") / "lightning_logs" / "version_0"
    last = str(run / "checkpoints" / "last.ckpt")
    resume = ["--config", str(run / "config.yaml"), "--ckpt_path", last, "--trainer.default_root_dir", "runs"]
    main(["fit", *QUIET, *tiny_fit_args(6), *resume])
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert len(names) == 2 and names[1] == "last.ckpt", names  # one best checkpoint, not two
    assert not [w for w in recwarn if "dirpath has changed" in str(w.message)]
