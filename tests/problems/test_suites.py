"""Evaluation suites: full-ripple and edge problems are what they claim to be."""

import pytest

from adder.problems.digits import add_digits, digits_to_int
from adder.problems.samplers import make_generator
from adder.problems.suites import edge_cases, sample_full_ripple


@pytest.mark.parametrize("base", [2, 3, 10, 36])
def test_full_ripple_carries_through_every_position(base: int) -> None:
    n = 12
    a, b = sample_full_ripple(500, n, base, make_generator(5))
    assert bool(((a + b)[:, 0] >= base).all()) and bool(((a + b)[:, 1:] == base - 1).all())
    total = add_digits(a, b, base)
    assert bool((total[:, n] == 1).all()) and bool((total[:, 1:n] == 0).all())


def test_edge_cases_are_exact() -> None:
    a, b = edge_cases(6, 10)
    total = add_digits(a, b, 10)
    sums = [(digits_to_int(x), digits_to_int(y), digits_to_int(t)) for x, y, t in zip(a, b, total)]
    assert (999999, 1, 1000000) in sums and (0, 0, 0) in sums
    assert all(x + y == t for x, y, t in sums)
