"""The training command line: ``python train.py fit|validate|test|predict ...``.

A thin LightningCLI subclass: it wires AdderModule to AdditionDataModule, links the data's base
and length into the model, sets trainer defaults that train the default model to 100% exact match
in about a minute on a laptop CPU, and turns bad input into one-line errors.
"""

from __future__ import annotations

import math
import os
import sys
import warnings

# jsonargparse 4.49+ warns about APIs that Lightning itself still calls; not actionable here.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
from pathlib import Path
from typing import Any, NoReturn

import torch
from lightning import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch.optim import Optimizer
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.cli import ArgsType

from adder.callbacks import (
    AdderCheckpoint,
    AdderProgressBar,
    Interruptible,
    PredictionWriter,
    StopAtTarget,
    interrupt_signal,
)
from adder.checkpoints import CheckpointError, load_checkpoint
from adder.data import AdditionDataModule
from adder.module import AdderModule, NonFiniteLossError

TRAINER_DEFAULTS: dict[str, Any] = {
    "max_steps": 5000,
    "val_check_interval": 250,  # batches; the training stream has no epochs
    "check_val_every_n_epoch": None,  # count validation intervals across epochs (fixed-dataset mode)
    "log_every_n_steps": 25,
    "logger": {
        "class_path": "lightning.pytorch.loggers.TensorBoardLogger",
        # save_dir "." follows --trainer.default_root_dir (see AdderCLI.before_instantiate_classes)
        "init_args": {"save_dir": ".", "name": "lightning_logs", "default_hp_metric": False},
    },
}


PROGRESS_BAR_REFRESH_RATE = 10
#: --ckpt_path values Lightning resolves itself; anything else is a file.
CKPT_ALIASES = ("last", "best", "hpc", "registry")


class ConfigError(ValueError):
    """A configuration value was rejected by one of the classes it configures."""


class OneLineErrorParser(LightningArgumentParser):
    """Reports a bad command line or config as one ``error: ...`` line and exit status 2."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:
            super().error(message, ex)
        fail(" ".join(message.split()))


def fail(message: str, status: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)


class AdderCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.base", "model.base")
        parser.link_arguments("data.num_digits", "model.num_digits")

        parser.add_optimizer_args((torch.optim.Optimizer,))
        parser.set_defaults({"optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.001}}})

        parser.add_lightning_class_args(AdderCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/exact_match",
                "checkpoint.mode": "max",
                "checkpoint.save_last": True,
                "checkpoint.filename": "best-step{step}",
                "checkpoint.auto_insert_metric_name": False,
            }
        )
        # Stop once every validation sum is right, after at least min_steps (see docs/results.md:
        # runs stopped at their first perfect validation still missed ~0.1-0.4% of 1000-digit
        # sums). --early_stopping.target null trains to max_steps.
        parser.add_lightning_class_args(StopAtTarget, "early_stopping")
        parser.set_defaults({"early_stopping.min_steps": 3000})
        parser.add_lightning_class_args(PredictionWriter, "prediction_writer")

    @staticmethod
    def configure_optimizers(
        lightning_module: LightningModule, optimizer: Optimizer, lr_scheduler: Any = None
    ) -> Any:
        # The training stream has no epochs, so a scheduler from --lr_scheduler steps every
        # optimizer step (LightningCLI's default would step it at epoch ends, i.e. never).
        if lr_scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": lr_scheduler, "interval": "step"}}

    def _parse_ckpt_path(self) -> None:
        # LightningCLI reads the model's hyperparameters from --ckpt_path before any hook runs;
        # check the file first so that a missing or corrupt one is one clear line, not a traceback.
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if ckpt_path and ckpt_path not in CKPT_ALIASES:
            hparams = load_checkpoint(ckpt_path).get("hyper_parameters") or {}
            data = self.config[subcommand].data
            # The model's shape comes from the checkpoint, but base (and the MLP's length) are
            # linked from --data: a mismatch would only surface as a state_dict size error.
            for key in ("base", "num_digits") if hparams.get("cell") == "mlp" else ("base",):
                if key in hparams and data.get(key) != hparams[key]:
                    raise ConfigError(
                        f"{ckpt_path} was trained with {key}={hparams[key]}, but data.{key} is "
                        f"{data.get(key)}; pass --data.{key} {hparams[key]}"
                    )
        super()._parse_ckpt_path()

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        _check_learning_rate(config.get("optimizer"))
        if config.get("model") and config.model.get("cell") == "mlp":
            _fit_data_to_mlp(config.data)
        logger = config.trainer.logger
        if not getattr(logger, "class_path", "").endswith("TensorBoardLogger"):
            return
        root = config.trainer.default_root_dir
        if root and str(logger.init_args.save_dir) == ".":
            logger.init_args.save_dir = root
        run_dir = _run_dir_of(config.get("ckpt_path")) if self.subcommand == "fit" else None
        if run_dir is not None and logger.init_args.get("version") is None:
            # Resuming a run: keep logging into its directory (and its checkpoints/), no new version.
            logger.init_args.save_dir = str(run_dir.parent.parent)
            logger.init_args.name = run_dir.parent.name
            logger.init_args.version = run_dir.name

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer = super().instantiate_trainer(**kwargs)
        trainer.callbacks.append(Interruptible())
        bar = trainer.progress_bar_callback
        if type(bar) is TQDMProgressBar and bar.refresh_rate == 1:
            # Lightning's default bar redraws every step, ~3% of a step of the default model;
            # every 10th step reads the same. Ours also shows the training loss (AdderProgressBar).
            trainer.callbacks[trainer.callbacks.index(bar)] = AdderProgressBar(PROGRESS_BAR_REFRESH_RATE)
        return trainer

    def instantiate_classes(self) -> None:
        try:
            super().instantiate_classes()
        except (ValueError, TypeError) as error:
            raise ConfigError(_first_line(error)) from error


def _check_learning_rate(optimizer: Any) -> None:
    # torch accepts lr=0 (a run that never learns) and checks lr only when it builds the
    # optimizer, after the run directory exists; refuse it before anything is written.
    lr = getattr(getattr(optimizer, "init_args", None), "lr", None)
    if isinstance(lr, (int, float)) and not (lr > 0 and math.isfinite(lr)):
        raise ConfigError(f"optimizer.lr must be a finite number > 0, got {lr}")


def _fit_data_to_mlp(data: Any) -> None:
    # The MLP only adds numbers of exactly num_digits digits: validate and test at that length
    # unless told otherwise, and refuse other lengths up front rather than mid-run.
    n = data.num_digits
    if data.get("val_num_digits") is None:
        data.val_num_digits = n
    if data.get("test_lengths") is None:
        data.test_lengths = [n]
    wrong = [x for x in [data.val_num_digits, *data.test_lengths] if x != n]
    if wrong:
        raise ConfigError(
            f"the MLP adds only {n}-digit numbers, so data.val_num_digits and data.test_lengths must be {n}, got {wrong[0]}"
        )


def _run_dir_of(ckpt_path: str | None) -> Path | None:
    """The run directory (``.../<name>/version_N``) a checkpoint in its ``checkpoints/`` belongs to."""
    if not ckpt_path or ckpt_path in CKPT_ALIASES:
        return None
    path = Path(ckpt_path).resolve()
    run_dir = path.parent.parent
    if path.parent.name == "checkpoints" and (run_dir / "config.yaml").is_file():
        return run_dir
    return None


def _first_line(error: BaseException) -> str:
    # jsonargparse wraps the class's own message in context; the last non-empty line is the cause.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def main(args: ArgsType = None) -> AdderCLI:
    """Run the CLI (``args`` as a list for in-process use, default ``sys.argv[1:]``)."""
    # The training stream is generated in the main process faster than a step consumes it.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Lightning 2.6 with torch >= 2.10 warns about its own use of a deprecated pytree API.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    # The default Adam comes from --optimizer like any other optimizer, which replaces
    # AdderModule.configure_optimizers (kept for use without the CLI).
    warnings.filterwarnings("ignore", message=r".*configure_optimizers` will be overridden.*")
    # validate/test/predict log to a new run directory, so the checkpoint's own one "changed".
    warnings.filterwarnings("ignore", message=r".*The dirpath has changed from.*")
    try:
        return AdderCLI(
            AdderModule,
            AdditionDataModule,
            trainer_defaults=TRAINER_DEFAULTS,
            seed_everything_default=0,
            parser_class=OneLineErrorParser,
            save_config_kwargs={"overwrite": True},
            args=args,
        )
    except (ConfigError, CheckpointError) as error:
        fail(str(error))
    except NonFiniteLossError as error:
        fail(str(error), status=1)
    except SIGTERMException:
        # The checkpoint callback has said where it saved; exit like the signal would have.
        raise SystemExit(128 + interrupt_signal()) from None
