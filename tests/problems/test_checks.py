"""Input checks: one-line errors naming the bad value."""

import pytest

from adder.problems.checks import check_base, check_digit_budget, check_positive
from adder.problems.digits import int_to_digits


@pytest.mark.parametrize("base", [1, 37, 0, True, 10.0])
def test_bad_base_rejected(base: object) -> None:
    with pytest.raises(ValueError, match="base must be"):
        check_base(base)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base must be"):
        int_to_digits(5, base)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -3, True, 2.0])
def test_check_positive_names_the_value(value: object) -> None:
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        check_positive("hidden_size", value)  # type: ignore[arg-type]
    assert check_positive("hidden_size", 7) == 7


def test_digit_budget() -> None:
    check_digit_budget("a set", 1000, 1000)
    with pytest.raises(ValueError, match="a set = 100000 x 1000 digits is too large"):
        check_digit_budget("a set", 100_000, 1000)
