"""Study files and sweep commands for the study tests."""

from __future__ import annotations

import sys
from pathlib import Path

import optuna
import yaml

from adder.study.queue import open_storage

TINY = {
    "data.num_digits": 3,
    "data.batch_size": 32,
    "data.val_size": 20,
    "data.test_size": 20,
    "data.test_lengths": [3],
    "model.hidden_size": 8,
    "model.input_size": 4,
    "trainer.max_steps": 6,
    "trainer.val_check_interval": 3,
    "early_stopping.target": None,
}


def study_file(tmp_path: Path, name: str, **fields: object) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "args": TINY, "metric": "test/exact_match/random/3", **fields}))
    return path


def sweep_args(study: Path, tmp_path: Path, *extra: str) -> list[str]:
    """``adder sweep STUDY``'s arguments, with runs and reports under ``tmp_path``."""
    runs, docs = str(tmp_path / "runs"), str(tmp_path / "docs")
    return ["sweep", str(study), "--runs-dir", runs, "--docs-dir", docs, *extra]


def sweep_command(study: Path, tmp_path: Path, *extra: str) -> list[str]:
    """``adder sweep STUDY`` as its own process, with runs and reports under ``tmp_path``."""
    return [sys.executable, "-m", "adder", *sweep_args(study, tmp_path, *extra)]


def trials(runs: Path, name: str, url: str | None = None) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(url, runs / f"{name}.journal")
    return optuna.load_study(study_name=name, storage=storage).trials


def keys(done: list[optuna.trial.FrozenTrial]) -> list[tuple[str, int]]:
    return sorted((t.user_attrs["point"], t.user_attrs["seed"]) for t in done)
