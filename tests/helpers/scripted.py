"""A tiny fit whose validation scores follow a script, to put this project's callbacks beside
Lightning's own on the same run: which checkpoints each writes, and when."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.plugins.io import TorchCheckpointIO
from torch.utils.data import DataLoader, IterableDataset


class Endless(IterableDataset):
    """Zeros without end: like the training stream, a loader with no length and no epochs."""

    def __iter__(self) -> Any:
        while True:
            yield torch.zeros(1)


class ScriptedModule(L.LightningModule):
    """One weight; the k-th validation logs ``scores[k]`` as ``val/exact_match``."""

    def __init__(self, scores: Sequence[float]) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.scores, self.validations = list(scores), 0

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return (self.weight - 1).pow(2).sum()

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        score = self.scores[min(self.validations, len(self.scores) - 1)]
        self.log("val/exact_match", score)

    def on_validation_epoch_end(self) -> None:
        self.validations += 1

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(Endless(), batch_size=1)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(torch.zeros(1, 1), batch_size=1)


class SaveLog(TorchCheckpointIO):
    """Lightning's checkpoint IO, noting each file it writes as ``(name, step)``."""

    def __init__(self) -> None:
        super().__init__()
        self.saves: list[tuple[str, int]] = []
        self.final_step: int | None = None  # the step the fit ended at

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        super().save_checkpoint(checkpoint, path, storage_options)
        self.saves.append((os.path.basename(str(path)), int(checkpoint["global_step"])))

    def steps_of(self, name: str) -> list[int]:
        return sorted({step for saved, step in self.saves if saved == name})


class RaiseAtStep(Callback):
    """Raise ``error`` once ``step`` optimizer steps are done."""

    def __init__(self, step: int, error: BaseException) -> None:
        self.step, self.error = step, error

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step == self.step:
            raise self.error


def fit_scripted(
    root: Path,
    callbacks: list[Callback],
    scores: Sequence[float],
    max_steps: int = 8,
    val_every: int = 2,
    io: SaveLog | None = None,
    progress_bar: bool = False,
    **trainer_args: Any,
) -> SaveLog:
    """Fit ScriptedModule for ``max_steps`` steps, validating every ``val_every``; returns its saves."""
    io = io or SaveLog()
    trainer = L.Trainer(
        default_root_dir=root,
        max_steps=max_steps,
        val_check_interval=val_every,
        num_sanity_val_steps=0,
        logger=False,
        enable_progress_bar=progress_bar,
        enable_model_summary=False,
        callbacks=callbacks,
        plugins=[io],
        **trainer_args,
    )
    trainer.fit(ScriptedModule(scores))
    io.final_step = trainer.global_step
    return io
