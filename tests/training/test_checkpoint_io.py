"""AtomicCheckpointIO: whole files or none locally, Lightning's IO for other URLs, no NaN weights."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import fsspec
import pytest
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from adder.training.checkpoint_io import AtomicCheckpointIO
from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args


def test_interrupted_write_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """why not Lightning's TorchCheckpointIO: it writes a checkpoint straight to its final name, so a
    write cut short (SIGKILL, a full disk) leaves a truncated last.ckpt where a good one was."""
    good = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(3)}, "global_step": 10}, good)
    before = good.read_bytes()

    def dies_halfway(self: object, checkpoint: dict, path: str, storage_options: object = None) -> None:
        Path(path).write_bytes(b"PK\x03\x04 half a zip")  # like a process killed mid-write
        raise KeyboardInterrupt

    monkeypatch.setattr(TorchCheckpointIO, "save_checkpoint", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.zeros(3)}, "global_step": 20}, good)
    assert good.read_bytes() == before
    assert torch.load(good, weights_only=True)["global_step"] == 10


def test_non_finite_weights_are_not_written(tmp_path: Path) -> None:
    """why not Lightning's TorchCheckpointIO: it saves whatever it is given, and a diverged step's
    NaN weights would replace the last good last.ckpt that a resume needs."""
    path = tmp_path / "bad.ckpt"
    with pytest.warns(UserWarning, match="not finite"):
        AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.tensor([1.0, float("nan")])}}, path)
    assert not path.exists()


@pytest.mark.slow
def test_checkpoints_to_a_remote_url_go_through_fsspec(tmp_path: Path) -> None:
    # memory:// stands for any fsspec URL (s3://, gs://, ...): there is no local file to rename.
    run_cli("fit", tmp_path, *tiny_fit_args(4), "--checkpoint.dirpath", "memory://adder-test/ckpts")
    memory = fsspec.filesystem("memory")
    names = sorted(Path(p).name for p in memory.ls("/adder-test/ckpts", detail=False))
    assert "last.ckpt" in names and not any(name.endswith(".tmp") for name in names)
    with memory.open("/adder-test/ckpts/last.ckpt", "rb") as handle:
        assert torch.load(handle, weights_only=True)["global_step"] == 4
    assert run_dirs(tmp_path)  # the TensorBoard run is still local


def test_a_full_disk_is_one_line_that_names_the_file_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """why not Lightning's TorchCheckpointIO: a write that fails is torch's traceback; this one
    removes the partial file and says, on one line, which file and which last checkpoint is whole."""
    real_save = TorchCheckpointIO.save_checkpoint
    saves = []

    def fills_the_disk(self: object, checkpoint: dict, path: str, storage_options: object = None) -> None:
        saves.append(path)
        if len(saves) <= 2:  # the best and the last checkpoint of the first validation fit
            return real_save(self, checkpoint, path, storage_options)
        Path(path).write_bytes(b"PK\x03\x04 the start of a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    monkeypatch.setattr(TorchCheckpointIO, "save_checkpoint", fills_the_disk)
    with pytest.raises(SystemExit) as exit_info:
        run_cli("fit", tmp_path, *tiny_fit_args(6))
    assert exit_info.value.code == 1
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    err = [line for line in stderr.splitlines() if line.startswith("error:")]
    (run,) = run_dirs(tmp_path)
    checkpoints = run / "checkpoints"
    assert len(err) == 1 and "No space left on device" in err[0], err
    assert f"cannot write {checkpoints}" in err[0] and f"the last checkpoint written whole is {checkpoints}" in err[0]
    assert not list(checkpoints.glob("*.tmp"))
    assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] == 3  # the previous one, whole
