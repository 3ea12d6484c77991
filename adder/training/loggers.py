"""The TensorBoard logger of every run, tuned for comparing runs by their configuration.

Lightning's ``TensorBoardLogger`` writes an HParams *experiment* summary with each run's own
hyperparameters; TensorBoard then takes one run's summary for a whole log directory, so a study
whose points differ in their keys (Adam's against SGD's arguments) loses columns. This logger
writes each run's hyperparameters only (a session start), and TensorBoard builds the table from all
runs: every key becomes a column, every scalar a metric. It also leaves out Lightning's ``epoch``
scalar, always 0 on the endless training stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.tensorboard.summary import hparams as hparams_summary

from adder.training.tracking import flatten


class TensorBoardLogger(LightningTensorBoardLogger):
    """Lightning's TensorBoardLogger, with HParams that compare across runs and no ``epoch`` scalar."""

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        super().log_metrics({key: value for key, value in metrics.items() if key != "epoch"}, step)

    @rank_zero_only
    def log_hyperparams(self, params: Any, metrics: Mapping[str, Any] | None = None, step: int | None = None) -> None:
        flat = flatten(dict(params) if not isinstance(params, Mapping) else params)
        self.hparams.update(flat)  # saved as hparams.yaml
        _, session_start, _ = hparams_summary(flat, {})
        self.experiment.file_writer.add_summary(session_start)
        if metrics:
            self.log_metrics(metrics, step)


def tensorboard_writer(trainer: L.Trainer) -> Any:
    """The SummaryWriter of the trainer's first TensorBoard logger, on rank 0; None elsewhere or without one."""
    if trainer.global_rank != 0:
        return None
    return next((lg.experiment for lg in trainer.loggers if isinstance(lg, LightningTensorBoardLogger)), None)
