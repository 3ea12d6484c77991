"""``adder predict``'s results as a tab-separated table in the run directory."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import BasePredictionWriter


class PredictionWriter(BasePredictionWriter):
    """Writes ``predict`` results as a tab-separated table in the run directory.

    Args:
        filename: file name inside the run's log directory (or the trainer's root dir).
    """

    def __init__(self, filename: str = "predictions.tsv") -> None:
        super().__init__(write_interval="epoch")
        self.filename = filename
        self.path: str | None = None
        self.summary = ""

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
        # Printed by the CLI once the progress bar is done (after_predict), not inside it.
        self.summary = f"predict: {correct}/{total} sums exactly right, written to {self.path}"


def _rows(predictions: Any) -> Iterator[dict[str, str]]:
    """Flatten predictions (batches of rows, or per-dataloader lists of them) into rows."""
    for item in predictions:
        if isinstance(item, dict):
            yield item
        else:
            yield from _rows(item)
