"""Shared helpers for the benchmarks: repeated paired measurements, medians, machine facts."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from adder.models.config import ModelConfig

if TYPE_CHECKING:
    import torch

REPO = Path(__file__).resolve().parent.parent

#: The model the evaluation and start-up benchmarks time: the default until 2026-11-24, kept so
#: that their recorded results still compare.
BENCHMARK_MODEL = ModelConfig(cell="rnn", encoding="embedding", input_size=64, hidden_size=64, num_layers=2, base=10)
#: ``train.py fit`` flags that leave it the plain loop's work: no replay, zeros as the initial state.
PLAIN_LOOP_FLAGS = ("--model.replay_hardest", "0", "--model.state_noise", "0")


def describe_model(config: ModelConfig) -> str:
    """A recurrent model in words, e.g. "an RNN of two layers of 64 on a digit embedding of 64"."""
    layers = {1: "one layer", 2: "two layers"}.get(config.num_layers, f"{config.num_layers} layers")
    article = "a" if config.cell == "gru" else "an"
    return (
        f"{article} {config.cell.upper()} of {layers} of {config.hidden_size} "
        f"on a digit embedding of {config.input_size}"
    )


def summary(values: Sequence[float], digits: int = 1) -> str:
    """'median (min-max)' of repeated measurements."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def synchronize(device: str | torch.device) -> None:
    """Wait for queued GPU work, so that a host clock read after it counts that work (no-op on CPU)."""
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def machine() -> str:
    """One line describing where the figures were measured."""
    import lightning
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores visible, torch.get_num_threads()={torch.get_num_threads()}, {gpu}; "
        f"Python {platform.python_version()}, torch {torch.__version__}, Lightning {lightning.__version__}"
    )


def run_python(
    args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 1200
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` from the repository root with benchmarks/ importable."""
    environment = dict(os.environ, **(env or {}))
    environment["PYTHONPATH"] = os.pathsep.join([str(REPO), environment.get("PYTHONPATH", "")])
    environment.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=environment, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result
