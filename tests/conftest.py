"""Fixtures shared by the tests: one tiny trained checkpoint per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import run_cli, run_dirs


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-digit RNN trained until every validation sum is right (a few seconds on a CPU)."""
    root = tmp_path_factory.mktemp("trained")
    run_cli(
        "fit",
        root,
        "--data.num_digits",
        "3",
        "--data.val_size",
        "500",
        "--trainer.max_steps",
        "3000",
        "--trainer.val_check_interval",
        "50",
        "--optimizer.lr",
        "0.01",
    )
    checkpoint = run_dirs(root)[-1] / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    return checkpoint
