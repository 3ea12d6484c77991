"""Which code a run ran: the git commit of the checkout (and whether it had uncommitted changes),
the versions of adder, torch, Lightning and Python, and the device. Written in config.yaml's header
and in the run's HParams (``provenance.*``)."""

from __future__ import annotations

import platform
import subprocess
from functools import cache
from pathlib import Path

import lightning
import torch

import adder

#: What a run from an installed package (no checkout) records as its commit.
NOT_A_CHECKOUT = "not a git checkout"


def git_state(directory: Path) -> tuple[str, str]:
    """(commit, dirty) of the git checkout holding ``directory``: dirty is "true" or "false";
    both NOT_A_CHECKOUT where there is no checkout (or no git)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10)
        if done.returncode != 0:
            raise OSError(done.stderr.strip())
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return NOT_A_CHECKOUT, NOT_A_CHECKOUT
    return commit, "true" if dirty else "false"


@cache
def provenance(directory: Path | None = None) -> dict[str, str]:
    """The code of this process: git state of the package's checkout, and package versions."""
    commit, dirty = git_state(directory or Path(adder.__file__).resolve().parent)
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "adder": adder.__version__,
        "torch": str(torch.__version__),  # a TorchVersion, which YAML would write as an object
        "lightning": lightning.__version__,
        "python": platform.python_version(),
    }


def device_name(device: torch.device) -> str:
    """The device a run trained on, in words (a GPU by its name)."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"{device.type}: {cpu_name()}"


def cpu_name() -> str:
    """The processor's model name where the OS says it (Linux), else its architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header_lines(values: dict[str, str]) -> list[str]:
    """config.yaml's header: one ``key: value`` comment line per provenance value."""
    return [f"{key}: {value}" for key, value in values.items()]
