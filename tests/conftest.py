"""Shared helpers: run the real CLI in-process, and one tiny trained checkpoint per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from adder.cli import AdderCLI, main

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def run_cli(subcommand: str, root: Path, *args: str) -> AdderCLI:
    """``python train.py SUBCOMMAND ...`` in-process, logging under ``root``."""
    return main([subcommand, "--trainer.default_root_dir", str(root), *QUIET, *args])


def tiny_fit_args(steps: int, *extra: str) -> list[str]:
    return [
        "--trainer.max_steps", str(steps),
        "--trainer.val_check_interval", "3",
        "--trainer.log_every_n_steps", "1",
        "--data.num_digits", "3",
        "--data.batch_size", "32",
        "--data.val_size", "40",
        "--data.test_size", "40",
        "--model.hidden_size", "16",
        "--model.input_size", "8",
        "--early_stopping.target", "null",
        *extra,
    ]  # fmt: skip


def run_dirs(root: Path) -> list[Path]:
    return sorted((root / "lightning_logs").glob("version_*"), key=lambda p: int(p.name.split("_")[1]))


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-digit RNN trained until every validation sum is right (a few seconds on a CPU)."""
    root = tmp_path_factory.mktemp("trained")
    run_cli(
        "fit", root,
        "--data.num_digits", "3",
        "--data.val_size", "500",
        "--trainer.max_steps", "3000",
        "--trainer.val_check_interval", "50",
        "--optimizer.lr", "0.01",
    )  # fmt: skip
    checkpoint = run_dirs(root)[-1] / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    return checkpoint
