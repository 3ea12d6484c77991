"""What the training commands print: a note as fit starts, the summary after fit, the figures
after validate, the table after test, and the warnings that say nothing a user can act on,
filtered out."""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning import Trainer

from adder.errors import InputError
from adder.evaluation.reporting import exact_match_table
from adder.training.arguments import AUTO_SECONDS
from adder.training.callbacks import PredictionWriter
from adder.training.module import plain_spec


def quiet_known_warnings() -> None:
    """Filter the warnings that come from how this project uses Lightning, not from what a user did."""
    # The training stream is generated in the main process faster than a step consumes it.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Lightning 2.6 with torch >= 2.10 warns about its own use of a deprecated pytree API.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    # The command line itself, with shipped config names resolved, is what is passed as args.
    warnings.filterwarnings("ignore", message=r"LightningCLI's args parameter is intended")


#: Lightning's INFO lines that say nothing about the run: its advertising tip and the inventory of
#: accelerators (the run's own device is in its HParams). ``--verbose true`` shows them.
INVENTORY = re.compile(r"💡 Tip:|(GPU|TPU|HPU|IPU) available:")
#: The loggers Lightning's rank_zero_info writes to (Fabric's and the Trainer's).
RANK_ZERO_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


class QuietInventory(logging.Filter):
    """Drops Lightning's INVENTORY lines while ``active``."""

    active = True

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.active and INVENTORY.match(str(record.msg)))


QUIET_INVENTORY = QuietInventory()


def quiet_inventory(active: bool) -> None:
    """Drop (or, with --verbose, show) Lightning's INVENTORY lines from here on."""
    QUIET_INVENTORY.active = active
    for name in RANK_ZERO_LOGGERS:
        logger = logging.getLogger(name)
        if QUIET_INVENTORY not in logger.filters:
            logger.addFilter(QUIET_INVENTORY)


def take_verbose_flag(args: list[str]) -> tuple[list[str], bool]:
    """``fit`` and ``predict`` have no --verbose of Lightning's (validate and test do): take theirs
    out of the command line and say whether it asks for Lightning's notices."""
    if not args or args[0] not in ("fit", "predict"):
        return args, False  # validate and test: their own flag, read once parsed
    rest, verbose, skip = [], False, False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--verbose" and index + 1 < len(args):
            verbose, skip = _truth(args[index + 1]), True
        elif arg.startswith("--verbose="):
            verbose = _truth(arg.partition("=")[2])
        else:
            rest.append(arg)
    return rest, verbose


def _truth(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise InputError(f"--verbose takes true or false, got {text!r}")


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
            # With loggers of its own (a list, CSV, MLflow) the test takes them from the run's config.
            f"  adder test {'' if _default_logger(trainer) else f'--config {config} '}--ckpt_path {last}",
            f"  adder add --ckpt {last} 123 456",
            f"  adder verify --ckpt {last} --time-limit {AUTO_SECONDS:g}   # prove it adds every sum, or find one it gets wrong",
        ]
    if any(type(logger).__name__ == "TensorBoardLogger" for logger in trainer.loggers):
        lines.append(f"  tensorboard --logdir {os.path.dirname(run_dir)}")
    return "\n".join(lines)


def _default_logger(trainer: Trainer) -> bool:
    return [type(logger).__name__ for logger in trainer.loggers] == ["TensorBoardLogger"]


def recipe_note(cell: str | None, config_files: Any) -> str | None:
    """For a gated cell trained without its shipped config: which config is its recipe (the
    defaults are the RNN's, and a gated cell on them drops long carries: docs/results.md)."""
    if cell not in ("lstm", "gru"):
        return None
    if any(Path(str(path)).name == f"{cell}.yaml" for path in config_files or []):
        return None
    return (
        f"note: the defaults are the RNN's recipe; the {cell.upper()}'s own is --config {cell} "
        "(docs/results.md says what each gets right)"
    )


def resume_note(ckpt_path: str, step: int, max_steps: int, lr_scheduler: Any) -> str:
    """What a resumed fit does: from which step to which, and how a schedule that follows the run
    continues (CosineDecay without total_steps decays over the new max_steps)."""
    line = f"resuming {ckpt_path} at step {step}, training to step {max_steps}"
    scheduler = lr_scheduler or {}
    init_args = scheduler.get("init_args") or {}
    if str(scheduler.get("class_path", "")).endswith("CosineDecay") and init_args.get("total_steps") is None:
        share = 0.5 * (1 + math.cos(math.pi * min(step, max_steps) / max_steps)) if max_steps > 0 else 0.0
        line += (
            f"; the learning rate's cosine now spans all {max_steps} steps, so it goes on at "
            f"{share:.3f} x its initial value and falls to 0 at step {max_steps}"
        )
    return line


def validation_summary(metrics: Mapping[str, Any], step: int) -> str:
    """The validation's figures on one line each, as the test's are a table."""
    rows = [(key, metrics[key]) for key in ("val/exact_match", "val/digit_acc") if key in metrics]
    if not rows:
        return "no validation results"
    width = max(len(key) for key, _ in rows)
    return "\n".join(
        [f"validation of the checkpoint at step {step}"] + [f"  {k:<{width}}  {100 * float(v):6.2f}%" for k, v in rows]
    )


def test_summary(metrics: Mapping[str, Any]) -> str:
    """Exact match by kind and length, and the carry probe's accuracy per layer if it ran."""
    lines = [exact_match_table(metrics)]
    probes = sorted((key, float(value)) for key, value in metrics.items() if key.startswith("test/carry_probe/"))
    if probes:
        layers = ", ".join(f"{key.rpartition('/')[2]} {100 * value:.2f}%" for key, value in probes)
        lines.append(f"carry linearly readable from the hidden state (probe accuracy): {layers}")
    return "\n".join(lines)


def set_verbosity(args: list[str], subcommand: str, config: Any) -> None:
    """validate and test print their own summary (report_validation, report_test) in place of
    Lightning's per-dataloader tables, unless --verbose is given; and drop INVENTORY unless verbose."""
    if subcommand not in ("validate", "test"):
        return
    if not any(str(arg).split("=")[0] == "--verbose" for arg in args):
        config.verbose = False
    quiet_inventory(not config.verbose)


def fit_start_note(config: Any, cell: str | None, resumed_step: int | None, max_steps: int) -> str | None:
    """What to say as fit starts: the step a resumed fit goes on from, or a gated cell's recipe."""
    if resumed_step is not None:
        return resume_note(config.ckpt_path, resumed_step, max_steps, plain_spec(config.lr_scheduler))
    return recipe_note(cell, config.get("config"))


def report_validation(trainer: Trainer, model: Any, verbose: bool) -> None:
    """After validate: its figures, unless --verbose printed Lightning's table."""
    if trainer.is_global_zero and not verbose:
        print(validation_summary(trainer.callback_metrics, model.checkpoint_step))


def report_predictions(trainer: Trainer) -> None:
    """After predict (once its bar is done): how many sums were right, and where they went."""
    writers = [c for c in trainer.callbacks if isinstance(c, PredictionWriter) and c.summary]
    if trainer.is_global_zero and writers:
        print(writers[0].summary)


def report_test(trainer: Trainer, verbose: bool) -> None:
    """After test: exact match by kind and length, unless --verbose printed Lightning's tables."""
    if trainer.is_global_zero and not verbose:
        print(test_summary(trainer.callback_metrics))
