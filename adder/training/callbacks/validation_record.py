"""The last validation's figure, written into every checkpoint, so that a command that only loads
the checkpoint (``adder add``, ``adder evaluate``: no Lightning, no run directory needed) can say
when the model it uses was not right on its own validation."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from adder.models.checkpoints import VALIDATION_KEY

#: The metric recorded.
MONITOR = "val/exact_match"


class ValidationRecord(Callback):
    """Writes ``{"step": N, "val/exact_match": x}`` of the last validation of fit (or None before
    the first) under ``VALIDATION_KEY`` into each checkpoint, and takes it back on resume, so a
    checkpoint saved before a resumed fit's first validation still carries the figure."""

    def __init__(self) -> None:
        self.record: dict[str, float | int] | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(MONITOR)
        if trainer.sanity_checking or trainer.state.fn != "fit" or value is None:
            return
        self.record = {"step": int(trainer.global_step), MONITOR: float(value)}

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        checkpoint[VALIDATION_KEY] = self.record

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        self.record = checkpoint.get(VALIDATION_KEY)
