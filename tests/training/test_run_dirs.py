"""Run directories: a run moved or copied elsewhere resumes into itself and keeps writing last.ckpt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args


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
