"""Drive the real CLI: in-process for speed, or ``adder`` in a subprocess where a process must die."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import torch

from adder.training.cli import AdderCLI, main

REPO = Path(__file__).resolve().parents[2]
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


#: The tests' fits verify only where their flags or configs say so (adder fit's default verifies).
VERIFY_OFF = ["--verify_after_fit", "null"]


def run_cli(subcommand: str, root: Path, *args: str) -> AdderCLI:
    """``adder SUBCOMMAND ...`` in-process, logging under ``root``; a fit is not verified unless
    ``args`` ask for it."""
    off = VERIFY_OFF if subcommand == "fit" else []
    return main([subcommand, "--trainer.default_root_dir", str(root), *QUIET, *off, *args])


def tiny_fit_args(steps: int, *extra: str) -> list[str]:
    """A few steps of a small model on 3-digit sums: seconds, not minutes."""
    return [
        "--trainer.max_steps",
        str(steps),
        "--trainer.val_check_interval",
        "3",
        "--trainer.log_every_n_steps",
        "1",
        "--data.num_digits",
        "3",
        "--data.batch_size",
        "32",
        "--data.val_size",
        "40",
        "--data.test_size",
        "40",
        "--model.hidden_size",
        "16",
        "--model.input_size",
        "8",
        "--early_stopping.target",
        "null",
        *extra,
    ]


def run_dirs(root: Path) -> list[Path]:
    return sorted((root / "lightning_logs").glob("version_*"), key=lambda p: int(p.name.split("_")[1]))


def adder_process(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``adder ARGS`` as its own process in ``cwd``, with the test helpers importable."""
    environment = dict(os.environ, **(env or {}))
    environment["PYTHONPATH"] = os.pathsep.join([str(REPO), environment.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "adder", *args]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)


def last_checkpoint(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)


def assert_same_state(a: dict, b: dict) -> None:
    """Two checkpoints hold the same step, weights and optimizer state, bit for bit."""
    assert a["global_step"] == b["global_step"]
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    for key, state in a["optimizer_states"][0]["state"].items():
        for name, value in state.items():
            assert torch.equal(value, b["optimizer_states"][0]["state"][key][name]), (key, name)


def signal_at(step: int, signum: str) -> list[str]:
    """Flags that make ``adder fit`` send itself ``signum`` once ``step`` steps are done."""
    return [
        "--trainer.callbacks+=tests.helpers.callbacks.SignalAtStep",
        "--trainer.callbacks.step",
        str(step),
        "--trainer.callbacks.signum",
        signum,
    ]


def adder_in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``adder ARGS`` for the commands that do not train (add, evaluate, verify), in-process: the
    exit status and what it printed, as a subprocess would give them, without its start-up."""
    from adder.__main__ import main as adder_main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = adder_main(list(args))
        except SystemExit as stop:  # argparse's errors
            status = stop.code if isinstance(stop.code, int) else 2
    return subprocess.CompletedProcess(["adder", *args], status, out.getvalue(), err.getvalue())
