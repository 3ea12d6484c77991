"""The codec and the ground-truth adder, checked against Python int arithmetic."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from adder.problems.digits import (
    add_digits,
    carries_out,
    digits_to_int,
    format_digits,
    int_to_digits,
    make_problems,
    parse_number,
    stack_numbers,
)

bases = st.integers(min_value=2, max_value=36)
naturals = st.integers(min_value=0, max_value=10**60)


@given(naturals, bases)
def test_int_digits_round_trip(value: int, base: int) -> None:
    digits = int_to_digits(value, base)
    assert all(0 <= d < base for d in digits)
    assert digits_to_int(digits, base) == value
    assert format_digits(digits, base) == (format_digits(digits, base).lstrip("0") or "0")
    assert int(format_digits(digits, base), base) == value


@given(naturals, bases)
def test_parse_number_reads_what_format_writes(value: int, base: int) -> None:
    text = format_digits(int_to_digits(value, base), base)
    assert parse_number(text, base) == int_to_digits(value, base)
    assert parse_number("00" + text.upper(), base)[: len(text)] == int_to_digits(value, base)


@settings(max_examples=200)
@given(st.lists(st.tuples(naturals, naturals), min_size=1, max_size=8), bases)
def test_add_digits_matches_python_ints(pairs: list[tuple[int, int]], base: int) -> None:
    length = max(len(int_to_digits(v, base)) for pair in pairs for v in pair)
    a = stack_numbers([int_to_digits(x, base) for x, _ in pairs], length)
    b = stack_numbers([int_to_digits(y, base) for _, y in pairs], length)
    total = add_digits(a, b, base)
    assert total.shape == (len(pairs), length + 1)
    for row, (x, y) in enumerate(pairs):
        assert digits_to_int(total[row], base) == x + y


def test_add_digits_long_carry_chain() -> None:
    n = 5000
    a = torch.full((1, n), 9)
    b = torch.zeros(1, n, dtype=torch.int64)
    b[0, 0] = 1
    assert digits_to_int(add_digits(a, b, 10)[0]) == 10**n


@pytest.mark.parametrize(
    ("text", "base", "message"),
    [
        ("", 10, "empty"),
        ("12x", 10, "'x'"),
        ("19", 8, "outside base 8"),
        ("-5", 10, "non-negative"),
        ("1.5", 10, "'.'"),
    ],
)
def test_parse_number_rejects_bad_text(text: str, base: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_number(text, base)


def test_make_problems_pads_operands_for_the_carry() -> None:
    a, b, target = make_problems(torch.tensor([[9, 9]]), torch.tensor([[1, 0]]), 10)
    assert a.tolist() == [[9, 9, 0]] and b.tolist() == [[1, 0, 0]] and target.tolist() == [[0, 0, 1]]


def test_carries_out_match_long_addition() -> None:
    generator = torch.Generator().manual_seed(1)
    a, b = torch.randint(0, 7, (50, 12), generator=generator), torch.randint(0, 7, (50, 12), generator=generator)
    a, b, target = make_problems(a, b, 7)
    carry = carries_out(a, b, target, 7)
    for row in range(50):
        for position in range(12):  # the carry out of the low position+1 digits is their sum's overflow
            mask = 7 ** (position + 1)
            low = digits_to_int(a[row, : position + 1], 7) + digits_to_int(b[row, : position + 1], 7)
            assert int(carry[row, position]) == int(low >= mask)
