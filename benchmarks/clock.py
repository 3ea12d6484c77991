"""A callback that times a ``train.py fit`` run from the inside, for the benchmarks.

It writes a JSON file with: the wall time of training steps ``warmup+1 .. last`` with and without
the validation runs among them (a validation lasts from its start to the next training step, so
the checkpoints and logs it triggers count with it), the number of those steps, and the time (since the process
started, from ``BENCH_PROCESS_START``) of the first validation with exact match 1.0. On a GPU it
waits for the device only where a clock is read at a boundary (first timed step, each validation's
start, the last step), never on ordinary steps.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from benchmarks.common import synchronize


class StepClock(Callback):
    def __init__(self, path: str, warmup: int = 50) -> None:
        self.path, self.warmup = path, warmup
        self.start: float | None = None
        self.end: float | None = None
        self.steps = 0
        self.validation_seconds = 0.0
        self._validation_start: float | None = None
        self.first_perfect_seconds: float | None = None
        self.first_perfect_step: int | None = None

    def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
        if trainer.global_step == self.warmup and self.start is None:
            synchronize(trainer.strategy.root_device)
            self.start = time.perf_counter()
        if self._validation_start is not None:  # a validation (and what it wrote) ended here
            if self.start is not None:
                self.validation_seconds += time.perf_counter() - self._validation_start
            self._validation_start = None

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if self.start is not None:
            if trainer.max_steps > 0 and trainer.global_step >= trainer.max_steps:
                synchronize(trainer.strategy.root_device)
            self.steps = trainer.global_step - self.warmup
            self.end = time.perf_counter()

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        synchronize(trainer.strategy.root_device)  # training work still queued is not validation's
        self._validation_start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            self._validation_start = None
        value = trainer.callback_metrics.get("val/exact_match")
        if (
            self.first_perfect_seconds is None
            and not trainer.sanity_checking
            and value is not None
            and float(value) >= 1.0
        ):
            self.first_perfect_seconds = time.time() - float(os.environ.get("BENCH_PROCESS_START", time.time()))
            self.first_perfect_step = trainer.global_step

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        elapsed = (self.end or 0.0) - (self.start or 0.0)
        record = {
            "steps": self.steps,
            "seconds": elapsed,
            "validation_seconds": self.validation_seconds,
            "first_perfect_seconds": self.first_perfect_seconds,
            "first_perfect_step": self.first_perfect_step,
            "final_step": trainer.global_step,
        }
        with open(self.path, "w") as handle:
            json.dump(record, handle)
