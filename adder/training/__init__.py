"""Training, on Lightning: the CLI, ``AdderModule``, ``AdditionDataModule``, callbacks, tracking,
loggers, checkpoint IO, schedules and run directories; ``fit`` and ``test`` from Python (``api``,
which imports Lightning only when it runs)."""

from adder.training.api import FitRecord, Interrupted, fit, test

__all__ = ["FitRecord", "Interrupted", "fit", "test"]
