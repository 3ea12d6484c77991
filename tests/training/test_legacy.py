"""Runs made by earlier versions still resume, test and add: one from before ``adder/`` was split
into layers (old class paths), one from before the network and objectives were components (the
model's flat flags: ``cell``, ``hidden_size``, ``state_spread``, ...), and one from before the
training layer used Lightning's own components and the configs moved into folders by concern."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
import torch

from adder.__main__ import main as adder_main
from adder.training.cli import main as cli_main
from adder.training.legacy import register_legacy_modules
from tests.helpers.cli import QUIET, VERIFY_OFF

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE = FIXTURES / "legacy_run"
RUNS = ("legacy_run", "flat_model_run", "components_run")


@pytest.fixture(params=RUNS)
def legacy_run(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fixture run copied to ``lightning_logs/`` of an empty working directory, as it was made."""
    shutil.copytree(FIXTURES / request.param, tmp_path / "lightning_logs")
    monkeypatch.chdir(tmp_path)
    return Path("lightning_logs") / "version_0"


def test_the_fixture_names_the_old_class_paths() -> None:
    config = (FIXTURE / "version_0" / "config.yaml").read_text()
    for old in (
        "adder.loggers.TensorBoardLogger",
        "adder.checkpoint_io.AtomicCheckpointIO",
        "adder.schedules.CosineDecay",
    ):
        assert old in config


def test_the_flat_model_fixture_names_the_old_flags() -> None:
    config = (FIXTURES / "flat_model_run" / "version_0" / "config.yaml").read_text()
    for old in ("cell: lstm", "state_spread: 1.0", "step_noise: 0.1", "carry_hint: 0.5"):
        assert old in config
    hparams = torch.load(FIXTURES / "flat_model_run" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert hparams["hyper_parameters"]["cell"] == "lstm"


def test_an_old_run_resumes_into_its_own_directory(legacy_run: Path) -> None:
    last = legacy_run / "checkpoints" / "last.ckpt"
    before = torch.load(last, weights_only=True)["global_step"]
    args = ["--ckpt_path", str(last), "--trainer.max_steps", "9", *VERIFY_OFF]  # its config predates the flag
    cli_main(["fit", "--config", str(legacy_run / "config.yaml"), *args])
    assert before == 6 and torch.load(last, weights_only=True)["global_step"] == 9
    assert sorted(p.name for p in legacy_run.parent.iterdir()) == ["version_0"]  # no new run
    assert not (legacy_run / "checkpoints" / "last-v1.ckpt").exists()
    assert len(list(legacy_run.glob("events.out.tfevents.*"))) == 2  # the same TensorBoard run, one more writer


def test_an_old_checkpoint_is_tested_and_adds(legacy_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    last = str(legacy_run / "checkpoints" / "last.ckpt")
    cli_main(["test", "--ckpt_path", last, *QUIET])
    assert "exact match %" in capsys.readouterr().out
    assert adder_main(["add", "--ckpt", last, "12", "34"]) == 0
    assert capsys.readouterr().out.strip().isdigit()


@pytest.mark.parametrize(
    "class_path",
    [
        "adder.training.callbacks.AdderCheckpoint",  # callbacks.py, before it was a package
        "adder.training.callbacks.StopAtTarget",
        "adder.training.callbacks.PredictionWriter",
        "adder.callbacks.CarryProbe",  # the flat layout's
    ],
)
def test_the_callbacks_class_paths_of_earlier_configs_still_resolve(class_path: str) -> None:
    register_legacy_modules()
    module, name = class_path.rsplit(".", 1)
    assert isinstance(getattr(importlib.import_module(module), name), type)
