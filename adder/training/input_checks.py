"""Checks of a training command's configuration, made before anything is written: each raises
a one-line InputError."""

from __future__ import annotations

import math
from typing import Any

import torch

from adder.errors import InputError
from adder.models import ModelConfig
from adder.models.checkpoints import load_checkpoint
from adder.problems.suites import check_lengths, default_test_lengths, default_val_num_digits
from adder.training.module import build_optimizers


def check_checkpoint_fits_data(ckpt_path: str, data: Any) -> None:
    """The model's shape comes from the checkpoint, but ``base`` (and a fixed-length model's
    ``num_digits``) are linked from --data: a mismatch would only surface as a state_dict size error."""
    hparams = load_checkpoint(ckpt_path).get("hyper_parameters") or {}
    keys = ["base"]
    try:
        if ModelConfig.from_hparams(hparams).fixed_num_digits is not None:
            keys.append("num_digits")
    except (KeyError, TypeError):
        pass  # not an adder checkpoint: instantiating the model says so
    for key in keys:
        if key in hparams and data.get(key) != hparams[key]:
            raise InputError(
                f"{ckpt_path} was trained with {key}={hparams[key]}, but data.{key} is "
                f"{data.get(key)}; pass --data.{key} {hparams[key]}"
            )


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
    fixed = ModelConfig(model.cell, num_digits=data.num_digits).fixed_num_digits
    if fixed is None:
        return
    if data.get("val_num_digits") is None:
        data.val_num_digits = default_val_num_digits(data.num_digits, fixed)
    if data.get("test_lengths") is None:
        data.test_lengths = default_test_lengths(data.num_digits, fixed)
    try:
        check_lengths("data.val_num_digits and data.test_lengths", [data.val_num_digits, *data.test_lengths], fixed)
    except ValueError as error:
        raise InputError(str(error)) from None
