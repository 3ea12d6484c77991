"""Training, on Lightning: the CLI, ``AdderModule``, ``AdditionDataModule``, callbacks, tracking,
loggers, checkpoint IO, schedules and run directories."""

import os

# jsonargparse 4.49+ warns about APIs that Lightning itself still calls; not actionable here. Set
# before any module of this package imports jsonargparse.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")
