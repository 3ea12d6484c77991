"""The MLflow run a fit logged to, kept in every checkpoint (so a later test logs into it)."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from adder.training.loggers import MLFLOW_RUN_KEY


class LoggerRuns(Callback):
    """Writes into every checkpoint the id of the MLflow run the fit logged to (see MLFLOW_RUN_KEY)."""

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        for logger in trainer.loggers:
            if type(logger).__name__ == "MLFlowLogger" and getattr(logger, "_run_id", None):
                # Private: MLFlowLogger has no public read of its run id that does not start a run
                # (its run_id property creates one when none is open yet).
                checkpoint[MLFLOW_RUN_KEY] = logger._run_id
