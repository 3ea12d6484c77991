"""Training, on Lightning: the CLI, ``AdderModule``, ``AdditionDataModule``, callbacks, tracking,
loggers, checkpoint IO, schedules and run directories; ``fit`` and ``test`` from Python (``api``,
which imports Lightning only when it runs)."""

import os

# jsonargparse 4.49+ warns about APIs that Lightning itself still calls; not actionable here. Set
# before any module of this package imports jsonargparse.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")

from adder.training.api import FitRecord, Interrupted, fit, test  # noqa: E402

__all__ = ["FitRecord", "Interrupted", "fit", "test"]
