"""A callback that counts the GPU host synchronisations of ``train.py fit``'s training steps.

``torch.cuda.set_sync_debug_mode("warn")`` makes PyTorch warn at every operation that blocks the
host until the GPU catches up (``.item()``, a blocking copy back to the host, ...). The callback
turns it on from step ``warmup`` on, off during validation (which must read its results back),
and writes a JSON file with the number of synchronising calls per training step and where they
come from. Ideally it is 0: then the CPU queues step after step without waiting for the GPU.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


class HostSyncCounter(Callback):
    def __init__(self, path: str, warmup: int = 50) -> None:
        self.path, self.warmup = path, warmup
        self.steps = 0
        self.counting = False
        self._catcher: warnings.catch_warnings | None = None
        self._records: list[warnings.WarningMessage] = []

    def _mode(self, on: bool) -> None:
        if torch.cuda.is_available():
            torch.cuda.set_sync_debug_mode("warn" if on else "default")

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._catcher = warnings.catch_warnings(record=True)
        self._records = self._catcher.__enter__()
        warnings.simplefilter("always")  # every occurrence, not the first per line

    def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
        if trainer.global_step == self.warmup and not self.counting:
            self.counting = True
            self._mode(True)

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if self.counting:
            self.steps = trainer.global_step - self.warmup

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._mode(False)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._mode(self.counting)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._mode(False)
        if self._catcher is not None:
            self._catcher.__exit__(None, None, None)
        syncs = [r for r in self._records if "synchroniz" in str(r.message)]
        where = Counter(f"{r.filename}:{r.lineno}: {str(r.message)[:80]}" for r in syncs)
        record = {
            "device": str(trainer.strategy.root_device),
            "steps": self.steps,
            "syncs": len(syncs),
            "syncs_per_step": len(syncs) / max(self.steps, 1),
            "where": where.most_common(10),
        }
        with open(self.path, "w") as handle:
            json.dump(record, handle, indent=1)
