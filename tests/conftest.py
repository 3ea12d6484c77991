"""Fixtures shared by the tests: one tiny trained checkpoint per test session."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from tests.helpers.cli import run_cli, run_dirs

# Hypothesis keeps no example database and no cache (.hypothesis/) in the checkout, nor in /tmp after.
HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="adder-hypothesis-")
atexit.register(shutil.rmtree, HYPOTHESIS_HOME, ignore_errors=True)
set_hypothesis_home_dir(HYPOTHESIS_HOME)
settings.register_profile("adder", database=None)
settings.load_profile("adder")


REPO = Path(__file__).resolve().parents[1]


def _entries() -> set[str]:
    """What the checkout's top level and tests/ hold (caches of the interpreter aside)."""
    return {str(p.relative_to(REPO)) for p in [*REPO.iterdir(), *(REPO / "tests").iterdir()] if p.name != "__pycache__"}


@pytest.fixture(scope="session", autouse=True)
def the_tests_leave_nothing_in_the_checkout() -> object:
    before = _entries()
    yield
    left = sorted(_entries() - before)
    assert not left, f"the tests left {left} in the checkout"


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-digit RNN trained until every validation sum is right."""
    root = tmp_path_factory.mktemp("trained")
    run_cli(
        "fit",
        root,
        "--data.num_digits",
        "3",
        "--data.val_size",
        "500",
        "--trainer.max_steps",
        "1000",
        "--trainer.val_check_interval",
        "50",
        # Stop at the first perfect validation: the tests need a model that adds, not the best one.
        "--early_stopping.target",
        "1",
        "--early_stopping.min_steps",
        "300",
        "--optimizer.lr",
        "0.01",
    )
    checkpoint = run_dirs(root)[-1] / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    return checkpoint
