"""The training command line: ``adder fit|validate|test|predict ...`` (also ``python train.py``).

A thin LightningCLI subclass: it wires AdderModule to AdditionDataModule, links the data's base
and length into the model, sets the trainer defaults of the default recipe, and turns bad input
into one-line errors before any run directory is made.
"""

from __future__ import annotations

import math
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

# jsonargparse 4.49+ warns about APIs that Lightning itself still calls; not actionable here.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")

import lightning  # noqa: E402
import torch  # noqa: E402
from jsonargparse import ActionConfigFile  # noqa: E402
from lightning import LightningModule, Trainer  # noqa: E402
from lightning.fabric.plugins.environments import SLURMEnvironment  # noqa: E402
from lightning.pytorch.callbacks import LearningRateMonitor, ProgressBar, TQDMProgressBar  # noqa: E402
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI, LRSchedulerTypeTuple  # noqa: E402
from lightning.pytorch.utilities.exceptions import SIGTERMException  # noqa: E402
from torch.optim import Optimizer  # noqa: E402

from adder.callbacks import (  # noqa: E402
    AdderCheckpoint,
    AdderProgressBar,
    CarryProbe,
    Interruptible,
    PredictionWriter,
    StopAtTarget,
    interrupt_signal,
)
from adder.checkpoints import load_checkpoint, run_dir_of  # noqa: E402
from adder.config_files import resolve_config_flags  # noqa: E402
from adder.data import AdditionDataModule  # noqa: E402
from adder.errors import InputError, OneLineErrors, fail  # noqa: E402
from adder.module import DEFAULT_LR_SCHEDULER, DEFAULT_OPTIMIZER, AdderModule, NonFiniteLossError  # noqa: E402
from adder.reporting import exact_match_table  # noqa: E402
from adder.schedules import stepwise  # noqa: E402
from adder.tracking import FitSummary, RunConfig  # noqa: E402

LOGGER_DEFAULTS = {"save_dir": ".", "name": "lightning_logs"}
TRAINER_DEFAULTS: dict[str, Any] = {
    "max_steps": 1250,  # the learning rate decays to 0 over these (DEFAULT_LR_SCHEDULER)
    "val_check_interval": 250,  # batches; the training stream has no epochs
    "check_val_every_n_epoch": None,  # count validation intervals across epochs (fixed-dataset mode)
    "log_every_n_steps": 25,
    "logger": {
        "class_path": "adder.loggers.TensorBoardLogger",
        # save_dir "." follows --trainer.default_root_dir (see AdderCLI.before_instantiate_classes)
        "init_args": {**LOGGER_DEFAULTS, "default_hp_metric": False},
    },
    "plugins": [{"class_path": "adder.checkpoint_io.AtomicCheckpointIO"}],
}
#: The default bar redraws every 10th step instead of every step (see AdderProgressBar).
PROGRESS_BAR_REFRESH_RATE = 10
#: --ckpt_path values Lightning resolves itself; anything else is a file.
CKPT_ALIASES = ("last", "best", "hpc", "registry")
#: The checkpoint Lightning saves on SLURM's requeue signal, in default_root_dir.
HPC_CHECKPOINT = re.compile(r"hpc_ckpt_(\d+)\.ckpt")


class OneLineErrorParser(OneLineErrors, LightningArgumentParser):
    pass


class AdderCLI(LightningCLI):
    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        kwargs.setdefault("dump_header", [f"lightning.pytorch=={lightning.__version__}"])
        parser = OneLineErrorParser(**kwargs)
        parser.add_argument(
            "-c", "--config", action=ActionConfigFile, help="a config file (YAML), or a shipped config's name"
        )
        return parser

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.base", "model.base")
        parser.link_arguments("data.num_digits", "model.num_digits")

        parser.add_optimizer_args((Optimizer,))
        parser.add_lr_scheduler_args(LRSchedulerTypeTuple)
        parser.set_defaults({"optimizer": DEFAULT_OPTIMIZER, "lr_scheduler": DEFAULT_LR_SCHEDULER})

        parser.add_lightning_class_args(AdderCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/exact_match",
                "checkpoint.mode": "max",
                "checkpoint.filename": "best-step{step}",
                "checkpoint.auto_insert_metric_name": False,
            }
        )
        # The default trains every step of its decaying learning rate (a first perfect validation
        # comes before the model is right far beyond it: docs/results.md); --early_stopping.target 1
        # stops at the first perfect validation after --early_stopping.min_steps.
        parser.add_lightning_class_args(StopAtTarget, "early_stopping")
        parser.set_defaults({"early_stopping.target": None})
        parser.add_lightning_class_args(PredictionWriter, "prediction_writer")
        parser.add_lightning_class_args(CarryProbe, "carry_probe")

    @staticmethod
    def configure_optimizers(lightning_module: LightningModule, optimizer: Optimizer, lr_scheduler: Any = None) -> Any:
        try:
            return stepwise(optimizer, lr_scheduler, lightning_module.trainer.max_steps)
        except ValueError as error:
            raise InputError(str(error)) from None

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        super().parse_arguments(parser, args)
        # LightningCLI reads the model's hyperparameters from --ckpt_path right after this hook;
        # check the file first, so that a missing or corrupt one is one clear line, not a traceback.
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if subcommand in ("validate", "test") and not any(arg.split("=")[0] == "--verbose" for arg in args or []):
            self.config[subcommand].verbose = False  # Lightning's per-dataloader tables; ours is after_test
        if ckpt_path and ckpt_path not in CKPT_ALIASES:
            hparams = load_checkpoint(ckpt_path).get("hyper_parameters") or {}
            data = self.config[subcommand].data
            # The model's shape comes from the checkpoint, but base (and the MLP's length) are
            # linked from --data: a mismatch would only surface as a state_dict size error.
            for key in ("base", "num_digits") if hparams.get("cell") == "mlp" else ("base",):
                if key in hparams and data.get(key) != hparams[key]:
                    raise InputError(
                        f"{ckpt_path} was trained with {key}={hparams[key]}, but data.{key} is "
                        f"{data.get(key)}; pass --data.{key} {hparams[key]}"
                    )

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        _check_learning_rate(config.get("optimizer"))
        if config.get("model") and config.model.get("cell") == "mlp":
            _fit_data_to_mlp(config.data)
        logger = config.trainer.logger
        # Only TensorBoard's run directories take more writers: a reused one gains an event file,
        # where Lightning's CSVLogger deletes the metrics.csv it finds (other loggers: a new run).
        if not str(getattr(logger, "class_path", "")).endswith("TensorBoardLogger"):
            return
        init_args = logger.init_args
        root = config.trainer.default_root_dir
        if root and str(init_args.save_dir) == LOGGER_DEFAULTS["save_dir"]:
            init_args.save_dir = root
        # fit resumes the run; validate, test and predict of a run's checkpoint add to that run.
        _log_into_resumed_run(init_args, config.get("ckpt_path"), root, self.subcommand == "fit")

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer = super().instantiate_trainer(**kwargs)
        trainer.callbacks += [Interruptible(), FitSummary()]
        config = self.config[self.subcommand] if self.subcommand else self.config
        if config.get("lr_scheduler") and trainer.loggers:
            trainer.callbacks.append(LearningRateMonitor(logging_interval="step"))
        bar = trainer.progress_bar_callback
        given = self.config_init[self.subcommand].trainer.get("callbacks") or [] if self.subcommand else []
        if type(bar) is TQDMProgressBar and not any(isinstance(c, ProgressBar) for c in given):
            # Lightning's default bar (the user gave none): ours redraws every 10th step, which reads
            # the same at a fraction of the cost, and shows the training loss (AdderProgressBar).
            trainer.callbacks[trainer.callbacks.index(bar)] = AdderProgressBar(PROGRESS_BAR_REFRESH_RATE)
        return trainer

    def instantiate_classes(self) -> None:
        try:
            super().instantiate_classes()
        except (ValueError, TypeError) as error:
            raise InputError(_first_line(error)) from error

    def after_fit(self) -> None:
        run_dir = self.trainer.log_dir or self.trainer.default_root_dir  # every rank: it broadcasts
        if self.trainer.is_global_zero:
            print(fit_summary(self.trainer, run_dir), file=sys.stderr)

    def after_test(self) -> None:
        if self.trainer.is_global_zero and not self.config[self.subcommand].get("verbose"):
            metrics = self.trainer.callback_metrics
            print(exact_match_table(metrics))
            probes = sorted(
                (key, float(value)) for key, value in metrics.items() if key.startswith("test/carry_probe/")
            )
            if probes:
                layers = ", ".join(f"{key.rpartition('/')[2]} {100 * value:.2f}%" for key, value in probes)
                print(f"carry linearly readable from the hidden state (probe accuracy): {layers}")


def fit_summary(trainer: Trainer, run_dir: str) -> str:
    """What a finished fit left behind and what to do next, as a few lines for the console."""
    checkpoint = trainer.checkpoint_callback
    last = getattr(checkpoint, "last_model_path", "") or "(none)"
    best = getattr(checkpoint, "best_model_path", "") or "(none)"
    value = trainer.callback_metrics.get("val/exact_match")
    lines = [
        "",
        f"run:      {run_dir}",
        f"val/exact_match at step {trainer.global_step}: "
        + ("(not validated)" if value is None else f"{float(value):.4f}"),
        f"best:     {best}",
        f"last:     {last}",
    ]
    if last != "(none)":
        config = os.path.join(run_dir, "config.yaml")
        lines += [
            "next:",
            f"  adder fit --config {config} --ckpt_path {last} --trainer.max_steps N   # train on",
            f"  adder test --ckpt_path {last}",
            f"  adder add --ckpt {last} 123 456",
        ]
    if trainer.loggers:
        lines.append(f"  tensorboard --logdir {os.path.dirname(run_dir)}")
    return "\n".join(lines)


def _check_learning_rate(optimizer: Any) -> None:
    # torch accepts lr=0 (a run that never learns) and checks lr only when it builds the
    # optimizer, after the run directory exists; refuse it before anything is written.
    lr = getattr(getattr(optimizer, "init_args", None), "lr", None)
    if isinstance(lr, (int, float)) and not (lr > 0 and math.isfinite(lr)):
        raise InputError(f"optimizer.lr must be a finite number > 0, got {lr}")


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
        raise InputError(
            f"the MLP adds only {n}-digit numbers, so data.val_num_digits and data.test_lengths must be {n}, "
            f"got {wrong[0]}"
        )


def _log_into_resumed_run(logger_args: Any, ckpt_path: str | None, root: str | None, fitting: bool) -> None:
    """A checkpoint of a run (--ckpt_path in its checkpoints/, or SLURM's requeue checkpoint when
    fitting): keep logging into its directory, same version, instead of starting a new one. A
    version, name or save_dir the user gave is used as given."""
    run_dir = _resumed_run_dir(ckpt_path, root or ".", fitting)
    if run_dir is None or logger_args.get("version") is not None:
        return
    if logger_args.name != LOGGER_DEFAULTS["name"] and logger_args.name != run_dir.parent.name:
        return
    if str(logger_args.save_dir) not in (LOGGER_DEFAULTS["save_dir"], root) and not _same_path(
        logger_args.save_dir, run_dir.parent.parent
    ):
        return
    logger_args.save_dir = str(run_dir.parent.parent)
    logger_args.name = run_dir.parent.name
    logger_args.version = run_dir.name


def _resumed_run_dir(ckpt_path: str | None, root: str, fitting: bool) -> Path | None:
    if ckpt_path and ckpt_path not in CKPT_ALIASES:
        return run_dir_of(ckpt_path)
    if fitting and (ckpt_path == "hpc" or (ckpt_path is None and SLURMEnvironment.detect())):
        # Lightning resumes a requeued SLURM job from the newest hpc_ckpt_N.ckpt in
        # default_root_dir; its run is the one whose checkpoints/ the checkpoint callback wrote.
        saved = [
            (int(m.group(1)), p) for p in Path(root).glob("hpc_ckpt_*.ckpt") if (m := HPC_CHECKPOINT.fullmatch(p.name))
        ]
        if saved:
            states = load_checkpoint(max(saved)[1]).get("callbacks") or {}
            for state in states.values():
                dirpath = state.get("dirpath") if isinstance(state, dict) else None
                if dirpath and (run_dir := run_dir_of(Path(dirpath) / "last.ckpt")) is not None:
                    return run_dir
    return None


def _same_path(a: Any, b: Any) -> bool:
    return Path(str(a)).resolve() == Path(str(b)).resolve()


def _first_line(error: BaseException) -> str:
    # jsonargparse wraps the class's own message in context; the last non-empty line is the cause.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _close_process_group() -> None:
    # A DDP process group left for the interpreter's exit can abort it ("terminate called without
    # an active exception", status -6) while gloo's threads are torn down; close it once done.
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def main(args: ArgsType = None) -> AdderCLI:
    """Run the CLI (``args`` as a list for in-process use, default ``sys.argv[1:]``)."""
    # The training stream is generated in the main process faster than a step consumes it.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Lightning 2.6 with torch >= 2.10 warns about its own use of a deprecated pytree API.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    # The default Adam comes from --optimizer like any other optimizer, which replaces
    # AdderModule.configure_optimizers (kept for use without the CLI).
    warnings.filterwarnings("ignore", message=r".*configure_optimizers` will be overridden.*")
    # The command line itself, with shipped config names resolved, is what is passed as args.
    warnings.filterwarnings("ignore", message=r"LightningCLI's args parameter is intended")
    if args is None or isinstance(args, (list, tuple)):
        args = resolve_config_flags(sys.argv[1:] if args is None else args)
    try:
        cli = AdderCLI(
            AdderModule,
            AdditionDataModule,
            trainer_defaults=TRAINER_DEFAULTS,
            seed_everything_default=0,
            save_config_callback=RunConfig,
            save_config_kwargs={"overwrite": True},
            args=args,
        )
        _close_process_group()
        return cli
    except InputError as error:
        fail(str(error))
    except NonFiniteLossError as error:
        fail(str(error), status=1)
    except SIGTERMException:
        # The checkpoint callback has said where it saved; exit like the signal would have.
        raise SystemExit(128 + interrupt_signal()) from None
