"""Input checks shared by every layer: each raises a one-line ValueError naming the bad value."""

from __future__ import annotations

MIN_BASE, MAX_BASE = 2, 36
#: Most digits one batch or one set of problems may hold (3 int64 tensors of this size).
MAX_DIGITS_PER_SET = 50_000_000


def check_base(base: int) -> int:
    """Return ``base`` if it is an int in MIN_BASE..MAX_BASE, else raise a one-line ValueError."""
    if isinstance(base, bool) or not isinstance(base, int) or not MIN_BASE <= base <= MAX_BASE:
        raise ValueError(f"base must be an integer from {MIN_BASE} to {MAX_BASE}, got {base!r}")
    return base


def check_positive(name: str, value: int) -> int:
    """Return ``value`` if it is an int >= 1, else raise a one-line ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_digit_budget(what: str, count: int, length: int) -> None:
    """Raise a one-line ValueError if ``count`` problems of ``length`` digits are too many to
    hold in memory (a typo like num_digits 1000000000 should be an error, not a frozen machine)."""
    if count * length > MAX_DIGITS_PER_SET:
        raise ValueError(
            f"{what} = {count} x {length} digits is too large (at most {MAX_DIGITS_PER_SET:,} digits per set)"
        )
