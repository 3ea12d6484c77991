"""Callbacks for tests that drive the real ``adder fit`` in a subprocess: they send the training
process a signal right after a given optimizer step, as a scheduler or a user would, and more."""

from __future__ import annotations

import os
import signal

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


class SignalAtStep(Callback):
    """Send ``signum`` (a name such as "SIGKILL") to this process once ``step`` steps are done."""

    def __init__(self, step: int, signum: str = "SIGKILL", rank: int = 0) -> None:
        self.step, self.signum, self.rank = step, getattr(signal, signum), rank

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if trainer.global_step == self.step and trainer.global_rank == self.rank:
            os.kill(os.getpid(), self.signum)


class PoisonAtStep(Callback):
    """Set every weight to NaN once ``step`` steps are done: a divergence on cue."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if trainer.global_step == self.step:
            with torch.no_grad():
                for parameter in pl_module.parameters():
                    parameter.fill_(float("nan"))


class RecordBatches(Callback):
    """Write a fingerprint of every training batch this rank sees to ``<directory>/rank<r>.txt``."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: object, batch_idx: int
    ) -> None:
        a, b, _ = batch  # type: ignore[misc]
        fingerprint = hash((tuple(a.flatten().tolist()), tuple(b.flatten().tolist())))
        with open(os.path.join(self.directory, f"rank{trainer.global_rank}.txt"), "a") as handle:
            handle.write(f"{trainer.global_step} {fingerprint}\n")


class KillOnce(Callback):
    """SIGKILL this process once ``step`` steps are done, unless ``marker`` exists (then create it):
    a worker dies mid-trial once, and the trial's resumed run passes the same step unharmed."""

    def __init__(self, step: int, marker: str) -> None:
        self.step, self.marker = step, marker

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if trainer.global_step == self.step and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)


class CtrlCOnceInTest(Callback):
    """Press Ctrl-C (SIGINT to this process) as a test starts, once per ``marker`` file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            signal.raise_signal(signal.SIGINT)
