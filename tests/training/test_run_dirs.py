"""Run directories: a run moved or copied elsewhere resumes into itself and keeps writing last.ckpt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from tests.helpers.cli import QUIET, run_cli, run_dirs, tiny_fit_args


@pytest.mark.parametrize("how", ["moved", "copied"])
def test_a_moved_run_keeps_writing_its_last_checkpoint(
    how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli("fit", tmp_path / "here", *tiny_fit_args(3))
    (run,) = run_dirs(tmp_path / "here")
    (tmp_path / "there").mkdir()
    (shutil.move if how == "moved" else shutil.copytree)(run.parent, tmp_path / "there" / "lightning_logs")
    (moved,) = run_dirs(tmp_path / "there")
    last = moved / "checkpoints" / "last.ckpt"
    capsys.readouterr()
    run_cli(
        "fit", tmp_path / "there", "--config", str(moved / "config.yaml"), *tiny_fit_args(6), "--ckpt_path", str(last)
    )
    assert sorted(p.name for p in (moved / "checkpoints").iterdir() if p.name.startswith("last")) == ["last.ckpt"]
    assert torch.load(last, weights_only=True)["global_step"] == 6
    assert run_dirs(tmp_path / "there") == [moved]
    assert f"last:     {last}" in capsys.readouterr().err


def test_a_resume_shows_the_step_bar_says_how_it_goes_on_and_does_not_warn_about_its_own_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], recwarn: pytest.WarningsRecorder
) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(3))
    (run,) = run_dirs(tmp_path)
    last = str(run / "checkpoints" / "last.ckpt")
    capsys.readouterr()
    bar = ["--trainer.enable_progress_bar", "true"]
    run_cli("fit", tmp_path, "--config", str(run / "config.yaml"), *tiny_fit_args(6), *bar, "--ckpt_path", last)
    captured = capsys.readouterr()
    assert "step: 100%" in captured.out.replace("\r", "\n") and "6/6" in captured.out
    assert "Training:" not in captured.out.replace("\r", "\n").split("step:")[-1]  # the bar ends as a step bar
    assert f"resuming {last} at step 3, training to step 6" in captured.err
    assert "cosine now spans all 6 steps" in captured.err
    assert not [w for w in recwarn if "exists and is not empty" in str(w.message)]


def test_a_resume_by_relative_paths_does_not_warn_about_its_own_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    from adder.training.cli import main

    monkeypatch.chdir(tmp_path)  # runs spelled ./lightning_logs/..., as a user's first fit makes them
    main(["fit", *QUIET, *tiny_fit_args(3)])
    run = Path("lightning_logs") / "version_0"
    main(
        [
            "fit",
            "--config",
            str(run / "config.yaml"),
            *QUIET,
            *tiny_fit_args(6),
            "--ckpt_path",
            str(run / "checkpoints" / "last.ckpt"),
        ]
    )
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 6
    assert not [w for w in recwarn if "exists and is not empty" in str(w.message)]
