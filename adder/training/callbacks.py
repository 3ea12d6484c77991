"""Callbacks the CLI adds to every run."""

from __future__ import annotations

import csv
import math
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from weakref import proxy

import lightning as L
from lightning.pytorch.callbacks import BasePredictionWriter, Callback, ModelCheckpoint, ProgressBar, TQDMProgressBar
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch import Tensor

from adder.evaluation.probe import probe_carry, probe_figure
from adder.models import RecurrentAdder
from adder.problems.suites import default_val_num_digits
from adder.training.loggers import tensorboard_writer
from adder.training.run_dirs import same_path

#: The default bar redraws every this many steps instead of every step (see use_step_progress_bar).
PROGRESS_BAR_REFRESH_RATE = 10


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


_interrupted_by = [signal.SIGTERM]


def interrupt_signal() -> int:
    """The signal that stopped the last fit: SIGINT after Ctrl-C, else SIGTERM."""
    return int(_interrupted_by[0])


class Interruptible(Callback):
    """Makes Ctrl-C stop fit the way SIGTERM does: after the current step, with a checkpoint.

    Lightning already turns SIGTERM into a stop between two steps; a KeyboardInterrupt instead
    lands anywhere, possibly halfway through an optimizer step. The first Ctrl-C therefore raises
    SIGTERM in this process, for Lightning's own handler; a second one interrupts at once.
    """

    def __init__(self) -> None:
        self._previous: Any = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be installed from the main thread

        def handler(signum: int, frame: Any) -> None:
            _interrupted_by[0] = signal.SIGINT
            rank_zero_info("\nCtrl-C: stopping after this step and saving a checkpoint (press again to abort)")
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.raise_signal(signal.SIGTERM)

        _interrupted_by[0] = signal.SIGTERM
        self._previous = signal.signal(signal.SIGINT, handler)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self._previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


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


class CarryProbe(Callback):
    """After ``test``, probes what each recurrent layer's hidden state holds (:mod:`adder.evaluation.probe`):
    logs ``test/carry_probe/layer<k>`` (held-out accuracy of a linear probe for the carry into the
    next position) and, with matplotlib and a TensorBoard logger, the states' 2-D projection
    coloured by that carry (Images tab, ``test/carry_probe``).

    Args:
        size: carry-rich problems probed; 0 turns the probe off.
        num_digits: their operand length; None: the validation length (10x the training one).
    """

    def __init__(self, size: int = 200, num_digits: int | None = None) -> None:
        if size < 0 or size == 1:
            raise ValueError(f"carry_probe.size must be 0 (off) or >= 2, got {size}")
        if num_digits is not None and num_digits < 1:
            raise ValueError(f"carry_probe.num_digits must be >= 1, got {num_digits}")
        self.size, self.num_digits = size, num_digits

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:

        model = getattr(pl_module, "model", None)
        if self.size == 0 or not isinstance(model, RecurrentAdder):
            return  # the MLP has no state that runs along the number
        num_digits = self.num_digits or _validation_length(trainer, pl_module)
        probes = probe_carry(model, model.base, num_digits, self.size)
        for probe in probes:
            pl_module.log(f"test/carry_probe/layer{probe.layer}", probe.accuracy, sync_dist=True)
        writer = tensorboard_writer(trainer)
        figure = probe_figure(probes, f"{model.cell}: hidden states at {num_digits} digits") if writer else None
        step = int(getattr(pl_module, "checkpoint_step", trainer.global_step))
        if figure is not None:
            writer.add_figure("test/carry_probe", figure, step)
        for probe in probes if writer is not None else []:
            # The Projector tab: the same states in full, to turn, search and colour by carry or position.
            labels = [[str(int(c)), str(int(p))] for c, p in zip(probe.carry, probe.positions)]
            writer.add_embedding(
                probe.states,
                metadata=labels,
                metadata_header=["carry", "position"],
                tag=f"carry_probe_layer{probe.layer}",
                global_step=step,
            )


def _validation_length(trainer: L.Trainer, pl_module: L.LightningModule) -> int:
    datamodule = getattr(trainer, "datamodule", None)
    sampler = getattr(datamodule, "val_sampler", None)
    if sampler is not None:
        return int(sampler.num_digits)
    config = pl_module.config
    return default_val_num_digits(config.num_digits, config.fixed_num_digits)
