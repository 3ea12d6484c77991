"""Module names of the flat layout before ``adder/`` was split into layers, kept importable for the
class paths that run configs of that time name (``adder.loggers.TensorBoardLogger``,
``adder.checkpoint_io.AtomicCheckpointIO``, ``adder.schedules.CosineDecay``, ...), so that their
runs resume and their configs still load."""

from __future__ import annotations

import importlib
import sys

#: Old module -> the module that now holds its classes.
LEGACY_MODULES = {
    "adder.callbacks": "adder.training.callbacks",
    "adder.checkpoint_io": "adder.training.checkpoint_io",
    "adder.data": "adder.training.data",
    "adder.loggers": "adder.training.loggers",
    "adder.module": "adder.training.module",
    "adder.schedules": "adder.training.schedules",
    "adder.tracking": "adder.training.tracking",
}


def register_legacy_modules() -> None:
    """Make each old module name import its new module (``importlib`` looks in ``sys.modules`` first)."""
    for old, new in LEGACY_MODULES.items():
        sys.modules.setdefault(old, importlib.import_module(new))
