"""The configs that ship with the package (``adder/configs/``), found by name from any directory.

``adder fit --config lstm`` reads ``adder/configs/lstm.yaml``; ``adder sweep hidden_size`` reads
``adder/configs/experiments/hidden_size.yaml``. A path to an existing file is always used as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
EXPERIMENT_DIR = CONFIG_DIR / "experiments"


def shipped(directory: Path = CONFIG_DIR) -> list[str]:
    """Names of the configs shipped in ``directory``."""
    return sorted(path.stem for path in directory.glob("*.yaml"))


def resolve(value: str, directory: Path = CONFIG_DIR) -> str:
    """``value`` itself if it is a file, else the shipped config of that name, if there is one.

    Anything else is returned unchanged, for the caller to report as missing.
    """
    if Path(value).is_file():
        return value
    named = directory / (value if value.endswith(".yaml") else f"{value}.yaml")
    if Path(value).name == value and named.is_file():
        return str(named)
    return value


def resolve_config_flags(args: Sequence[str]) -> list[str]:
    """Command-line arguments with each ``--config NAME`` (or ``--config=NAME``) resolved."""
    resolved = list(args)
    for index, arg in enumerate(resolved):
        if arg == "--config" and index + 1 < len(resolved):
            resolved[index + 1] = resolve(resolved[index + 1])
        elif arg.startswith("--config="):
            resolved[index] = "--config=" + resolve(arg.removeprefix("--config="))
    return resolved
