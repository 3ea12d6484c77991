"""The benchmark scripts still run and measure what they claim (not timings: see docs/performance.md)."""

from __future__ import annotations

import numpy as np

from adder.problems.digits import digits_to_int
from benchmarks.course_report import main as course_report_loop
from benchmarks.course_report import string_batch
from benchmarks.plain_loop import main as plain_loop


def test_course_report_generator_makes_true_sums() -> None:
    a, b, total = string_batch(50, np.random.default_rng(0))
    assert a.shape == b.shape == total.shape == (50, 11)
    for row in range(50):
        assert digits_to_int(a[row].tolist()) + digits_to_int(b[row].tolist()) == digits_to_int(total[row].tolist())


def test_course_report_loop_runs() -> None:
    assert course_report_loop(max_steps=3, eval_every=100) == {"steps": 3, "first_perfect_seconds": None}


def test_plain_loop_times_the_requested_steps() -> None:
    record = plain_loop(steps=3, warmup=1)
    assert record["steps"] == 3 and record["seconds"] > 0
