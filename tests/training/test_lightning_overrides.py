"""Use Lightning, don't fork it: every method that a class of the training layer overrides of a
Lightning class (or of its parser) is listed here with the reason and the test that shows it.
Where the class is one of Lightning's concrete components, not an extension point, that test's
docstring says "why not Lightning's ...": it runs Lightning's own beside it, or shows what it lacks.

A LightningModule's and a LightningDataModule's hooks are the model's and the data's own code, and
are not listed. A new override gets an entry here, or is replaced by Lightning's own component.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from functools import cache
from pathlib import Path

import lightning as L
import pytest
from lightning.pytorch.callbacks import BasePredictionWriter, Callback
from lightning.pytorch.cli import LightningCLI

import adder.training

TESTS = Path(__file__).resolve().parents[1]
#: Lightning's extension points: their hooks are meant to be written, the rest are components.
EXTENSION_POINTS = (Callback, BasePredictionWriter, LightningCLI)
#: LightningCLI's hooks that it calls by name when present (it defines none of them itself).
CLI_HOOK = re.compile(r"(before|after)_(fit|validate|test|predict)")
CHECKPOINT = "training/callbacks/test_checkpoint.py::test_why_not_lightnings_"
SAVE_LAST = CHECKPOINT + "save_last_last_ckpt_follows_every_validation_and_the_end"
BAR = "training/callbacks/test_progress_bar.py::test_why_not_lightnings_bar_"
STEP_BAR = BAR + "steps_of_an_endless_stream"
SIGNALS = "training/test_resume.py::test_sigterm_and_ctrl_c_save_a_checkpoint_that_loses_no_step"
TENSORBOARD = "training/test_tensorboard.py::test_tensorboard_shows_one_run_with_its_config_and_test_metrics"
FIT_THEN_TEST = "training/test_tracking.py::test_fit_then_tests_write_into_one_run"
RECORD = "training/test_newest_run.py::test_a_checkpoint_records_its_last_validation"
PREDICT = "training/test_cli.py::test_validate_test_predict_on_a_checkpoint"

#: "Class.method" -> (why it is overridden, the test that shows it).
OVERRIDES = {
    "AdderCheckpoint.__init__": ("save_last keeps last.ckpt for preemption; save_last_every_n_steps", SAVE_LAST),
    "AdderCheckpoint.on_train_batch_end": ("last.ckpt every save_last_every_n_steps steps", SAVE_LAST),
    "AdderCheckpoint.on_validation_end": ("last.ckpt at every validation, a best one or not", SAVE_LAST),
    "AdderCheckpoint.on_train_end": ("last.ckpt when fit ends between two validations", SAVE_LAST),
    "AdderCheckpoint.check_monitor_top_k": (
        "of equal scores the later is best",
        CHECKPOINT + "best_of_equal_scores_the_later_is_kept",
    ),
    "AdderCheckpoint.on_exception": (
        "last.ckpt on SIGTERM/Ctrl-C only, and how to resume",
        CHECKPOINT + "on_exception_checkpoint_only_a_stop_between_steps_saves_last",
    ),
    "AdderCheckpoint.load_state_dict": (
        "the same folder spelled otherwise is the same",
        CHECKPOINT + "load_state_dict_a_run_spelled_otherwise_keeps_its_best",
    ),
    "AdderProgressBar.get_metrics": (
        "the loss without a device read each step, no v_num",
        BAR + "metrics_the_loss_without_a_device_read_every_step",
    ),
    "AdderProgressBar.on_train_start": ("steps, not batches, of the endless stream (a resume too)", STEP_BAR),
    "AdderProgressBar.on_train_epoch_start": ("steps, not batches, of the endless stream", STEP_BAR),
    "AdderProgressBar.on_train_batch_end": ("steps, not batches, of the endless stream", STEP_BAR),
    "AdderProgressBar.on_exception": ("the error line starts a line of its own", BAR + "an_error_closes_the_bar"),
    "AdderProgressBar.on_test_batch_start": (
        "one test bar over every suite",
        "training/test_console.py::test_a_test_draws_one_bar_for_every_suite",
    ),
    "AdderProgressBar.on_test_batch_end": (
        "one test bar over every suite",
        "training/test_console.py::test_a_test_draws_one_bar_for_every_suite",
    ),
    "AtomicCheckpointIO.save_checkpoint": (
        "atomic local writes, no NaN weights",
        "training/test_checkpoint_io.py::test_interrupted_write_keeps_the_previous_checkpoint",
    ),
    "OneLineErrorParser.dump": (
        "--print_config shows the shorthand folded in",
        "training/test_shorthand.py::test_print_config_shows_the_shorthand_folded_in",
    ),
    "OneLineErrorParser.error": (
        "a bad command line is one line",
        "training/test_arguments.py::test_why_not_lightnings_parser_a_bad_value_is_one_line",
    ),
    "TensorBoardLogger.log_metrics": (
        "no epoch scalar",
        "training/test_tensorboard_logger.py::test_why_not_lightnings_tensorboard_logger_hparams_compare_across_runs",
    ),
    "TensorBoardLogger.log_hyperparams": (
        "HParams that compare across runs",
        "training/test_tensorboard_logger.py::test_why_not_lightnings_tensorboard_logger_hparams_compare_across_runs",
    ),
    "RunConfig.setup": ("a later stage writes <stage>_config.yaml", FIT_THEN_TEST),
    "RunConfig.save_config": ("the run's config as HParams (SaveConfigCallback's hook)", FIT_THEN_TEST),
    "AdderCLI.__init__": (
        "takes the subcommand the command line starts with",
        "training/test_cli.py::test_a_run_builds_the_parser_of_its_subcommand_only",
    ),
    "AdderCLI.subcommands": (
        "the parser of that subcommand only, not of all four",
        "training/test_cli.py::test_a_run_builds_the_parser_of_its_subcommand_only",
    ),
    "AdderCLI.add_arguments_to_parser": (
        "the project's flags (arguments.py)",
        "training/test_cli.py::test_constant_lr_config_is_the_previous_recipe",
    ),
    "AdderCLI.parse_arguments": (
        "the newest run without --ckpt_path; checks of the flags as given",
        "training/test_newest_run.py::test_an_evaluation_without_ckpt_path_uses_the_newest_run",
    ),
    "AdderCLI.before_instantiate_classes": (
        "checks before anything is written; the run directory",
        "training/test_run_dirs.py::test_a_moved_run_keeps_writing_its_last_checkpoint",
    ),
    "AdderCLI.instantiate_classes": (
        "a class's check of its arguments as one line",
        "test_bad_input.py::test_bad_input",
    ),
    "AdderCLI.instantiate_trainer": (
        "the step bar unless the user gives a bar",
        "training/test_cli.py::test_a_progress_bar_the_user_gives_is_used_as_given",
    ),
    "AdderCLI.before_fit": (
        "says how a resumed fit goes on",
        "training/test_run_dirs.py::test_a_resume_shows_the_step_bar_says_how_it_goes_on_and_does_not_warn_about_its_own_run",
    ),
    "AdderCLI.after_fit": (
        "the summary, --test_after_fit, --verify_after_fit",
        "training/test_loggers.py::test_fit_can_test_its_best_checkpoint_into_the_same_run",
    ),
    "AdderCLI.after_validate": (
        "the validation's figures",
        "training/test_console.py::test_validate_prints_its_figures",
    ),
    "AdderCLI.after_test": ("one compact table", FIT_THEN_TEST),
    "AdderCLI.after_predict": ("where the predictions went", PREDICT),
    "PredictionWriter.__init__": ("predictions.tsv in the run", PREDICT),
    "PredictionWriter.write_on_epoch_end": ("predictions.tsv in the run", PREDICT),
    "StopAtTarget.on_validation_end": (
        "stop at the target itself, after min_steps",
        "training/callbacks/test_stop_at_target.py::test_why_not_lightnings_early_stopping_the_target_itself_stops",
    ),
    "Interruptible.on_fit_start": ("Ctrl-C stops like SIGTERM", SIGNALS),
    "Interruptible.teardown": ("Ctrl-C stops like SIGTERM", SIGNALS),
    "ScalarLayout.on_fit_start": ("TensorBoard's Custom Scalars", TENSORBOARD),
    "ScalarLayout.on_test_start": ("TensorBoard's Custom Scalars", TENSORBOARD),
    "CarryProbe.on_test_epoch_end": ("the carry probe after test", TENSORBOARD),
    "LoggerRuns.on_save_checkpoint": (
        "a checkpoint names its MLflow run",
        "training/test_loggers.py::test_mlflow_holds_params_fit_and_test_in_one_run",
    ),
    "FitSummary.on_fit_start": ("the fit's time", FIT_THEN_TEST),
    "FitSummary.on_validation_end": ("the best validation", FIT_THEN_TEST),
    "FitSummary.on_train_end": ("logged when fit ends", FIT_THEN_TEST),
    "FitSummary.state_dict": ("carried across a resume", FIT_THEN_TEST),
    "FitSummary.load_state_dict": ("carried across a resume", FIT_THEN_TEST),
    "ValidationRecord.on_validation_end": ("the last validation in every checkpoint", RECORD),
    "ValidationRecord.on_save_checkpoint": ("the last validation in every checkpoint", RECORD),
    "ValidationRecord.on_load_checkpoint": ("the last validation in every checkpoint", RECORD),
}


def is_project(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "adder"


@cache
def overrides() -> dict[str, type]:
    """ "Class.method" -> the Lightning class it extends, for every override in adder.training."""
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(adder.training.__path__, "adder.training."):
        for cls in vars(importlib.import_module(info.name)).values():
            if (
                not inspect.isclass(cls)
                or cls.__module__ != info.name
                or issubclass(cls, (L.LightningModule, L.LightningDataModule))
            ):
                continue
            theirs = [base for base in cls.__mro__ if not is_project(base) and base is not object]
            lightning = next((base for base in theirs if base.__module__.startswith("lightning")), None)
            if lightning is None:
                continue
            ours = {name for base in cls.__mro__ if is_project(base) for name in vars(base)}
            for name in ours:
                hook = issubclass(cls, LightningCLI) and CLI_HOOK.fullmatch(name)
                if (name == "__init__" or not name.startswith("_")) and (hook or any(name in vars(b) for b in theirs)):
                    found[f"{cls.__name__}.{name}"] = lightning
    return found


def test_every_override_is_listed_with_its_reason_and_test() -> None:
    assert sorted(overrides()) == sorted(OVERRIDES), "list each override of Lightning in OVERRIDES, or drop it"


@cache
def functions_of(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("override", sorted(OVERRIDES))
def test_each_override_names_a_test_that_shows_why(override: str) -> None:
    reason, test = OVERRIDES[override]
    path, name = test.split("::")
    function = functions_of(TESTS / path).get(name)
    assert reason and function is not None, f"{override}: no test {test}"
    base = overrides()[override]
    if base not in EXTENSION_POINTS:  # one of Lightning's components, not a class made to extend
        docstring = ast.get_docstring(function) or ""
        assert "why not Lightning's" in docstring, f"{override} forks {base.__name__}: {test} must say why"
