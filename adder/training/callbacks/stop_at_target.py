"""Stop fitting once a validation metric reaches a target, not before a number of steps."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info


class StopAtTarget(Callback):
    """Stops fitting once a validation metric reaches a target (by default: every validation sum
    exactly right). Unlike EarlyStopping's ``stopping_threshold`` the target itself counts, since
    exact match cannot exceed 1.0.

    Args:
        monitor: logged metric to watch.
        target: stop when ``monitor >= target``; None never stops.
        min_steps: do not stop before this many optimizer steps. A validation set can only show
            that the model is right on the problems it holds; training on past the first perfect
            score keeps lowering the error rate, which is what long numbers need.
    """

    def __init__(self, monitor: str = "val/exact_match", target: float | None = 1.0, min_steps: int = 0) -> None:
        if min_steps < 0:
            raise ValueError(f"early_stopping.min_steps must be >= 0, got {min_steps}")
        self.monitor, self.target, self.min_steps = monitor, target, min_steps

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.target is None or trainer.sanity_checking or trainer.state.fn != "fit":
            return
        if trainer.global_step < self.min_steps:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is not None and float(value) >= self.target:
            trainer.should_stop = True
            rank_zero_info(
                f"{self.monitor} = {float(value):.4f} reached the target {self.target} "
                f"at step {trainer.global_step}; stopping."
            )
