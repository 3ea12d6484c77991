"""What ``adder fit`` does once the fit is done: its summary, and on request a test of the best
checkpoint and a proof attempt on it, into the same run."""

from __future__ import annotations

import sys
from typing import Any

import lightning as L

from adder.errors import InputError
from adder.training.console import fit_summary, report_test
from adder.training.run_dirs import record_verdict


def after_fit(trainer: L.Trainer, model: L.LightningModule, datamodule: L.LightningDataModule, config: Any) -> None:
    """Print the fit's summary, then --test_after_fit and --verify_after_fit if asked for."""
    run_dir = trainer.log_dir or trainer.default_root_dir  # every rank: it broadcasts
    if trainer.is_global_zero:
        print(fit_summary(trainer, run_dir), file=sys.stderr)
    if config.get("test_after_fit"):
        then_test(trainer, model, datamodule)
    if config.get("verify_after_fit") is not None:
        then_verify(trainer, config.verify_after_fit)


def checkpoint_after_fit(trainer: L.Trainer, flag: str) -> str:
    """The best checkpoint of the fit (the last, if none was validated)."""
    checkpoint = trainer.checkpoint_callback
    best = getattr(checkpoint, "best_model_path", "") or getattr(checkpoint, "last_model_path", "")
    if not best:
        raise InputError(f"{flag} needs a checkpoint, and this fit saved none")
    return best


def then_test(trainer: L.Trainer, model: L.LightningModule, datamodule: L.LightningDataModule) -> None:
    """Test the fit's best checkpoint into the same run, and print its table."""
    best = checkpoint_after_fit(trainer, "--test_after_fit")
    if trainer.is_global_zero:
        print(f"testing {best}", file=sys.stderr)
    trainer.test(model, datamodule=datamodule, ckpt_path=best, verbose=False)
    report_test(trainer, verbose=False)


def then_verify(trainer: L.Trainer, seconds: float) -> None:
    """Run ``adder verify`` on the fit's best checkpoint; log and record its verdict."""
    from adder.models.checkpoints import load_adder
    from adder.verification.prove import COUNTEREXAMPLE, PROVED, verify

    best = checkpoint_after_fit(trainer, "--verify_after_fit")
    if not trainer.is_global_zero:
        return
    print(f"verifying {best}", file=sys.stderr)
    status, line = verify(load_adder(best), seconds)
    print(line, file=sys.stderr)
    metrics = {"verify/proved": float(status == PROVED), "verify/counterexample": float(status == COUNTEREXAMPLE)}
    verdict = {PROVED: "proved", COUNTEREXAMPLE: "counterexample"}.get(status, "undecided")
    record_verdict(best, verdict)  # what adder add and evaluate read back
    for logger in trainer.loggers:
        logger.log_metrics(metrics, step=trainer.global_step)
        logger.save()
