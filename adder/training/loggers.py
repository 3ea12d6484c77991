"""The TensorBoard logger of every run, tuned for comparing runs by their configuration.

Lightning's ``TensorBoardLogger`` writes an HParams *experiment* summary with each run's own
hyperparameters; TensorBoard then takes one run's summary for a whole log directory, so a study
whose points differ in their keys (Adam's against SGD's arguments) loses columns. This logger
writes each run's hyperparameters only (a session start), and TensorBoard builds the table from all
runs: every key becomes a column, every scalar a metric. It also leaves out Lightning's ``epoch``
scalar, always 0 on the endless training stream.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.tensorboard.summary import hparams as hparams_summary

from adder.models.checkpoints import load_checkpoint
from adder.training.tracking import flatten


class TensorBoardLogger(LightningTensorBoardLogger):
    """Lightning's TensorBoardLogger, with HParams that compare across runs and no ``epoch`` scalar."""

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        super().log_metrics({key: value for key, value in metrics.items() if key != "epoch"}, step)

    @rank_zero_only
    def log_hyperparams(self, params: Any, metrics: Mapping[str, Any] | None = None, step: int | None = None) -> None:
        flat = flatten(dict(params) if not isinstance(params, Mapping) else params)
        self.hparams.update(flat)  # saved as hparams.yaml, None as null
        # torch's summary leaves None out: a run without a value shows an empty cell, and the
        # column keeps the type of the runs that have one.
        _, session_start, _ = hparams_summary(flat, {})
        self.experiment.file_writer.add_summary(session_start)
        if metrics:
            self.log_metrics(metrics, step)


def tensorboard_writer(trainer: L.Trainer) -> Any:
    """The SummaryWriter of the trainer's first TensorBoard logger, on rank 0; None elsewhere or without one."""
    if trainer.global_rank != 0:
        return None
    return next((lg.experiment for lg in trainer.loggers if isinstance(lg, LightningTensorBoardLogger)), None)


#: Where a checkpoint keeps the MLflow run it was logged to, so that a later test or a resumed fit
#: of it logs into the same MLflow run (MLflow names runs by an id, not by their directory).
MLFLOW_RUN_KEY = "mlflow_run_id"


def logger_configs(logger: Any) -> list[Any]:
    """The ``class_path``/``init_args`` entries of ``--trainer.logger`` (one, a list, or none)."""
    entries = logger if isinstance(logger, list) else [logger]
    return [entry for entry in entries if hasattr(entry, "class_path") and hasattr(entry, "init_args")]


def is_logger(entry: Any, name: str) -> bool:
    """Whether a logger entry is of the class ``name`` (Lightning's or a subclass such as adder's)."""
    return str(entry.class_path).rsplit(".", 1)[-1] == name


def mlflow_run_of(ckpt_path: str | None) -> str | None:
    """The MLflow run a checkpoint file was logged to, if any (None for Lightning's aliases)."""
    if not ckpt_path or not os.path.isfile(str(ckpt_path)):
        return None
    return load_checkpoint(str(ckpt_path)).get(MLFLOW_RUN_KEY)


def absolute_sqlite_uri(uri: str | None) -> str | None:
    """``sqlite:///relative.db`` made absolute (from the working directory): the run's config.yaml
    then names the same store wherever a later test or resume runs, and MLflow, which keeps one
    store per URI text in a process, cannot mix up two directories' files."""
    prefix = "sqlite:///"
    if not uri or not uri.startswith(prefix) or uri.startswith(prefix + "/") or uri == prefix + ":memory:":
        return uri
    return prefix + os.path.abspath(uri[len(prefix) :])
