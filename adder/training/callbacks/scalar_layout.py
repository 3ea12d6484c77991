"""TensorBoard's Custom Scalars tab for every run: related curves on one chart."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import Callback

from adder.training.loggers import tensorboard_writer

#: TensorBoard's Custom Scalars tab: related curves on one chart (tags are regular expressions).
SCALAR_LAYOUT = {
    "adder": {
        "loss (train)": ["Multiline", ["^train/loss$"]],
        "digit accuracy (train, validation)": ["Multiline", ["^train/digit_acc$", "^val/digit_acc$"]],
        "exact match (validation)": ["Multiline", ["^val/exact_match$", "^val/exact_match_best$"]],
        "learning rate": ["Multiline", ["^train/lr$"]],
    },
    "test exact match by kind (x: digits)": {
        "every kind": ["Multiline", ["^test_by_length/exact_match/"]],
    },
}


class ScalarLayout(Callback):
    """Writes SCALAR_LAYOUT into the run (TensorBoard loggers only), when fit or test starts."""

    def _write(self, trainer: L.Trainer) -> None:
        writer = tensorboard_writer(trainer)
        if writer is not None:
            writer.add_custom_scalars(SCALAR_LAYOUT)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer)

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer)
