"""Lightning's TQDM bar counting optimizer steps on the endless stream, one test bar over every suite."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar

#: The default bar redraws every this many steps instead of every step (see use_step_progress_bar).
PROGRESS_BAR_REFRESH_RATE = 10


class AdderProgressBar(TQDMProgressBar):
    """Lightning's bar, also showing the module's ``progress_bar_values`` (plain floats).

    A metric logged with ``prog_bar=True`` is read back from the device at the end of every
    training step, even on steps that logged nothing new: on a GPU that makes the CPU wait for the
    GPU each step. The module keeps its latest training loss as a float instead, read on logging
    steps only, and this bar shows it.
    """

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = {**super().get_metrics(trainer, pl_module), **getattr(pl_module, "progress_bar_values", {})}
        metrics.pop("v_num", None)  # the tail of the version's name ("on_0"); the run is printed when fit ends
        return metrics

    # The training stream has no epochs: the bar counts optimizer steps up to max_steps
    # ("step 1200/5000") instead of batches of an endless "Epoch 0". A fixed data set keeps
    # Lightning's epoch bar.
    def _counts_steps(self, trainer: L.Trainer) -> bool:
        return math.isinf(trainer.num_training_batches) and trainer.max_steps > 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self._show_steps(trainer)  # a fit resumed mid-epoch gets no on_train_epoch_start

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_start(trainer, pl_module)
        self._show_steps(trainer)

    def _show_steps(self, trainer: L.Trainer) -> None:
        if self._counts_steps(trainer):
            self.train_progress_bar.reset(total=trainer.max_steps)
            self.train_progress_bar.initial = 0
            self.train_progress_bar.n = trainer.global_step
            self.train_progress_bar.set_description("step")

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not self._counts_steps(trainer):
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
            return
        step = trainer.global_step
        if self.is_enabled and (step % self.refresh_rate == 0 or step == trainer.max_steps):
            self.train_progress_bar.n = step
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        # A fit stopped by an error (a NaN loss) leaves the bar's line unfinished: close the bars,
        # so that the error line printed next starts a line of its own.
        for name in ("train_progress_bar", "val_progress_bar", "test_progress_bar", "predict_progress_bar"):
            try:
                bar = getattr(self, name)
            except TypeError:  # Lightning's accessor for a bar that was never made
                continue
            if bar is not None and not bar.disable:
                bar.close()

    # A test runs one dataloader per suite and length: one bar over all of them, not one each.
    def on_test_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        if dataloader_idx == 0 and batch_idx == 0:
            self.test_progress_bar.reset(total=sum(trainer.num_test_batches))
            self.test_progress_bar.set_description(self.test_description)

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.is_enabled:
            self.test_progress_bar.update(1)


def use_step_progress_bar(trainer: L.Trainer, given: Sequence[Any]) -> None:
    """Put AdderProgressBar in place of Lightning's default bar, unless the user gave a bar of their own:
    it redraws every PROGRESS_BAR_REFRESH_RATE-th step, which reads the same at a fraction of the cost."""
    bar = trainer.progress_bar_callback
    if type(bar) is TQDMProgressBar and not any(isinstance(c, ProgressBar) for c in given):
        trainer.callbacks[trainer.callbacks.index(bar)] = AdderProgressBar(PROGRESS_BAR_REFRESH_RATE)
