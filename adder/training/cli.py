"""The training command line: ``adder fit|validate|test|predict ...`` (also ``python train.py``).

Wiring only: LightningCLI with AdderModule and AdditionDataModule, the data's base and length
linked into the model, the trainer defaults of the default recipe, and the project's callbacks.
The checks of its input (``input_checks``), the run directory it writes to (``run_dirs``) and what
it prints (``console``) live in modules of their own.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any

# jsonargparse 4.49+ warns about APIs that Lightning itself still calls; not actionable here.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")

import lightning  # noqa: E402
import torch  # noqa: E402
from jsonargparse import ActionConfigFile  # noqa: E402
from lightning import Trainer  # noqa: E402
from lightning.fabric.utilities.exceptions import MisconfigurationException  # noqa: E402
from lightning.pytorch.callbacks import Callback  # noqa: E402
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI, LRSchedulerTypeTuple  # noqa: E402
from lightning.pytorch.utilities.exceptions import SIGTERMException  # noqa: E402
from torch.optim import Optimizer  # noqa: E402

from adder.config_files import resolve_config_flags  # noqa: E402
from adder.errors import InputError, OneLineErrors, deepest_cause, fail, first_line  # noqa: E402
from adder.training.api import Interrupted, failure  # noqa: E402
from adder.training.callbacks import (  # noqa: E402
    AdderCheckpoint,
    CarryProbe,
    Interruptible,
    PredictionWriter,
    ScalarLayout,
    StopAtTarget,
    interrupt_signal,
    use_step_progress_bar,
)
from adder.training.console import (  # noqa: E402
    fit_summary,
    quiet_inventory,
    quiet_known_warnings,
    recipe_note,
    resume_note,
    take_verbose_flag,
    test_summary,
    validation_summary,
)  # noqa: E402
from adder.training.data import AdditionDataModule  # noqa: E402
from adder.training.input_checks import (  # noqa: E402
    check_checkpoint_fits_flags,
    check_optimizers,
    check_resume,
    check_trainer,
    check_verifiable,
    fit_data_to_model,
)
from adder.training.legacy import register_legacy_modules  # noqa: E402
from adder.training.loggers import LoggerRuns, absolute_sqlite_uri, is_logger, logger_configs, mlflow_run_of  # noqa: E402
from adder.training.module import (  # noqa: E402
    DEFAULT_LR_SCHEDULER,
    DEFAULT_OPTIMIZER,
    OPTIMIZER_ARGS,
    AdderModule,
    plain_spec,
)
from adder.training.provenance import header_lines, provenance  # noqa: E402
from adder.training.run_dirs import (  # noqa: E402
    CKPT_ALIASES,
    LOGGER_DEFAULTS,
    log_into_resumed_run,
    record_verdict,
    run_dir_without_logger,
    with_newest_run,
)
from adder.training.shorthand import (  # noqa: E402
    add_model_arguments,
    cell_of,
    network_error,
    resolve_shorthand,
    with_shorthand_folded,
)
from adder.training.threads import training_threads  # noqa: E402
from adder.training.tracking import FitSummary, RunConfig  # noqa: E402
from adder.training.validation_record import ValidationRecord  # noqa: E402

TRAINER_DEFAULTS: dict[str, Any] = {
    "max_steps": 1250,  # the learning rate decays to 0 over these (DEFAULT_LR_SCHEDULER)
    "val_check_interval": 250,  # batches; the training stream has no epochs
    "check_val_every_n_epoch": None,  # count validation intervals across epochs (fixed-dataset mode)
    "log_every_n_steps": 25,
    "logger": {
        "class_path": "adder.training.loggers.TensorBoardLogger",
        # save_dir "." follows --trainer.default_root_dir (see AdderCLI.before_instantiate_classes)
        "init_args": {**LOGGER_DEFAULTS, "default_hp_metric": False},
    },
    "plugins": [{"class_path": "adder.training.checkpoint_io.AtomicCheckpointIO"}],
}


SUBCOMMANDS = ("fit", "validate", "test", "predict")
HELP_USAGE = (
    "%(prog)s [-c CONFIG] [--model.* ...] [--data.* ...] [--optimizer ...] [--trainer.* ...] [--ckpt_path CKPT]"
)
HELP_DESCRIPTION = (
    "The flags to start with: -c/--config NAME, a shipped config (rnn, the default; lstm, gru, binary, "
    "smallest, ...) or a YAML file; --model.cell rnn|lstm|gru|mlp, --model.hidden_size, --model.input_size, "
    "--model.num_layers; --data.base, --data.num_digits, --data.batch_size; --optimizer.lr; "
    "--trainer.max_steps; --ckpt_path to resume or evaluate a checkpoint. --print_config shows every value. "
    "Every flag follows, grouped: the trainer's, then the model's (AdderModule) and the data's "
    "(AdditionDataModule)."
)


class OneLineErrorParser(OneLineErrors, LightningArgumentParser):
    def dump(self, cfg: Any, *args: Any, **kwargs: Any) -> str:
        # --print_config dumps before the CLI folds the shorthand flags in: show what will run.
        return super().dump(with_shorthand_folded(cfg), *args, **kwargs)


class AdderCLI(LightningCLI):
    def __init__(self, *args: Any, callbacks: Sequence[Callback] = (), **kwargs: Any) -> None:
        self.extra_callbacks = list(callbacks)  # given in code (a study's trial reporter), not by flags
        super().__init__(*args, **kwargs)

    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        kwargs.setdefault("dump_header", [f"lightning.pytorch=={lightning.__version__}", *header_lines(provenance())])
        parser = OneLineErrorParser(**kwargs)
        parser.add_argument(
            "-c", "--config", action=ActionConfigFile, help="a config file (YAML), or a shipped config's name"
        )
        return parser

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        add_model_arguments(parser)  # the default network, --data linked into it, the shorthand flags

        # The module builds its optimizer itself (AdderModule.configure_optimizers, the one place;
        # auto_configure_optimizers=False in main): the top-level --optimizer and --lr_scheduler
        # flags are linked into it as plain class_path/init_args dicts.
        parser.add_optimizer_args((Optimizer,))
        parser.add_lr_scheduler_args(LRSchedulerTypeTuple)
        parser.set_defaults({"optimizer": DEFAULT_OPTIMIZER, "lr_scheduler": DEFAULT_LR_SCHEDULER})
        for key in OPTIMIZER_ARGS:
            parser.link_arguments(key, f"model.{key}", compute_fn=plain_spec)

        parser.add_lightning_class_args(AdderCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/exact_match",
                "checkpoint.mode": "max",
                "checkpoint.filename": "best-step{step}",
                "checkpoint.auto_insert_metric_name": False,
            }
        )
        # The default trains every step of its decaying learning rate; --early_stopping.target 1
        # stops at the first perfect validation after --early_stopping.min_steps.
        parser.add_lightning_class_args(StopAtTarget, "early_stopping")
        parser.set_defaults({"early_stopping.target": None})
        # fit only; validate/test/predict take it too, so that they read a fit's config.yaml.
        parser.add_argument(
            "--test_after_fit",
            type=bool,
            default=False,
            help="adder fit: test the best checkpoint (the last, if none was validated) into the same run",
        )
        parser.add_argument(
            "--verify_after_fit",
            type=float | None,
            default=None,
            help="adder fit: run adder verify on the checkpoint --test_after_fit would test, for this many "
            "seconds, and log verify/proved and verify/counterexample (1 or 0) into the run",
        )
        parser.add_lightning_class_args(PredictionWriter, "prediction_writer")
        parser.add_lightning_class_args(CarryProbe, "carry_probe")

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else {}
        if subcommand in ("validate", "test", "predict") and not config.get("ckpt_path"):
            # Not a freshly initialised model: the run the user trained, as adder add finds it
            # (except in a fast_dev_run, a smoke run of the code on a fresh model that saves nothing).
            if not config.trainer.get("fast_dev_run"):
                super().parse_arguments(parser, with_newest_run(list(args or []), subcommand, config))
        # LightningCLI reads the model's hyperparameters from --ckpt_path right after this hook;
        # check the file first, so that a missing or corrupt one is one clear line, not a traceback.
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if subcommand in ("validate", "test") and not any(arg.split("=")[0] == "--verbose" for arg in args or []):
            self.config[subcommand].verbose = False  # Lightning's per-dataloader tables; ours is after_test
        if subcommand in ("validate", "test"):
            quiet_inventory(not self.config[subcommand].verbose)
        for flag in ("--test_after_fit", "--verify_after_fit"):
            if subcommand != "fit" and any(str(arg).split("=")[0] == flag for arg in args or []):
                raise InputError(f"{flag} is a flag of adder fit, not of adder {subcommand}")
        seconds = self.config[subcommand].get("verify_after_fit") if subcommand else None
        if seconds is not None:
            check_verifiable(seconds, self.config[subcommand].get("model"))
        if ckpt_path and ckpt_path not in CKPT_ALIASES:
            given = [arg[len("--model.") :].split("=")[0] for arg in args or [] if str(arg).startswith("--model.")]
            check_checkpoint_fits_flags(ckpt_path, self.config[subcommand], given)

    resumed_step: int | None = None  # the step of the checkpoint a fit resumes

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        check_trainer(config.trainer)
        ckpt_path = config.get("ckpt_path")
        if self.subcommand == "fit" and ckpt_path and ckpt_path not in CKPT_ALIASES:
            self.resumed_step = check_resume(ckpt_path, config.trainer.max_steps)
        check_optimizers(config.get("optimizer"), config.get("lr_scheduler"), config.trainer.max_steps)
        if config.get("model"):
            resolve_shorthand(config.model)
            fit_data_to_model(config.data, config.model)
        root = config.trainer.default_root_dir
        if config.trainer.logger is False or config.trainer.logger == []:  # no logger: still a run directory
            config.trainer.default_root_dir = run_dir_without_logger(root, ckpt_path, self.subcommand == "fit")
            self._quiet_own_checkpoint_dir(None, config.trainer.default_root_dir)
        for logger in logger_configs(config.trainer.logger):
            init_args = logger.init_args
            if root and str(init_args.get("save_dir")) == LOGGER_DEFAULTS["save_dir"]:
                init_args.save_dir = root  # "." follows --trainer.default_root_dir
            if is_logger(logger, "MLFlowLogger"):
                init_args.tracking_uri = absolute_sqlite_uri(init_args.get("tracking_uri"))
                if init_args.get("run_id") is None:
                    init_args.run_id = mlflow_run_of(ckpt_path)  # the run the checkpoint was logged to
            # Only TensorBoard's run directories take more writers: a reused one gains an event
            # file, where Lightning's CSVLogger deletes the metrics.csv it finds (a CSV gets a new run).
            if is_logger(logger, "TensorBoardLogger"):
                # fit resumes the run; validate, test and predict of a run's checkpoint add to it.
                log_into_resumed_run(init_args, ckpt_path, root, self.subcommand == "fit")
                self._quiet_own_checkpoint_dir(init_args)

    def _quiet_own_checkpoint_dir(self, init_args: Any, run_dir: str | None = None) -> None:
        if run_dir is None and init_args.get("version") is not None:
            run_dir = os.path.join(str(init_args.save_dir), str(init_args.name), str(init_args.version))
        if self.resumed_step is not None and run_dir is not None:
            # Its own checkpoints/ is not empty, of course: Lightning's warning is for new runs.
            own = os.path.join(run_dir, "checkpoints")
            warnings.filterwarnings(
                "ignore",
                message=rf"Checkpoint directory ({re.escape(own)}|{re.escape(os.path.abspath(own))}) exists",
            )

    def before_fit(self) -> None:
        config = self.config[self.subcommand]
        note = recipe_note(cell_of(config.model), config.get("config")) if config.get("model") else None
        if note and self.resumed_step is None and self.trainer.is_global_zero:
            print(note, file=sys.stderr)
        if self.resumed_step is not None and self.trainer.is_global_zero:
            note = resume_note(
                config.ckpt_path, self.resumed_step, self.trainer.max_steps, plain_spec(config.lr_scheduler)
            )
            print(note, file=sys.stderr)

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer = super().instantiate_trainer(**kwargs)
        trainer.callbacks += [Interruptible(), FitSummary(), LoggerRuns(), ScalarLayout(), *self.extra_callbacks]
        trainer.callbacks.insert(0, ValidationRecord())  # first: the checkpoint callbacks save what it notes
        given = self.config_init[self.subcommand].trainer.get("callbacks") or [] if self.subcommand else []
        use_step_progress_bar(trainer, given)
        return trainer

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

    def after_fit(self) -> None:
        run_dir = self.trainer.log_dir or self.trainer.default_root_dir  # every rank: it broadcasts
        if self.trainer.is_global_zero:
            print(fit_summary(self.trainer, run_dir), file=sys.stderr)
        if self.config[self.subcommand].get("test_after_fit"):
            self._test_after_fit()
        seconds = self.config[self.subcommand].get("verify_after_fit")
        if seconds is not None:
            self._verify_after_fit(seconds)

    def _checkpoint_after_fit(self, flag: str) -> str:
        """The best checkpoint of the fit (the last, if none was validated)."""
        checkpoint = self.trainer.checkpoint_callback
        best = getattr(checkpoint, "best_model_path", "") or getattr(checkpoint, "last_model_path", "")
        if not best:
            raise InputError(f"{flag} needs a checkpoint, and this fit saved none")
        return best

    def _verify_after_fit(self, seconds: float) -> None:
        from adder.models.checkpoints import load_adder
        from adder.verification.prove import COUNTEREXAMPLE, PROVED, verify

        best = self._checkpoint_after_fit("--verify_after_fit")
        if not self.trainer.is_global_zero:
            return
        print(f"verifying {best}", file=sys.stderr)
        status, line = verify(load_adder(best), seconds)
        print(line, file=sys.stderr)
        metrics = {"verify/proved": float(status == PROVED), "verify/counterexample": float(status == COUNTEREXAMPLE)}
        verdict = {PROVED: "proved", COUNTEREXAMPLE: "counterexample"}.get(status, "undecided")
        record_verdict(best, verdict)  # what adder add and evaluate read back
        for logger in self.trainer.loggers:
            logger.log_metrics(metrics, step=self.trainer.global_step)
            logger.save()

    def _test_after_fit(self) -> None:
        best = self._checkpoint_after_fit("--test_after_fit")
        if self.trainer.is_global_zero:
            print(f"testing {best}", file=sys.stderr)
        self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=best, verbose=False)
        self.after_test()

    def after_validate(self) -> None:
        if self.trainer.is_global_zero and not self.config[self.subcommand].get("verbose"):
            print(validation_summary(self.trainer.callback_metrics, self.model.checkpoint_step))

    def after_predict(self) -> None:
        writers = [c for c in self.trainer.callbacks if isinstance(c, PredictionWriter) and c.summary]
        if self.trainer.is_global_zero and writers:
            print(writers[0].summary)

    def after_test(self) -> None:
        if self.trainer.is_global_zero and not self.config[self.subcommand].get("verbose", False):
            print(test_summary(self.trainer.callback_metrics))


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
    try:
        cli = AdderCLI(
            AdderModule,
            AdditionDataModule,
            trainer_defaults=TRAINER_DEFAULTS,
            seed_everything_default=0,
            save_config_callback=RunConfig,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            callbacks=callbacks,
            # The first screen of `adder fit --help` says what a newcomer needs, not a hundred
            # lines of usage of every --trainer.* flag (they are all listed below, group by group).
            parser_kwargs={sub: {"usage": HELP_USAGE, "description": HELP_DESCRIPTION} for sub in SUBCOMMANDS},
            args=args,
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
