"""What ``adder fit`` does once the fit is done: its summary, and on request a test of the best
checkpoint and a proof attempt on it, into the same run."""

from __future__ import annotations

import sys
from typing import Any

import lightning as L

from adder.errors import InputError
from adder.training.arguments import AUTO, AUTO_SECONDS
from adder.training.console import fit_summary, report_test


def after_fit(trainer: L.Trainer, model: L.LightningModule, datamodule: L.LightningDataModule, config: Any) -> None:
    """Print the fit's summary, then --test_after_fit and --verify_after_fit if asked for."""
    run_dir = trainer.log_dir or trainer.default_root_dir  # every rank: it broadcasts
    if trainer.is_global_zero:
        print(fit_summary(trainer, run_dir), file=sys.stderr)
    if config.get("test_after_fit"):
        then_test(trainer, model, datamodule)
    seconds = config.get("verify_after_fit")
    if seconds is not None and trainer.fast_dev_run:
        note(trainer, "a fast_dev_run saves no checkpoint")  # a smoke run of the code
    elif seconds is not None:
        rounds, steps = config.get("verify_refine") or 0, config.get("verify_refine_steps") or 250
        then_verify(trainer, model, datamodule, seconds, rounds, steps)


def note(trainer: L.Trainer, why: str) -> None:
    if trainer.is_global_zero:
        print(f"note: not verifying: {why}", file=sys.stderr)


def checkpoint_after_fit(trainer: L.Trainer, flag: str) -> str:
    """The best checkpoint of the fit (the last, if none was validated)."""
    best = best_or_last(trainer)
    if not best:
        raise InputError(f"{flag} needs a checkpoint, and this fit saved none")
    return best


def best_or_last(trainer: L.Trainer) -> str:
    checkpoint = trainer.checkpoint_callback
    return getattr(checkpoint, "best_model_path", "") or getattr(checkpoint, "last_model_path", "")


def then_test(trainer: L.Trainer, model: L.LightningModule, datamodule: L.LightningDataModule) -> None:
    """Test the fit's best checkpoint into the same run, and print its table."""
    best = checkpoint_after_fit(trainer, "--test_after_fit")
    if trainer.is_global_zero:
        print(f"testing {best}", file=sys.stderr)
    trainer.test(model, datamodule=datamodule, ckpt_path=best, verbose=False)
    report_test(trainer, verbose=False)


def then_verify(
    trainer: L.Trainer,
    model: L.LightningModule,
    datamodule: L.LightningDataModule,
    seconds: float | str,
    rounds: int = 0,
    steps: int = 250,
) -> None:
    """Run ``adder verify`` on the fit's best checkpoint and log and record its verdict; with
    ``rounds`` (--verify_refine), train on from what it found and verify again (adder.training.refine).
    ``auto``: for AUTO_SECONDS, and only where there is a checkpoint that verify accepts; a note
    says why not otherwise (the user asked for no verify, so the fit does not fail for it)."""
    from adder.training.refine import verify_and_refine

    if seconds == AUTO:
        best = best_or_last(trainer)
        why = refusal(best) if best else "this fit saved no checkpoint"
        if why:
            note(trainer, f"{why} (--verify_after_fit null turns this off)")
            return
        seconds = AUTO_SECONDS
    best = checkpoint_after_fit(trainer, "--verify_after_fit")
    verify_and_refine(trainer, model, datamodule, best, float(seconds), rounds, steps)


def refusal(path: str) -> str:
    """Why ``adder verify`` would refuse the checkpoint at ``path`` (its model, its weights), or ""
    if it accepts it. Every rank asks, and gets the same answer, before any rank starts a verify."""
    from adder.models.checkpoints import load_adder
    from adder.verification.accepted import UnsupportedModel
    from adder.verification.prove import check_accepted

    try:
        check_accepted(load_adder(path))
    except UnsupportedModel as error:
        return str(error)
    return ""
