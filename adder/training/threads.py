"""How many CPU threads a training command gives torch: one, unless the user says otherwise.

The adders are small: one step's ops are too short to be worth
splitting across cores, and when another process wants the same cores, torch's threads wait for
each other at every op, so a fit on two threads can run many times slower than on one
(docs/performance.md measures both, alone and beside a busy process). A value the user gives in
``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` is used as given.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

#: The environment variables through which a user sets torch's intra-op threads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: Intra-op threads for training when the user sets none.
DEFAULT_TRAINING_THREADS = 1


def threads_given() -> bool:
    """Whether the user chose a thread count through the environment."""
    return any(os.environ.get(name, "").strip() for name in THREAD_VARIABLES)


@contextmanager
def training_threads() -> Iterator[int]:
    """Run a command on DEFAULT_TRAINING_THREADS intra-op threads unless the user set a count;
    the previous count is restored afterwards, for callers that run commands in-process (studies,
    tests). Yields the count in use."""
    previous = torch.get_num_threads()
    if not threads_given():
        torch.set_num_threads(DEFAULT_TRAINING_THREADS)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)
