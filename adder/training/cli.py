"""The training command line: ``adder fit|validate|test|predict ...`` (also ``python train.py``).

Wiring only: LightningCLI with AdderModule and AdditionDataModule, the trainer defaults of the
default recipe, the project's callbacks, and each of LightningCLI's hooks handed to the module that
does the work: its flags (``arguments``), the checks of its input (``input_checks``), the run
directory it writes to (``run_dirs``), what it prints (``console``) and what fit does after
fitting (``after_fit``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import torch
from lightning import Trainer
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from adder.config_files import resolve_config_flags
from adder.errors import InputError, deepest_cause, fail, first_line
from adder.training.after_fit import after_fit
from adder.training.api import Interrupted, failure
from adder.training.arguments import SUBCOMMANDS, OneLineErrorParser, add_training_arguments, parser_kwargs
from adder.training.callbacks import (
    FitSummary,
    Interruptible,
    LoggerRuns,
    ScalarLayout,
    ValidationRecord,
    interrupt_signal,
    use_step_progress_bar,
)
from adder.training.console import (
    fit_start_note,
    quiet_inventory,
    quiet_known_warnings,
    report_predictions,
    report_test,
    report_validation,
    set_verbosity,
    take_verbose_flag,
)
from adder.training.data import AdditionDataModule
from adder.training.input_checks import check_command_line, prepare_config
from adder.training.legacy import register_legacy_modules
from adder.training.module import AdderModule
from adder.training.run_dirs import LOGGER_DEFAULTS, route_run, with_newest_run
from adder.training.shorthand import cell_of, network_error
from adder.training.threads import training_threads
from adder.training.tracking import RunConfig

#: Lightning's trainer_defaults, with every run's callbacks (``run_callbacks``) added in main.
TRAINER_DEFAULTS: dict[str, Any] = {
    "max_steps": 1250,  # the learning rate decays to 0 over these (DEFAULT_LR_SCHEDULER)
    "val_check_interval": 250,  # batches; the training stream has no epochs
    "check_val_every_n_epoch": None,  # count validation intervals across epochs (fixed-dataset mode)
    "log_every_n_steps": 25,
    "logger": {
        "class_path": "adder.training.loggers.TensorBoardLogger",
        # save_dir "." follows --trainer.default_root_dir (run_dirs.route_run)
        "init_args": {**LOGGER_DEFAULTS, "default_hp_metric": False},
    },
    "plugins": [{"class_path": "adder.training.checkpoint_io.AtomicCheckpointIO"}],
}


def run_callbacks(given: Sequence[Callback]) -> list[Callback]:
    """The callbacks every run has, new ones for each run (they keep state), and ``given`` in code
    (a study's trial reporter). The trainer orders them before the checkpoint callbacks, which then
    save what they noted at the same validation."""
    return [ValidationRecord(), Interruptible(), FitSummary(), LoggerRuns(), ScalarLayout(), *given]


class AdderCLI(LightningCLI):
    """LightningCLI's hooks, each handed to the module that does its work (the module docstring)."""

    resumed_step: int | None = None  # the step of the checkpoint a fit resumes

    def __init__(self, *args: Any, subcommand: str | None = None, **kwargs: Any) -> None:
        self.given_subcommand = subcommand
        super().__init__(*args, **kwargs)

    def subcommands(self) -> dict[str, set[str]]:  # type: ignore[override]
        # LightningCLI builds the parser of every subcommand on every run (docs/performance.md: what it costs):
        # the one the command line starts with is the one it can run; all four without one (--help).
        every = LightningCLI.subcommands()
        given = self.given_subcommand
        return {given: every[given]} if given in every else every

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        add_training_arguments(parser)

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        super().parse_arguments(parser, args)
        subcommand, given = self.config.get("subcommand"), list(args or [])
        config = self.config[subcommand] if subcommand else {}
        if subcommand in ("validate", "test", "predict") and not config.get("ckpt_path"):
            # Not a freshly initialised model: the run the user trained, as adder add finds it
            # (except in a fast_dev_run, a smoke run of the code on a fresh model that saves nothing).
            if not config.trainer.get("fast_dev_run"):
                super().parse_arguments(parser, with_newest_run(given, subcommand, config))
        if subcommand:
            set_verbosity(given, subcommand, self.config[subcommand])
            check_command_line(given, subcommand, self.config[subcommand])

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        self.resumed_step = prepare_config(config, self.subcommand)
        route_run(config, self.subcommand == "fit", self.resumed_step is not None)

    def instantiate_classes(self) -> None:
        # The classes check their own arguments (Lightning's Trainer and callbacks raise
        # MisconfigurationException, a missing accelerator backend ModuleNotFoundError): one line each.
        try:
            super().instantiate_classes()
        except (ValueError, TypeError, MisconfigurationException, ModuleNotFoundError) as error:
            config = self.config[self.subcommand] if self.subcommand else self.config
            cause = network_error(config.get("model"), config.get("data")) or deepest_cause(error)
            raise InputError(first_line(cause, last=True)) from error
        except OSError as error:  # a root or log directory that cannot be made
            raise InputError(f"cannot use {error.filename}: {error.strerror}") from error

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        # The bar replaces Lightning's default one here, not in trainer_defaults' callbacks: those are
        # added to the user's, and a bar the user gives would make two (which Lightning refuses).
        trainer = super().instantiate_trainer(**kwargs)
        given = self.config_init[self.subcommand].trainer.get("callbacks") or [] if self.subcommand else []
        use_step_progress_bar(trainer, given)
        return trainer

    def before_fit(self) -> None:
        config = self.config[self.subcommand]
        cell = cell_of(config.model) if config.get("model") else None
        note = fit_start_note(config, cell, self.resumed_step, self.trainer.max_steps)
        if note and self.trainer.is_global_zero:
            print(note, file=sys.stderr)

    def after_fit(self) -> None:
        after_fit(self.trainer, self.model, self.datamodule, self.config[self.subcommand])

    def after_validate(self) -> None:
        report_validation(self.trainer, self.model, bool(self.config[self.subcommand].get("verbose")))

    def after_test(self) -> None:
        report_test(self.trainer, bool(self.config[self.subcommand].get("verbose")))

    def after_predict(self) -> None:
        report_predictions(self.trainer)


def _close_process_group() -> None:
    # A DDP process group left for the interpreter's exit can abort it ("terminate called without
    # an active exception", status -6) while gloo's threads are torn down; close it once done.
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@training_threads()  # one torch thread unless OMP_NUM_THREADS says otherwise (adder.training.threads)
def run(args: ArgsType = None, callbacks: Sequence[Callback] = ()) -> AdderCLI:
    """The CLI in-process (``args`` as a list, default ``sys.argv[1:]``), with ``callbacks`` added
    to the trainer's; raises what adder.training.api lists instead of printing and exiting."""
    quiet_known_warnings()
    register_legacy_modules()
    if args is None or isinstance(args, (list, tuple)):
        args = resolve_config_flags(sys.argv[1:] if args is None else args)
    if isinstance(args, list):
        args, verbose = take_verbose_flag(args)
        quiet_inventory(not verbose)
    subcommand = args[0] if isinstance(args, list) and args and args[0] in SUBCOMMANDS else None
    try:
        cli = AdderCLI(
            AdderModule,
            AdditionDataModule,
            trainer_defaults={**TRAINER_DEFAULTS, "callbacks": run_callbacks(callbacks)},
            seed_everything_default=0,
            save_config_callback=RunConfig,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            parser_class=OneLineErrorParser,
            parser_kwargs=parser_kwargs(subcommand),
            args=args,
            subcommand=subcommand,
        )
    except MisconfigurationException as error:  # Lightning's own checks of a setting, made during a run
        raise InputError(first_line(error)) from error
    except SIGTERMException:
        raise Interrupted(interrupt_signal()) from None
    _close_process_group()
    return cli


def main(args: ArgsType = None, callbacks: Sequence[Callback] = ()) -> AdderCLI:
    """``run``, as a command: an error is one ``error:`` line and an exit status."""
    try:
        return run(args, callbacks)
    except Interrupted as stop:  # the checkpoint callback has said where it saved
        raise SystemExit(stop.status) from None
    except Exception as error:
        found = failure(error)
        if found is None:
            raise
        fail(*found)
