"""Training, on Lightning: the CLI, ``AdderModule``, ``AdditionDataModule``, callbacks, tracking,
loggers, checkpoint IO, schedules and run directories."""
