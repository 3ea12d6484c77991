"""Digits as tensors: the codec between numbers and LSB-first digit rows, and the true adder.

Every number is a row of digits, least significant digit first (LSB first), so that position
``i`` of both operands and of the sum line up the way a person adds on paper. Plain PyTorch on
whatever device the tensors live on; nothing here knows about models or Lightning.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from adder.problems.checks import check_base

DIGIT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
#: Signs a number may be written with (ASCII, the Unicode minus and full-width forms), all refused.
SIGNS = "+-\u2212\u00b1\ufe62\ufe63\uff0b\uff0d"
#: One batch of problems: operands a, b and the target sum, each (problems, positions) int64.
Batch = tuple[Tensor, Tensor, Tensor]


def int_to_digits(value: int, base: int = 10, length: int | None = None) -> list[int]:
    """Digits of a non-negative ``value``, LSB first, zero-padded to ``length`` if given."""
    check_base(base)
    if value < 0:
        raise ValueError(f"only non-negative numbers can be added, got {value}")
    digits = []
    while value:
        value, digit = divmod(value, base)
        digits.append(digit)
    digits = digits or [0]
    if length is not None:
        if len(digits) > length:
            raise ValueError(f"{len(digits)} digits do not fit in length {length}")
        digits += [0] * (length - len(digits))
    return digits


def digits_to_int(digits: Sequence[int] | Tensor, base: int = 10) -> int:
    """The non-negative int whose LSB-first digits are ``digits``."""
    check_base(base)
    if isinstance(digits, Tensor):
        digits = digits.tolist()
    text = "".join(DIGIT_CHARS[d] for d in reversed(digits)) or "0"
    # int() parses in C, but refuses strings over 4300 digits (a DoS guard), so go by pieces.
    value, piece = 0, 4000
    for start in range(0, len(text), piece):
        chunk = text[start : start + piece]
        value = value * base ** len(chunk) + int(chunk, base)
    return value


def parse_number(text: str, base: int = 10) -> list[int]:
    """Parse a written number (MSB first, as people write it) into LSB-first digits.

    Raises a one-line ValueError for empty text, signs, or characters that are not digits of
    ``base``. Leading zeros are allowed and kept.
    """
    check_base(base)
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty number")
    if stripped[0] in SIGNS:
        raise ValueError(f"{stripped!r}: only non-negative numbers without a sign can be added")
    digits = []
    for char in reversed(stripped.lower()):
        value = DIGIT_CHARS.find(char)
        if value < 0:
            raise ValueError(f"{stripped!r}: {char!r} is not a digit")
        if value >= base:
            raise ValueError(f"{stripped!r}: digit {char!r} is outside base {base}")
        digits.append(value)
    return digits


def format_digits(digits: Sequence[int] | Tensor, base: int = 10) -> str:
    """Write LSB-first digits as a number, MSB first, without leading zeros."""
    check_base(base)
    if isinstance(digits, Tensor):
        digits = digits.tolist()
    text = "".join(DIGIT_CHARS[d] for d in reversed(digits)).lstrip("0")
    return text or "0"


def stack_numbers(numbers: Sequence[Sequence[int]], length: int) -> Tensor:
    """Stack LSB-first digit lists into a zero-padded (len(numbers), length) int64 tensor."""
    out = torch.zeros(len(numbers), length, dtype=torch.int64)
    for row, digits in enumerate(numbers):
        if len(digits) > length:
            raise ValueError(f"a number of {len(digits)} digits does not fit in length {length}")
        out[row, : len(digits)] = torch.as_tensor(list(digits), dtype=torch.int64)
    return out


def add_digits(a: Tensor, b: Tensor, base: int = 10) -> Tensor:
    """Exact sum of two LSB-first digit tensors of shape (..., L); returns shape (..., L + 1).

    No Python loop over positions: a position *generates* a carry when a_i + b_i >= base and
    *propagates* an incoming one when a_i + b_i == base - 1. The carry out of position i is
    therefore the generate bit of the nearest position j <= i that does not propagate, which a
    cumulative max over positions finds for every i at once.
    """
    check_base(base)
    if a.shape != b.shape:
        raise ValueError(f"operands must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    pair_sum = a + b
    generates = pair_sum >= base
    positions = torch.arange(a.shape[-1], device=a.device).expand_as(pair_sum)
    stops = torch.where(pair_sum != base - 1, positions, torch.full_like(positions, -1))
    last_stop = torch.cummax(stops, dim=-1).values
    carry_out = generates.gather(-1, last_stop.clamp(min=0)) & (last_stop >= 0)
    carry_in = torch.cat([torch.zeros_like(carry_out[..., :1]), carry_out[..., :-1]], dim=-1)
    digits = (pair_sum + carry_in) % base
    return torch.cat([digits, carry_out[..., -1:].to(digits.dtype)], dim=-1)


def make_problems(a: Tensor, b: Tensor, base: int) -> Batch:
    """Model-ready (a, b, target): operands get one extra zero position for the final carry."""
    target = add_digits(a, b, base)
    pad = torch.zeros_like(a[..., :1])
    return torch.cat([a, pad], dim=-1), torch.cat([b, pad], dim=-1), target


def carries_in(a: Tensor, b: Tensor, target: Tensor, base: int) -> Tensor:
    """The carry into every position (problems, positions) of model-ready problems (a, b, target)."""
    return (target - a - b) % base  # target = (a + b + carry in) mod base, and the carry is 0 or 1


def carries_out(a: Tensor, b: Tensor, target: Tensor, base: int) -> Tensor:
    """The carry out of every position (problems, positions): the carry into the next one (0 at
    the last, whose sum digit holds the final carry)."""
    carry_in = carries_in(a, b, target, base)
    return torch.cat([carry_in[..., 1:], torch.zeros_like(carry_in[..., :1])], dim=-1)
