"""Digits as tensors: the one codec, the one ground-truth adder and the problem samplers.

Every number is a row of digits, least significant digit first (LSB first), so that position
``i`` of both operands and of the sum line up the way a person adds on paper. Nothing here
knows about Lightning or models; it is plain PyTorch on whatever device the tensors live on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

DIGIT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
MIN_BASE, MAX_BASE = 2, 36
#: Sampler names accepted in a training mixture.
TRAIN_SAMPLERS = ("digits", "range", "carry", "repeat")
#: Problem kinds an evaluation suite can hold.
EVAL_KINDS = ("random", "carry", "mixed", "edge")
#: Stream tags for make_generator, so that training, validation, evaluation and fixed-dataset
#: draws of one seed never share random numbers.
STREAM_TRAIN, STREAM_VAL, STREAM_EVAL, STREAM_FIXED = 0, 1, 2, 3
#: Problems per generated evaluation block; fixed so that a suite's problems do not depend on how
#: it is batched, and long suites never need all their digits in memory at once.
EVAL_BLOCK = 100


def check_base(base: int) -> int:
    """Return ``base`` if it is an int in 2..36, else raise a one-line ValueError."""
    if isinstance(base, bool) or not isinstance(base, int) or not MIN_BASE <= base <= MAX_BASE:
        raise ValueError(f"base must be an integer from {MIN_BASE} to {MAX_BASE}, got {base!r}")
    return base


def check_positive(name: str, value: int) -> int:
    """Return ``value`` if it is an int >= 1, else raise a one-line ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


#: Most digits one batch or one set of problems may hold (3 int64 tensors of this size: ~1.2 GB).
MAX_DIGITS_PER_SET = 50_000_000


def check_digit_budget(what: str, count: int, length: int) -> None:
    """Raise a one-line ValueError if ``count`` problems of ``length`` digits are too many to
    hold in memory (a typo like num_digits 1000000000 should be an error, not a frozen machine)."""
    if count * length > MAX_DIGITS_PER_SET:
        raise ValueError(
            f"{what} = {count} x {length} digits is too large (at most {MAX_DIGITS_PER_SET:,} digits per set)"
        )


# --------------------------------------------------------------------------------------------
# Codec: Python ints and strings <-> LSB-first digit lists and tensors.
# --------------------------------------------------------------------------------------------


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
    if stripped[0] in "+-":
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


# --------------------------------------------------------------------------------------------
# Ground truth: addition on digit tensors, vectorised over the batch and over positions.
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Samplers: each returns operands (a, b) of shape (batch, num_digits), LSB first, int64.
# --------------------------------------------------------------------------------------------


def make_generator(*keys: int) -> torch.Generator:
    """A CPU generator seeded from a tuple of non-negative ints, e.g. (seed, stream, rank, step).

    numpy's SeedSequence hashes the tuple, so neighbouring keys give unrelated streams (unlike
    ``seed + step``, where run seed 1 at step 0 would replay run seed 0 at step 1).
    """
    state = np.random.SeedSequence([int(k) for k in keys]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _mask_lengths(
    digits: Tensor, min_digits: int | None, generator: torch.Generator
) -> Tensor:
    """Zero the digits above a per-row length drawn uniformly from [min_digits, num_digits]."""
    num_digits = digits.shape[-1]
    if min_digits is None or min_digits == num_digits:
        return digits
    lengths = torch.randint(min_digits, num_digits + 1, (digits.shape[0], 1), generator=generator)
    return digits * (torch.arange(num_digits) < lengths)


def sample_digits(
    batch_size: int,
    num_digits: int,
    base: int,
    generator: torch.Generator,
    min_digits: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Uniform random digits; each operand's length is uniform in [min_digits, num_digits]."""
    a = torch.randint(0, base, (batch_size, num_digits), generator=generator)
    b = torch.randint(0, base, (batch_size, num_digits), generator=generator)
    return _mask_lengths(a, min_digits, generator), _mask_lengths(b, min_digits, generator)


def values_to_digits(values: Tensor, base: int, num_digits: int) -> Tensor:
    """LSB-first digits of a tensor of non-negative int64 values, shape (*values.shape, num_digits)."""
    digits = torch.empty(*values.shape, num_digits, dtype=torch.int64, device=values.device)
    rest = values.clone()
    for position in range(num_digits):  # at most 63 iterations: int64 holds < 2**63
        digits[..., position] = rest % base
        rest = rest // base
    if bool((rest != 0).any()):
        raise ValueError(f"values do not fit in {num_digits} base-{base} digits")
    return digits


def sample_range(
    batch_size: int,
    num_digits: int,
    base: int,
    generator: torch.Generator,
    start: int = 0,
    end: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Operands drawn uniformly from the integers in [start, end) (the course report's generator).

    ``end`` defaults to base**num_digits, i.e. every number of up to num_digits digits. The range
    must fit in int64, so this sampler is for short numbers; use ``sample_digits`` beyond that.
    """
    if end is None:
        end = base**num_digits
    if not 0 <= start < end:
        raise ValueError(f"range sampler needs 0 <= start < end, got start={start}, end={end}")
    if end > 2**63 - 1:
        raise ValueError(f"range sampler end={end} does not fit in int64; use the 'digits' sampler")
    if end - 1 >= base**num_digits:
        raise ValueError(f"range end={end} needs more than num_digits={num_digits} base-{base} digits")
    values = torch.randint(start, end, (2, batch_size), generator=generator)
    digits = values_to_digits(values, base, num_digits)
    return digits[0], digits[1]


def sample_carry(
    batch_size: int,
    num_digits: int,
    base: int,
    generator: torch.Generator,
    probability: float = 0.5,
    min_digits: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Carry-chain-rich operands: each position sums to base - 1 with ``probability``.

    A position that sums to base - 1 passes an incoming carry on, so runs of them make carries
    ripple far, the case uniform digits almost never show (a run of k needs probability base**-k).
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"carry probability must be in [0, 1], got {probability}")
    a, b = sample_digits(batch_size, num_digits, base, generator)
    chain = torch.rand(batch_size, num_digits, generator=generator) < probability
    b = torch.where(chain, base - 1 - a, b)
    return _mask_lengths(a, min_digits, generator), _mask_lengths(b, min_digits, generator)


def sample_repeat(
    batch_size: int,
    num_digits: int,
    base: int,
    generator: torch.Generator,
    min_digits: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Operands that repeat one random digit pair above a random lowest pair, like 99..9 + 1
    (a carry riding on (9, 0) pairs) or 55..5 + 55..5 (a new carry at every position).

    Uniform digits and carry chains vary the input at every position, so a gated cell can learn
    features that drift under the same input repeated, and lose the carry after a dozen or so
    positions of 99..9 + 1 (docs/results.md); these rows show it that case within training lengths.
    """
    a, b = sample_digits(batch_size, num_digits, base, generator)
    pair = torch.randint(0, base, (batch_size, 2, 1), generator=generator)
    a[:, 1:], b[:, 1:] = pair[:, 0], pair[:, 1]
    return _mask_lengths(a, min_digits, generator), _mask_lengths(b, min_digits, generator)


def sample_full_ripple(
    batch_size: int, num_digits: int, base: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Operands whose carry ripples through every position: the lowest pair sums to >= base and
    every other pair sums to exactly base - 1, so the sum is 1 followed by a low digit and zeros
    (e.g. 4999 + 5001 = 10000 in base 10)."""
    a = torch.randint(0, base, (batch_size, num_digits), generator=generator)
    b = base - 1 - a
    if base == 2:  # the only lowest pair summing to >= 2 is 1 + 1
        a[:, 0], b[:, 0] = 1, 1
    else:
        low_a = torch.randint(1, base, (batch_size,), generator=generator)
        # b_0 uniform in [base - a_0, base - 1] so that a_0 + b_0 >= base
        offset = (torch.rand(batch_size, generator=generator) * low_a).long()
        a[:, 0], b[:, 0] = low_a, base - low_a + offset
    return a, b


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


# --------------------------------------------------------------------------------------------
# ProblemSampler: a training mixture of the samplers above, as (a, b, target) batches.
# --------------------------------------------------------------------------------------------


def make_problems(a: Tensor, b: Tensor, base: int) -> tuple[Tensor, Tensor, Tensor]:
    """Model-ready (a, b, target): operands get one extra zero position for the final carry."""
    target = add_digits(a, b, base)
    pad = torch.zeros_like(a[..., :1])
    return torch.cat([a, pad], dim=-1), torch.cat([b, pad], dim=-1), target


@dataclass(frozen=True)
class ProblemSampler:
    """Draws batches of addition problems from a weighted mixture of samplers.

    Args:
        base: number base, 2..36.
        num_digits: operands have up to this many digits.
        min_digits: if set, each operand's length is uniform in [min_digits, num_digits].
        weights: sampler name -> relative weight, from "digits", "range", "carry", "repeat".
        carry_probability: per-position chain probability of the "carry" sampler.
        range_start, range_end: bounds of the "range" sampler, [start, end).
    """

    base: int = 10
    num_digits: int = 10
    min_digits: int | None = None
    weights: Mapping[str, float] = field(default_factory=lambda: {"digits": 1.0})
    carry_probability: float = 0.5
    range_start: int = 0
    range_end: int | None = None

    def __post_init__(self) -> None:
        check_base(self.base)
        check_positive("num_digits", self.num_digits)
        if self.min_digits is not None:
            check_positive("min_digits", self.min_digits)
            if self.min_digits > self.num_digits:
                raise ValueError(
                    f"min_digits ({self.min_digits}) must not exceed num_digits ({self.num_digits})"
                )
        if not self.weights:
            raise ValueError("the sampling mixture is empty; give at least one of " + ", ".join(TRAIN_SAMPLERS))
        for name, weight in self.weights.items():
            if name not in TRAIN_SAMPLERS:
                raise ValueError(f"unknown sampler {name!r}; choose from " + ", ".join(TRAIN_SAMPLERS))
            if not weight >= 0 or weight == float("inf"):
                raise ValueError(f"sampler weight for {name!r} must be finite and >= 0, got {weight}")
        if sum(self.weights.values()) <= 0:
            raise ValueError("sampler weights must not all be zero")
        if "range" in self.weights:  # fail at construction, not at the first batch
            sample_range(1, self.num_digits, self.base, torch.Generator(), self.range_start, self.range_end)
        if not 0.0 <= self.carry_probability <= 1.0:
            raise ValueError(f"carry_probability must be in [0, 1], got {self.carry_probability}")

    def operands(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Operands (a, b) of shape (batch_size, num_digits), rows drawn from the mixture."""
        names = [name for name, weight in self.weights.items() if weight > 0]
        probabilities = torch.tensor([float(self.weights[n]) for n in names])
        if len(names) == 1:
            counts = [batch_size]
        else:
            choice = torch.multinomial(probabilities, batch_size, replacement=True, generator=generator)
            counts = torch.bincount(choice, minlength=len(names)).tolist()
        parts = [self._sample(name, count, generator) for name, count in zip(names, counts) if count]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """A model-ready batch (a, b, target), each (batch_size, num_digits + 1) int64."""
        a, b = self.operands(batch_size, generator)
        return make_problems(a, b, self.base)

    def _sample(self, name: str, count: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        if name == "digits":
            return sample_digits(count, self.num_digits, self.base, generator, self.min_digits)
        if name == "carry":
            return sample_carry(
                count, self.num_digits, self.base, generator, self.carry_probability, self.min_digits
            )
        if name == "repeat":
            return sample_repeat(count, self.num_digits, self.base, generator, self.min_digits)
        return sample_range(count, self.num_digits, self.base, generator, self.range_start, self.range_end)


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
    kind: str, size: int, num_digits: int, base: int, seed: int, block_size: int = EVAL_BLOCK
) -> Iterator[tuple[Tensor, Tensor]]:
    """The evaluation suite (kind, num_digits) of ``seed`` as operand blocks of up to
    ``block_size`` problems. Block ``i`` comes from its own generator, so the suite is the same
    whether it is held whole (the data module) or streamed block by block (``adder evaluate``)."""
    if kind == "edge":
        yield edge_cases(num_digits, base)
        return
    kind_index = EVAL_KINDS.index(kind) if kind in EVAL_KINDS else -1
    if kind_index < 0:
        raise ValueError(f"unknown evaluation kind {kind!r}; choose from " + ", ".join(EVAL_KINDS))
    for index, start in enumerate(range(0, size, block_size)):
        generator = make_generator(seed, STREAM_EVAL, kind_index, num_digits, index)
        yield eval_operands(kind, min(block_size, size - start), num_digits, base, generator)
