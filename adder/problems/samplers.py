"""Training problems: seeded generators, the samplers and their weighted mixture.

Each sampler returns operands (a, b) of shape (batch, num_digits), LSB first, int64.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from adder.problems.checks import check_base, check_positive
from adder.problems.digits import Batch, make_problems

#: Stream tags for make_generator, so that training, validation, evaluation and fixed-dataset
#: draws of one seed never share random numbers.
STREAM_TRAIN, STREAM_VAL, STREAM_EVAL, STREAM_FIXED = 0, 1, 2, 3


def make_generator(*keys: int) -> torch.Generator:
    """A CPU generator seeded from a tuple of non-negative ints, e.g. (seed, stream, rank, step).

    numpy's SeedSequence hashes the tuple, so neighbouring keys give unrelated streams (unlike
    ``seed + step``, where run seed 1 at step 0 would replay run seed 0 at step 1).
    """
    state = np.random.SeedSequence([int(k) for k in keys]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _mask_lengths(digits: Tensor, min_digits: int | None, generator: torch.Generator) -> Tensor:
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
    features that drift under the same input repeated and lose the carry along 99..9 + 1; these
    rows show it that case within training lengths.
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
                raise ValueError(f"min_digits ({self.min_digits}) must not exceed num_digits ({self.num_digits})")
        if not self.weights:
            raise ValueError("the sampling mixture is empty; give at least one of " + ", ".join(TRAIN_SAMPLERS))
        for name, weight in self.weights.items():
            if name not in TRAIN_SAMPLERS:
                raise ValueError(f"unknown sampler {name!r}; choose from " + ", ".join(TRAIN_SAMPLERS))
            if not weight >= 0 or weight == float("inf"):
                raise ValueError(f"sampler weight for {name!r} must be finite and >= 0, got {weight}")
        if sum(self.weights.values()) <= 0:
            raise ValueError("sampler weights must not all be zero")
        used = [name for name, weight in self.weights.items() if weight > 0]
        if used == ["range"] and self.min_digits is not None:
            raise ValueError(
                "the range sampler draws whole numbers, so min_digits does not apply to it; pass min_digits null"
            )
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

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        """A model-ready batch (a, b, target), each (batch_size, num_digits + 1) int64."""
        a, b = self.operands(batch_size, generator)
        return make_problems(a, b, self.base)

    def _sample(self, name: str, count: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return TRAIN_SAMPLERS[name](self, count, generator)


Sampler = Callable[[ProblemSampler, int, torch.Generator], tuple[Tensor, Tensor]]
#: The training samplers by name (the keys of ``--data.sampling``), each drawing ``count`` rows
#: of operands with a mixture's settings. A new sampler is a function above and an entry here.
TRAIN_SAMPLERS: dict[str, Sampler] = {
    "digits": lambda s, count, g: sample_digits(count, s.num_digits, s.base, g, s.min_digits),
    "range": lambda s, count, g: sample_range(count, s.num_digits, s.base, g, s.range_start, s.range_end),
    "carry": lambda s, count, g: sample_carry(count, s.num_digits, s.base, g, s.carry_probability, s.min_digits),
    "repeat": lambda s, count, g: sample_repeat(count, s.num_digits, s.base, g, s.min_digits),
}
