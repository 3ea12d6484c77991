"""Atomic checkpoint writes, as a Lightning ``CheckpointIO`` plugin.

Lightning writes a checkpoint straight to its final name, so a write cut short (SIGKILL, a full
disk) leaves a truncated ``last.ckpt`` where a good one was. On a local filesystem this plugin
writes a temporary file, fsyncs it and renames it into place: the old file stays whole until the
new one is. Other fsspec URLs (``memory://``, ``s3://``, ...) go through Lightning's own IO.
Checkpoints whose weights are not finite are never written: the last good one is kept.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import torch
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities import rank_zero_warn

from adder.errors import first_line


def weights_are_finite(checkpoint: dict[str, Any]) -> bool:
    """True if every floating-point tensor in the checkpoint's state_dict is finite."""
    tensors = [t for t in checkpoint.get("state_dict", {}).values() if torch.is_tensor(t) and t.is_floating_point()]
    return not tensors or bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())  # one read back


def is_local(path: Any) -> bool:
    """True for a plain path on the local filesystem (URLs, ``file://`` too, go through fsspec)."""
    protocol = get_filesystem(path).protocol
    return "://" not in str(path) and "file" in ((protocol,) if isinstance(protocol, str) else protocol)


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written (a full disk, say); its message names the file and the
    last checkpoint that was written whole."""


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` with atomic local writes and a refusal to save non-finite weights."""

    def __init__(self) -> None:
        super().__init__()
        self.last_written: str | None = None  # the newest checkpoint this plugin wrote whole

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if not weights_are_finite(checkpoint):
            rank_zero_warn(f"not saving {path}: the weights are not finite; the previous checkpoint is kept")
            return
        if not is_local(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        path = os.fspath(path)
        temporary = f"{path}.tmp"
        try:
            super().save_checkpoint(checkpoint, temporary, storage_options)
            with open(temporary, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, path)  # atomic on POSIX and Windows
        except OSError as error:
            with contextlib.suppress(OSError):
                os.remove(temporary)  # no partial file left behind
            kept = self.last_written or (path if os.path.isfile(path) else None)
            raise CheckpointWriteError(
                f"cannot write {path}: {error.strerror or first_line(error)}; "
                + (f"the last checkpoint written whole is {kept}" if kept else "no checkpoint was written")
            ) from error
        self.last_written = path
