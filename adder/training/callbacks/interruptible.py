"""Ctrl-C stops fit the way SIGTERM does: after the current step, with a checkpoint."""

from __future__ import annotations

import signal
import threading
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info

_interrupted_by = [signal.SIGTERM]


def interrupt_signal() -> int:
    """The signal that stopped the last fit: SIGINT after Ctrl-C, else SIGTERM."""
    return int(_interrupted_by[0])


class Interruptible(Callback):
    """Makes Ctrl-C stop fit the way SIGTERM does: after the current step, with a checkpoint.

    Lightning already turns SIGTERM into a stop between two steps; a KeyboardInterrupt instead
    lands anywhere, possibly halfway through an optimizer step. The first Ctrl-C therefore raises
    SIGTERM in this process, for Lightning's own handler; a second one interrupts at once.
    """

    def __init__(self) -> None:
        self._previous: Any = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be installed from the main thread

        def handler(signum: int, frame: Any) -> None:
            _interrupted_by[0] = signal.SIGINT
            rank_zero_info("\nCtrl-C: stopping after this step and saving a checkpoint (press again to abort)")
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.raise_signal(signal.SIGTERM)

        _interrupted_by[0] = signal.SIGTERM
        self._previous = signal.signal(signal.SIGINT, handler)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self._previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
