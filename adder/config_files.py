"""The shipped configs (top-level ``configs/``, a folder per concern), found by name from any directory.

``configs/recipes/`` holds what to train (``rnn``, the default; ``lstm``, ``gru``, ...),
``configs/loggers/`` logger presets to combine with a recipe (``many_loggers``, ``mlflow``), and
``configs/studies/`` the study files ``adder sweep`` runs. ``adder fit --config lstm`` (or ``-c
lstm``) reads ``configs/recipes/lstm.yaml``; ``adder sweep hidden_size`` reads
``configs/studies/hidden_size.yaml``. A path to an existing file is always used as given. The
directory is ``configs/`` beside the package in a checkout, and ``adder/configs/`` once installed:
pyproject.toml maps it into the package, so there is one copy of each file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adder.errors import InputError

_PACKAGE = Path(__file__).resolve().parent
#: Installed: inside the package; in a checkout (editable or not installed): beside it.
CONFIG_DIR = next((d for d in (_PACKAGE / "configs", _PACKAGE.parent / "configs") if d.is_dir()), _PACKAGE / "configs")
RECIPE_DIR = CONFIG_DIR / "recipes"
LOGGER_DIR = CONFIG_DIR / "loggers"
STUDY_DIR = CONFIG_DIR / "studies"
#: Where ``--config NAME`` looks (a name is in one of them only: tests/test_config_files.py).
RUN_CONFIG_DIRS = (RECIPE_DIR, LOGGER_DIR)
#: The flags that name a config file.
CONFIG_FLAGS = ("-c", "--config")
#: The folders of the flat layout (``configs/lstm.yaml``, ``configs/experiments/cell.yaml``), whose
#: paths in older commands and notes still name the same files.
_FLAT_FOLDERS = ("configs", "experiments")


def shipped(*directories: Path) -> list[str]:
    """Names of the configs shipped in ``directories`` (default: those ``--config`` looks in)."""
    return sorted(path.stem for directory in directories or RUN_CONFIG_DIRS for path in directory.glob("*.yaml"))


def resolve(value: str, directories: Sequence[Path] = RUN_CONFIG_DIRS) -> str:
    """``value`` itself if it is a file, else the shipped config of that name, if there is one.

    Anything else is returned unchanged, for the caller to report as missing.
    """
    if Path(value).is_file():
        return value
    path = Path(value)
    if path.name != value and (path.suffix != ".yaml" or path.parent.name not in _FLAT_FOLDERS):
        return value  # a path is never taken for a name, except one of the flat layout's
    name = path.name if path.suffix == ".yaml" else f"{path.name}.yaml"
    return next((str(d / name) for d in directories if (d / name).is_file()), value)


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
