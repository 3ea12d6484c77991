"""The shipped configs (top-level ``configs/``), found by name from any directory.

``adder fit --config lstm`` (or ``-c lstm``) reads ``configs/lstm.yaml``; ``adder sweep hidden_size``
reads ``configs/experiments/hidden_size.yaml``. A path to an existing file is always used as given.
The directory is ``configs/`` beside the package in a checkout, and ``adder/configs/`` once
installed: pyproject.toml maps it into the package, so there is one copy of each file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adder.errors import InputError

_PACKAGE = Path(__file__).resolve().parent
#: Installed: inside the package; in a checkout (editable or not installed): beside it.
CONFIG_DIR = next((d for d in (_PACKAGE / "configs", _PACKAGE.parent / "configs") if d.is_dir()), _PACKAGE / "configs")
EXPERIMENT_DIR = CONFIG_DIR / "experiments"
#: The flags that name a config file.
CONFIG_FLAGS = ("-c", "--config")


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
    """Command-line arguments with each ``-c NAME``/``--config NAME`` (or ``=NAME``) resolved.

    Raises InputError for a value that is neither a file nor a shipped config, naming the shipped ones.
    """
    resolved = list(args)
    for index, arg in enumerate(resolved):
        flag, equals, value = arg.partition("=")
        if flag not in CONFIG_FLAGS:
            continue
        if equals:
            resolved[index] = f"{flag}={_existing(value)}"
        elif index + 1 < len(resolved):
            resolved[index + 1] = _existing(resolved[index + 1])
    return resolved


def _existing(value: str) -> str:
    found = resolve(value)
    if not Path(found).is_file() and not any(mark in found for mark in ":{\n"):  # inline YAML is a config too
        raise InputError(f"no config file {value} and no shipped config of that name (shipped: {', '.join(shipped())})")
    return found
