"""The best checkpoint, and a ``last.ckpt`` kept for preemption and resume."""

from __future__ import annotations

import os
from typing import Any
from weakref import proxy

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch import Tensor

from adder.training.run_dirs import same_path


class AdderCheckpoint(ModelCheckpoint):
    """ModelCheckpoint for the best checkpoint, plus a ``last.ckpt`` made for preemption and resume.

    ``last.ckpt`` is written by this callback, through the trainer's ``CheckpointIO`` (atomic, and
    never with non-finite weights, see :mod:`adder.training.checkpoint_io`): at every validation, every
    ``save_last_every_n_steps`` optimizer steps (so a killed run loses at most that many), when fit
    ends between two validations (max_steps), and when fit is stopped by SIGTERM or Ctrl-C (so
    resuming from it loses no step). Lightning's own ``save_last`` refreshes it only at a
    validation that also saved a best checkpoint, which a plateaued metric never does.

    A validation that ties the best score replaces the best checkpoint: a run whose validation
    is perfect from some step on keeps training (and decaying its learning rate), and the later
    model of two that validate the same has had more of it.

    Args:
        save_last: keep ``last.ckpt`` up to date as above.
        save_last_every_n_steps: also refresh it every this many steps; 0: only at validation,
            at the end and on interruption.
        **kwargs: as for :class:`~lightning.pytorch.callbacks.ModelCheckpoint` (the best checkpoints).
    """

    def __init__(self, *args: Any, save_last: bool = True, save_last_every_n_steps: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, save_last=False, **kwargs)
        if save_last_every_n_steps < 0:
            raise ValueError(f"checkpoint.save_last_every_n_steps must be >= 0, got {save_last_every_n_steps}")
        self.keep_last = save_last
        self.save_last_every_n_steps = save_last_every_n_steps
        self.last_saved_step: int | None = None

    def check_monitor_top_k(self, trainer: L.Trainer, current: Tensor | None = None) -> bool:
        if current is None or self.save_top_k == -1 or len(self.best_k_models) < self.save_top_k:
            return super().check_monitor_top_k(trainer, current)
        # ModelCheckpoint keeps the earlier of two equal scores; keep the later (class docstring).
        worst_kept = self.best_k_models[self.kth_best_model_path]
        better = bool(current <= worst_kept if self.mode == "min" else current >= worst_kept)
        return trainer.strategy.reduce_boolean_decision(better)

    def write_last(self, trainer: L.Trainer) -> None:
        """Write the whole training state to ``last.ckpt`` (all ranks call this together)."""
        if not self.last_model_path:  # a new run: never overwrite another run's last.ckpt
            path, version = self.format_checkpoint_name({}, self.CHECKPOINT_NAME_LAST), self.STARTING_VERSION
            # ... unless it is the one this fit resumed from (a run directory moved or copied
            # elsewhere: the saved dirpath no longer matches, so Lightning forgets last_model_path).
            resumed = trainer.ckpt_path
            while self.file_exists(path, trainer) and not (resumed and same_path(resumed, path)):
                path, version = self.format_checkpoint_name({}, self.CHECKPOINT_NAME_LAST, ver=version), version + 1
            self.last_model_path = path  # set before saving: it is part of the saved state
        trainer.save_checkpoint(self.last_model_path, self.save_weights_only)
        self.last_saved_step = trainer.global_step
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                logger.after_save_checkpoint(proxy(self))

    def _fitting(self, trainer: L.Trainer) -> bool:
        return self.keep_last and trainer.state.fn == "fit" and not trainer.sanity_checking and not trainer.fast_dev_run

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        n = self.save_last_every_n_steps
        if n and trainer.global_step % n == 0 and self._fitting(trainer):
            self.write_last(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)  # the best checkpoint
        if self._fitting(trainer):
            self.write_last(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        if self._fitting(trainer) and self.last_saved_step != trainer.global_step:
            self.write_last(trainer)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        # SIGTERM (and Ctrl-C, see Interruptible) stop the loop between two steps, so the state
        # is consistent: save it. Other exceptions may leave it half-updated: keep the last file.
        if not isinstance(exception, SIGTERMException) or not self._fitting(trainer):
            return
        if self.last_saved_step != trainer.global_step:
            self.write_last(trainer)
        config = os.path.join(trainer.log_dir or os.path.dirname(str(self.dirpath)), "config.yaml")
        rank_zero_info(
            f"stopped at step {trainer.global_step}; checkpoint saved: {self.last_model_path}\n"
            f"resume with: adder fit --config {config} --ckpt_path {self.last_model_path}"
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        # A resumed run writes into the same checkpoints/ folder, perhaps spelled differently
        # (relative vs absolute): treat it as the same folder, so that last.ckpt and the best
        # checkpoints are carried on instead of starting a last-v1.ckpt.
        old = state_dict.get("dirpath")
        if old and self.dirpath and old != self.dirpath and same_path(old, self.dirpath):
            state_dict = dict(state_dict, dirpath=self.dirpath)
            for key in ("best_model_path", "kth_best_model_path", "last_model_path"):
                state_dict[key] = self._moved(state_dict.get(key))
            best = state_dict.get("best_k_models") or {}
            state_dict["best_k_models"] = {self._moved(k): v for k, v in best.items()}
        super().load_state_dict(state_dict)

    def _moved(self, path: str | None) -> str | None:
        return os.path.join(str(self.dirpath), os.path.basename(path)) if path else path
