"""Checkpoints without Lightning: the adder rebuilt from a checkpoint, and finding a run's checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from adder.models import ModelConfig, RecurrentAdder, build_model
from adder.models.checkpoints import (
    VALIDATION_KEY,
    VERIFY_RECORD,
    CheckpointError,
    doubts,
    load_adder,
    load_checkpoint,
    newest_last_checkpoint,
    run_dir_of,
)


def save_adder(path: Path, **hparams: object) -> None:
    """An untrained backbone saved the way AdderModule checkpoints are."""
    hparams = {
        "cell": "gru",
        "encoding": "embedding",
        "input_size": 4,
        "hidden_size": 8,
        "num_layers": 1,
        "base": 10,
        "num_digits": 3,
        **hparams,
    }
    model = build_model(ModelConfig(**hparams))  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()}, "hyper_parameters": hparams}, path
    )


def test_load_adder_rebuilds_the_model(tmp_path: Path) -> None:
    save_adder(tmp_path / "a.ckpt")
    model = load_adder(tmp_path / "a.ckpt")
    assert isinstance(model, RecurrentAdder) and model.cell == "gru" and not model.training
    assert model.config == ModelConfig("gru", "embedding", 4, 8, 1, 10, 3)
    save_adder(tmp_path / "b.ckpt", hidden_size=9)
    checkpoint = torch.load(tmp_path / "b.ckpt", weights_only=True)
    checkpoint["hyper_parameters"]["hidden_size"] = 8  # claims another shape than its weights
    torch.save(checkpoint, tmp_path / "b.ckpt")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_adder(tmp_path / "b.ckpt")


def test_loading_and_adding_import_no_lightning(tmp_path: Path) -> None:
    save_adder(tmp_path / "a.ckpt")
    code = (
        "import sys; from adder.__main__ import main; "
        f"main(['add', '--ckpt', {str(tmp_path / 'a.ckpt')!r}, '1', '2']); "
        "main(['evaluate', '--ckpt', " + repr(str(tmp_path / "a.ckpt")) + ", '--size', '5', '--lengths', '3']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_run_dir_and_newest_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match="no --ckpt given and no run here.*train one with `adder fit`"):
        newest_last_checkpoint()
    for version in ("version_0", "version_1", "version_2"):
        save_adder(tmp_path / "lightning_logs" / version / "checkpoints" / "last.ckpt")
        (tmp_path / "lightning_logs" / version / "config.yaml").write_text("{}")
    now = time.time()
    os.utime(tmp_path / "lightning_logs/version_1/checkpoints/last.ckpt", (now + 10, now + 10))
    assert newest_last_checkpoint() == Path("lightning_logs/version_1/checkpoints/last.ckpt")
    assert run_dir_of("lightning_logs/version_2/checkpoints/last.ckpt") == tmp_path / "lightning_logs" / "version_2"
    assert run_dir_of(tmp_path / "a.ckpt") is None


@pytest.mark.parametrize("text", ["model:\n  hidden_size: 64\n", "", "not a checkpoint at all"])
def test_a_file_that_is_not_a_checkpoint_is_called_one(tmp_path: Path, text: str) -> None:
    # torch.load would read it as a legacy pickle and advise weights_only=False (running code).
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(CheckpointError, match="config.yaml is not a checkpoint") as error:
        load_checkpoint(tmp_path / "config.yaml")
    assert "weights_only" not in str(error.value)


def test_doubts_come_from_the_checkpoint_s_own_record(tmp_path: Path) -> None:
    path = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    assert doubts({"global_step": 50}, path) is None  # no record (older checkpoints): nothing to say
    assert "was never validated (step 50)" in str(doubts({"global_step": 50, VALIDATION_KEY: None}, path))
    record = {"step": 250, "val/exact_match": 0.125}
    assert "got 12.50% of its last validation's sums right (step 250)" in str(
        doubts({"global_step": 260, VALIDATION_KEY: record}, path)
    )
    right = {"global_step": 250, VALIDATION_KEY: {"step": 250, "val/exact_match": 1.0}}
    assert doubts(right, path) is None
    # The run's record of --verify_after_fit, for this step: anything but a proof is said.
    path.parent.mkdir(parents=True)
    (path.parent.parent / "config.yaml").write_text("{}")
    (path.parent.parent / VERIFY_RECORD).write_text('{"step": 250, "status": "counterexample"}')
    assert "verdict on this model (step 250) was counterexample" in str(doubts(right, path))
    (path.parent.parent / VERIFY_RECORD).write_text('{"step": 250, "status": "proved"}')
    assert doubts(right, path) is None
    (path.parent.parent / VERIFY_RECORD).write_text('{"step": 100, "status": "undecided"}')
    assert doubts(right, path) is None  # about other weights of the run
