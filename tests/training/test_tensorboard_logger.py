"""The TensorBoard logger beside Lightning's own: what it writes that Lightning's does not (the
test's docstring says why); the HParams table of two real runs is test_tensorboard's."""

from __future__ import annotations

from pathlib import Path

import pytest
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger
from tensorboard.plugins.hparams import metadata as hparams_metadata

from adder.training.loggers import TensorBoardLogger
from tests.helpers.tensorboard import events


def written(logger: LightningTensorBoardLogger) -> set[str]:
    """The tags a logger wrote: each run's hyperparameters and a training step's metrics with
    Lightning's ``epoch`` among them (as its logger connector adds it)."""
    logger.log_hyperparams({"optimizer": "SGD", "optimizer.momentum": 0.9})
    logger.log_metrics({"epoch": 0, "train/loss": 1.0}, step=1)
    logger.finalize("success")
    run = events(Path(logger.log_dir))
    try:
        hparams = set(run.PluginTagToContent(hparams_metadata.PLUGIN_NAME))
    except KeyError:  # no HParams summary at all
        hparams = set()
    return {*run.Tags()["scalars"], *hparams}


@pytest.mark.parametrize("hp_metric", [True, False])
def test_why_not_lightnings_tensorboard_logger_hparams_compare_across_runs(tmp_path: Path, hp_metric: bool) -> None:
    """why not Lightning's TensorBoardLogger: with its hp_metric it writes an HParams *experiment*
    summary of this run's keys, and TensorBoard takes one run's for a whole log directory, so runs
    whose keys differ (Adam's against SGD's arguments) lose columns; without hp_metric it writes
    no HParams at all; and it logs Lightning's ``epoch``, always 0 on the endless stream. This one
    writes each run's hyperparameters as a session start only (TensorBoard then builds the table's
    columns from every run) and no ``epoch``."""
    lightning = written(LightningTensorBoardLogger(tmp_path, name="lightning", default_hp_metric=hp_metric))
    ours = written(TensorBoardLogger(tmp_path, name="adder", default_hp_metric=hp_metric))
    assert ("_hparams_/experiment" in lightning) is hp_metric and "epoch" in lightning
    assert ("_hparams_/session_start_info" in lightning) is hp_metric
    assert "_hparams_/session_start_info" in ours and "_hparams_/experiment" not in ours
    assert "epoch" not in ours and "train/loss" in ours
