"""Checks of a training command's configuration, made before anything is written: each raises
a one-line InputError."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.cli import instantiate_class

from adder.errors import InputError
from adder.models import ModelConfig
from adder.models.checkpoints import load_checkpoint, network_of
from adder.problems.suites import check_lengths, default_test_lengths, default_val_num_digits
from adder.training.arguments import AUTO
from adder.training.module import build_optimizers
from adder.training.run_dirs import CKPT_ALIASES, checkpoint_step
from adder.training.shorthand import flat_view, model_config_of, net_class, resolve_shorthand
from adder.verification.accepted import check_modelled


def check_checkpoint_fits_flags(ckpt_path: str, config: Any, model_flags: list[str]) -> None:
    """With --ckpt_path, Lightning takes the model's hyperparameters from the checkpoint, so a
    ``--model.*`` flag given beside it would be dropped without a word: refuse one that differs.
    ``base`` (and a fixed-length model's ``num_digits``) are linked from --data instead: a mismatch
    there would only surface as a state_dict size error."""
    hparams = checkpoint_view(load_checkpoint(ckpt_path).get("hyper_parameters") or {}, ckpt_path)
    for key in model_flags:
        value = config.model.get(key)
        if key in hparams and value is not None and value != hparams[key]:
            raise InputError(
                f"--model.{key} {value} would not be used: the model comes from {ckpt_path}, "
                f"which has {key}={hparams[key]}; drop the flag, or train a new model without --ckpt_path"
            )
    data = config.data
    keys = ["base"]
    if hparams.get("fixed_length"):
        keys.append("num_digits")
    for key in keys:
        if key in hparams and data.get(key) != hparams[key]:
            raise InputError(
                f"{ckpt_path} was trained with {key}={hparams[key]}, but data.{key} is "
                f"{data.get(key)}; pass --data.{key} {hparams[key]}"
            )


def checkpoint_view(hparams: dict[str, Any], ckpt_path: str) -> dict[str, Any]:
    """A checkpoint's hyperparameters as the flat keys of the shorthand flags, in either form
    (empty when they describe no adder network: instantiating the model says what is wrong)."""
    try:
        net = network_of(hparams, ckpt_path)
    except InputError:
        return {}
    if "net" not in hparams:  # written before the components: the flat keys themselves
        return {**hparams, "fixed_length": net.fixed_length}
    objectives = [instantiate_class((), spec) for spec in hparams.get("objectives") or []]
    others = {key: value for key, value in hparams.items() if key not in ("net", "objectives")}
    return {**others, **flat_view(net, objectives), "fixed_length": net.fixed_length}


#: Trainer flags whose values Lightning would take without a word, or fail on only mid-run (a
#: ZeroDivisionError, a run directory left behind): (flag, lowest value, what it means).
TRAINER_FLOORS = (
    ("val_check_interval", 1, "batches between validations"),
    ("check_val_every_n_epoch", 1, "epochs between validations"),
    ("accumulate_grad_batches", 1, "batches per optimizer step"),
    ("log_every_n_steps", 0, "steps between logged training metrics"),
    ("min_steps", 0, "steps"),
    ("gradient_clip_val", 0, "a gradient norm or value"),
    ("num_sanity_val_steps", -1, "batches (-1: all)"),
)


def check_trainer(trainer: Any) -> None:
    """Refuse trainer values that Lightning accepts but cannot run, or runs as something else."""
    max_steps = trainer.get("max_steps")
    if isinstance(max_steps, int) and not (max_steps == -1 or max_steps >= 1):
        raise InputError(f"trainer.max_steps must be a positive integer, or -1 for no limit, got {max_steps}")
    for flag, lowest, meaning in TRAINER_FLOORS:
        value = trainer.get(flag)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < lowest:
            raise InputError(f"trainer.{flag} must be >= {lowest} ({meaning}), got {value}")
    root = trainer.get("default_root_dir")
    if root and "://" not in str(root):
        check_can_create(Path(str(root)), "trainer.default_root_dir")
    interval = trainer.get("val_check_interval")
    if isinstance(interval, float) and not 0.0 < interval <= 1.0:
        raise InputError(f"trainer.val_check_interval as a fraction of an epoch must be in (0, 1], got {interval}")


def check_resume(ckpt_path: str, max_steps: int) -> int:
    """A fit resumed below the checkpoint's step would do nothing: refuse it. Returns the step."""
    step = checkpoint_step(ckpt_path)
    if max_steps != -1 and step > max_steps:
        raise InputError(
            f"{ckpt_path} is at step {step}, past --trainer.max_steps {max_steps}; "
            f"pass a --trainer.max_steps above {step} to train on"
        )
    return step


def check_can_create(path: Path, flag: str) -> None:
    """``path`` is a directory, or can be made one: its nearest existing ancestor is a writable directory."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: cannot create it ({existing} is not a writable directory)")


def check_optimizers(optimizer: Any, lr_scheduler: Any, max_steps: int) -> None:
    """Build the optimizer and schedule once on a stand-in parameter: torch checks their arguments
    only when fit builds them, after the run directory exists. torch also accepts lr=0 (a run that
    never learns); refuse that too, before anything is written."""
    lr = getattr(getattr(optimizer, "init_args", None), "lr", None)
    if isinstance(lr, (int, float)) and not (lr > 0 and math.isfinite(lr)):
        raise InputError(f"optimizer.lr must be a finite number > 0, got {lr}")
    if optimizer is not None:
        build_optimizers([torch.nn.Parameter(torch.zeros(1))], optimizer, lr_scheduler, max_steps)


def fit_data_to_model(data: Any, model: Any) -> None:
    """A fixed-length model (the MLP) is validated and tested at its own length unless told
    otherwise, and other lengths are refused up front rather than mid-run."""
    if not net_class(model.net).fixed_length:
        return
    fixed = data.num_digits
    if data.get("val_num_digits") is None:
        data.val_num_digits = default_val_num_digits(data.num_digits, fixed)
    if data.get("test_lengths") is None:
        data.test_lengths = default_test_lengths(data.num_digits, fixed)
    try:
        check_lengths("data.val_num_digits and data.test_lengths", [data.val_num_digits, *data.test_lengths], fixed)
    except ValueError as error:
        raise InputError(str(error)) from None


def check_verifiable(seconds: float | str, model: Any, refine: int) -> None:
    """--verify_after_fit: a positive time, and a model ``adder verify`` models (checked before the
    fit, so that a refusal does not come after minutes of training). ``auto`` skips a network verify
    does not model, unless --verify_refine asks for rounds of verify."""
    if seconds == AUTO and not refine:
        return
    if seconds != AUTO and not 0 < float(seconds) < math.inf:
        raise InputError(f"--verify_after_fit must be a positive number of seconds, got {seconds}")
    try:
        check_modelled(model_config_of(model) if model else ModelConfig())
    except InputError as error:
        flag = "--verify_refine" if seconds == AUTO else "--verify_after_fit"
        raise InputError(f"{flag}: {error}") from None


def check_refine(rounds: int, steps: int | None, seconds: float | None) -> None:
    """--verify_refine: a count of rounds, of positive --verify_refine_steps, after a verdict."""
    if rounds < 0:
        raise InputError(f"--verify_refine must be a number of rounds, 0 or more, got {rounds}")
    if steps is not None and steps < 1:
        raise InputError(f"--verify_refine_steps must be a positive number of steps, got {steps}")
    if rounds and seconds is None:
        raise InputError("--verify_refine trains on from a verdict: give --verify_after_fit SECONDS too")


def check_command_line(args: list[str], subcommand: str, config: Any) -> None:
    """The checks of a parsed command line that need its flags as given: the after-fit flags only
    with fit, a verifiable model for --verify_after_fit, and --model.* flags that a --ckpt_path
    would silently override. LightningCLI reads the model's hyperparameters from --ckpt_path right
    after parsing: a missing or corrupt file is one clear line here, not a traceback there."""
    names = [str(arg).split("=")[0] for arg in args]
    for flag in ("--test_after_fit", "--verify_after_fit", "--verify_refine", "--verify_refine_steps"):
        if subcommand != "fit" and flag in names:
            raise InputError(f"{flag} is a flag of adder fit, not of adder {subcommand}")
    if config.get("verify_after_fit") is not None:
        check_verifiable(config.verify_after_fit, config.get("model"), config.get("verify_refine") or 0)
    check_refine(config.get("verify_refine") or 0, config.get("verify_refine_steps"), config.get("verify_after_fit"))
    ckpt_path = config.get("ckpt_path")
    if ckpt_path and ckpt_path not in CKPT_ALIASES:
        given = [name[len("--model.") :] for name in names if name.startswith("--model.")]
        check_checkpoint_fits_flags(ckpt_path, config, given)


def prepare_config(config: Any, subcommand: str | None) -> int | None:
    """Check the trainer, the resume and the optimizers, and fold the model's shorthand flags in,
    before any class is built; returns the step of the checkpoint a fit resumes, else None."""
    check_trainer(config.trainer)
    ckpt_path = config.get("ckpt_path")
    resumed_step = None
    if subcommand == "fit" and ckpt_path and ckpt_path not in CKPT_ALIASES:
        resumed_step = check_resume(ckpt_path, config.trainer.max_steps)
    check_optimizers(config.get("optimizer"), config.get("lr_scheduler"), config.trainer.max_steps)
    if config.get("model"):
        resolve_shorthand(config.model)
        fit_data_to_model(config.data, config.model)
    return resumed_step
