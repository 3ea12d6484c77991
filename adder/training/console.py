"""What the training commands print: the summary after fit, the table after test, and the
warnings that say nothing a user can act on, filtered out."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

from lightning import Trainer

from adder.evaluation.reporting import exact_match_table


def quiet_known_warnings() -> None:
    """Filter the warnings that come from how this project uses Lightning, not from what a user did."""
    # The training stream is generated in the main process faster than a step consumes it.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # Lightning 2.6 with torch >= 2.10 warns about its own use of a deprecated pytree API.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    # The command line itself, with shipped config names resolved, is what is passed as args.
    warnings.filterwarnings("ignore", message=r"LightningCLI's args parameter is intended")


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


def test_summary(metrics: Mapping[str, Any]) -> str:
    """Exact match by kind and length, and the carry probe's accuracy per layer if it ran."""
    lines = [exact_match_table(metrics)]
    probes = sorted((key, float(value)) for key, value in metrics.items() if key.startswith("test/carry_probe/"))
    if probes:
        layers = ", ".join(f"{key.rpartition('/')[2]} {100 * value:.2f}%" for key, value in probes)
        lines.append(f"carry linearly readable from the hidden state (probe accuracy): {layers}")
    return "\n".join(lines)
