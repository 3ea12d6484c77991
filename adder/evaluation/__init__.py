"""Evaluation, no Lightning: running suites in memory-bounded blocks, error bounds, the carry probe
and the tables and figures that report them."""
