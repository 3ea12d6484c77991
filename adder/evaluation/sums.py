"""The model's sums, written as numbers: what ``adder add`` prints and ``adder verify`` checks."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from adder.errors import InputError
from adder.models import DEFAULT_CHUNK_SIZE
from adder.problems.digits import format_digits, make_problems, stack_numbers

#: Problems run through the model together.
BATCH_SIZE = 256


def add_with_model(
    model: torch.nn.Module,
    problems: Sequence[tuple[list[int], list[int]]],
    base: int,
    num_digits: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[str]:
    """The model's sum for each (a, b) digit-list pair, written as numbers in ``base``.

    ``num_digits`` pads every problem to that many digits (required by the fixed-length MLP).
    Problems are batched by length so that short ones are not padded to the longest.
    """
    order = sorted(range(len(problems)), key=lambda i: max(len(problems[i][0]), len(problems[i][1])))
    sums: list[str] = [""] * len(problems)
    for start in range(0, len(order), BATCH_SIZE):
        rows = order[start : start + BATCH_SIZE]
        length = max(max(len(problems[i][0]), len(problems[i][1])) for i in rows)
        if num_digits is not None:
            if length > num_digits:
                raise InputError(f"this model adds numbers of at most {num_digits} digits, got {length}")
            length = num_digits
        a = stack_numbers([problems[i][0] for i in rows], length)
        b = stack_numbers([problems[i][1] for i in rows], length)
        a, b, _ = make_problems(a, b, base)  # one extra position for the final carry
        predicted = model.predict(a, b, chunk_size)
        for row, index in enumerate(rows):
            sums[index] = format_digits(predicted[row], base)
    return sums
