"""Callbacks the CLI adds to every run."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import BasePredictionWriter, Callback, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info


class PredictionWriter(BasePredictionWriter):
    """Writes ``predict`` results as a tab-separated table in the run directory.

    Args:
        filename: file name inside the run's log directory (or the trainer's root dir).
    """

    def __init__(self, filename: str = "predictions.tsv") -> None:
        super().__init__(write_interval="epoch")
        self.filename = filename
        self.path: str | None = None

    def write_on_epoch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        predictions: Sequence[Any],
        batch_indices: Sequence[Any],
    ) -> None:
        directory = trainer.log_dir or trainer.default_root_dir
        os.makedirs(directory, exist_ok=True)
        suffix = f".rank{trainer.global_rank}" if trainer.world_size > 1 else ""
        self.path = os.path.join(directory, self.filename + suffix)
        with open(self.path, "w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t")
            writer.writerow(["a", "b", "predicted", "truth", "correct"])
            total = correct = 0
            for row in _rows(predictions):
                ok = row["predicted"] == row["truth"]
                writer.writerow([row["a"], row["b"], row["predicted"], row["truth"], int(ok)])
                total, correct = total + 1, correct + ok
        print(f"predict: {correct}/{total} sums exactly right, written to {self.path}")


def _rows(predictions: Any) -> Iterator[dict[str, str]]:
    """Flatten predictions (batches of rows, or per-dataloader lists of them) into rows."""
    for item in predictions:
        if isinstance(item, dict):
            yield item
        else:
            yield from _rows(item)


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


class AdderCheckpoint(ModelCheckpoint):
    """ModelCheckpoint that also refreshes ``last.ckpt`` when fit ends between two validations
    (max_steps, Ctrl-C), so that resuming from it continues at the true final step."""

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.save_last and not trainer.fast_dev_run and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        else:
            super().on_train_end(trainer, pl_module)
