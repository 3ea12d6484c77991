"""Evaluation suites: fixed, seeded problem sets by kind and length (random, carry, mixed, edge).

A suite is the same whether it is held whole (the data module's test sets) or streamed block by
block (``adder evaluate``), so both report on the same problems.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from adder.problems.digits import Batch, make_problems
from adder.problems.samplers import STREAM_EVAL, make_generator, sample_carry, sample_digits, sample_full_ripple

#: Problem kinds an evaluation suite can hold.
EVAL_KINDS = ("random", "carry", "mixed", "edge")
#: Problems per generated evaluation block; fixed so that a suite's problems do not depend on how
#: it is batched, and long suites never need all their digits in memory at once.
EVAL_BLOCK = 100
#: Problems per suite, unless told otherwise.
SUITE_SIZE = 2000
#: Default test lengths, as multiples of the training length: fit, 10x and 100x beyond it.
LENGTH_MULTIPLES = (1, 10, 100)
#: Default validation length as a multiple of the training length: beyond it, so that validation
#: checks generalisation, not only fit.
VAL_LENGTH_MULTIPLE = 10


# The one rule for which lengths a model is validated and tested at; a model of fixed length
# (the MLP) adds only numbers of its own length.
def default_test_lengths(num_digits: int, fixed_num_digits: int | None = None) -> list[int]:
    """LENGTH_MULTIPLES of the training length, or a fixed-length model's own length."""
    if fixed_num_digits is not None:
        return [fixed_num_digits]
    return [num_digits * k for k in LENGTH_MULTIPLES]


def default_val_num_digits(num_digits: int, fixed_num_digits: int | None = None, whole_numbers: bool = False) -> int:
    """VAL_LENGTH_MULTIPLE x the training length; the training length itself for a fixed-length model, or when the
    training numbers are drawn whole (the range sampler), as those cannot grow."""
    if fixed_num_digits is not None or whole_numbers:
        return num_digits
    return VAL_LENGTH_MULTIPLE * num_digits


def check_lengths(what: str, lengths: list[int], fixed_num_digits: int | None) -> None:
    """Raise a one-line ValueError if a fixed-length model is asked for any other length."""
    wrong = [n for n in lengths if fixed_num_digits is not None and n != fixed_num_digits]
    if wrong:
        raise ValueError(
            f"this model adds only {fixed_num_digits}-digit numbers, so {what} must be {fixed_num_digits}, "
            f"got {wrong[0]}"
        )


def edge_cases(num_digits: int, base: int) -> tuple[Tensor, Tensor]:
    """Fixed hand-picked problems of up to num_digits digits: zeros, all-max digits plus one,
    unequal lengths, and numbers written with leading zeros."""
    top = base - 1
    n = num_digits
    half = max(1, n // 2)
    pairs = [
        ([0] * n, [0] * n),  # 0 + 0
        ([top] * n, [1] + [0] * (n - 1)),  # 99..9 + 1: carry through every digit
        ([1] + [0] * (n - 1), [top] * n),  # 1 + 99..9: the same, operands swapped
        ([top] * n, [top] * n),  # 99..9 + 99..9: the largest sum
        ([top] * n, [0] * n),  # 99..9 + 0
        ([top] * n, [top] + [0] * (n - 1)),  # unequal lengths: n digits + 1 digit
        ([top] * half + [0] * (n - half), [1] + [0] * (n - 1)),  # leading zeros: 0..099 + 1
        ([1] * n, [top - 1] * n),  # 11..1 + 88..8 = 99..9: no carry at all
    ]
    a = torch.tensor([p[0] for p in pairs], dtype=torch.int64)
    b = torch.tensor([p[1] for p in pairs], dtype=torch.int64)
    return a, b


def eval_operands(
    kind: str, size: int, num_digits: int, base: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Operands of an evaluation set: ``size`` problems of exactly-``num_digits``-digit kind
    "random" (uniform digits), "carry" (full ripple), "mixed" (carry-rich, p=0.5) or "edge"
    (the fixed edge cases; ``size`` is ignored)."""
    if kind == "random":
        return sample_digits(size, num_digits, base, generator)
    if kind == "carry":
        return sample_full_ripple(size, num_digits, base, generator)
    if kind == "mixed":
        return sample_carry(size, num_digits, base, generator, probability=0.5)
    if kind == "edge":
        return edge_cases(num_digits, base)
    raise ValueError(f"unknown evaluation kind {kind!r}; choose from " + ", ".join(EVAL_KINDS))


def eval_blocks(
    kind: str,
    size: int,
    num_digits: int,
    base: int,
    seed: int,
    block_size: int = EVAL_BLOCK,
    stream: int = STREAM_EVAL,
) -> Iterator[tuple[Tensor, Tensor]]:
    """The evaluation suite (kind, num_digits) of ``seed`` as operand blocks of up to
    ``block_size`` problems. Block ``i`` comes from its own generator, so the suite is the same
    whether it is held whole (the data module) or streamed block by block (``adder evaluate``).
    ``stream`` keeps suites drawn for another purpose (validation) apart from the test suites."""
    if kind == "edge":
        yield edge_cases(num_digits, base)
        return
    if kind not in EVAL_KINDS:
        raise ValueError(f"unknown evaluation kind {kind!r}; choose from " + ", ".join(EVAL_KINDS))
    kind_index = EVAL_KINDS.index(kind)
    for index, start in enumerate(range(0, size, block_size)):
        generator = make_generator(seed, stream, kind_index, num_digits, index)
        yield eval_operands(kind, min(block_size, size - start), num_digits, base, generator)


def suite_problems(kind: str, size: int, num_digits: int, base: int, seed: int, stream: int = STREAM_EVAL) -> Batch:
    """The whole suite at once as model-ready (a, b, target): the same problems as ``eval_blocks``."""
    blocks = list(eval_blocks(kind, size, num_digits, base, seed, stream=stream))
    return make_problems(torch.cat([a for a, _ in blocks]), torch.cat([b for _, b in blocks]), base)
