"""A fit in numbers, logged when it ends: the best validation, the first perfect step, the time."""

from __future__ import annotations

import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback


class FitSummary(Callback):
    """Logs, when fit ends: ``val/exact_match_best``, ``val/first_perfect_step`` (only if a
    validation was perfect) and ``train/fit_seconds`` (summed over resumed parts of the run)."""

    def __init__(self, monitor: str = "val/exact_match") -> None:
        self.monitor = monitor
        self.best: float | None = None
        self.first_perfect_step: int | None = None
        self.seconds_before = 0.0  # fit time of earlier parts of a resumed run
        self._started: float | None = None

    @property
    def fit_seconds(self) -> float:
        running = time.monotonic() - self._started if self._started is not None else 0.0
        return self.seconds_before + running

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.monotonic()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or trainer.state.fn != "fit" or value is None:
            return
        value = float(value)
        self.best = value if self.best is None else max(self.best, value)
        if value >= 1.0 and self.first_perfect_step is None:
            self.first_perfect_step = trainer.global_step

    def summary(self) -> dict[str, float]:
        metrics = {"train/fit_seconds": round(self.fit_seconds, 1)}
        if self.best is not None:
            metrics[f"{self.monitor}_best"] = self.best
        if self.first_perfect_step is not None:
            metrics["val/first_perfect_step"] = float(self.first_perfect_step)
        return metrics

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                logger.log_metrics(self.summary(), step=trainer.global_step)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "first_perfect_step": self.first_perfect_step, "seconds": self.fit_seconds}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict.get("best")
        self.first_perfect_step = state_dict.get("first_perfect_step")
        self.seconds_before = float(state_dict.get("seconds") or 0.0)
