"""A sum the model gets wrong, searched where the proof failed, and checked through ``add``.

Candidates, cheapest first, each run through the model in batches (LSB first):

- the path where the proof failed, each step written as every digit pair it stands for, after a
  pair that makes the carry the path starts from, the path repeated n times;
- a setup pair, one pair repeated n times (n = 1, 2, 4, ...) and a last pair: the long runs of
  one pair that carry chains are made of and that a carry which leaks over many positions fails;
- random sums, uniform and carry-heavy, of doubling lengths.

A wrong sum is cut after its first wrong digit (the model reads LSB first, so the digits before
and at that position do not depend on what follows), and is only reported after ``add`` itself
gets it wrong on the written-out numbers (``adder.commands.verify`` does that).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

from adder.models import Adder
from adder.problems.digits import make_problems

#: The kinds of candidates, in the order they are tried.
FAMILIES = ("guide", "runs", "random")
#: Digit positions run through the model per batch.
BATCH_POSITIONS = 2_000_000


#: Operands, LSB-first digit lists.
Operands = tuple[list[int], list[int]]
#: Where a proof failed: the carry into a path, and the digit pairs each of its steps may be.
Guide = tuple[int, list[list[tuple[int, int]]]]


def search(
    model: Adder,
    guide: Guide | None,
    deadline: float,
    longest: int = 1 << 14,
    log: Callable[[str], None] = lambda _: None,
    families: Sequence[str] = FAMILIES,
) -> Operands | None:
    """The operands of the shortest wrong sum found by ``deadline`` (candidates are tried
    shortest first within each family), or None. The caller checks it through ``add``."""
    base = model.config.base
    best: Operands | None = None
    for name, batches in _families(base, guide, longest, families):
        log(f"searching: {name}")
        for a, b in batches:
            if time.monotonic() > deadline:
                return best
            found = _first_wrong(model, a, b)
            if found is not None and (best is None or len(found[0]) < len(best[0])):
                best = found
                log(f"found a wrong sum of {len(found[0])} digits")
            if best is not None and len(best[0]) <= a.shape[1]:
                break  # longer candidates of this family cannot beat it
    return best


def _first_wrong(model: Adder, a: Tensor, b: Tensor) -> Operands | None:
    """The operands (LSB first) of the shortest wrong row, cut after its first wrong digit."""
    a_in, b_in, target = make_problems(a, b, model.config.base)
    wrong = model.predict(a_in, b_in) != target
    rows = wrong.any(1).nonzero().flatten()
    if not len(rows):
        return None
    first = wrong[rows].float().argmax(1)  # the first wrong position of each wrong row
    row = int(rows[first.argmin()])
    cut = min(int(first.min()) + 1, a.shape[1])  # at the final carry position, keep every digit
    return a[row, :cut].tolist(), b[row, :cut].tolist()


def _families(
    base: int, guide: Guide | None, longest: int, families: Sequence[str]
) -> Iterator[tuple[str, Iterator[tuple[Tensor, Tensor]]]]:
    if "guide" in families and guide is not None and guide[1]:
        yield "the digit pairs where the proof failed", _from_guide(base, guide, longest)
    if "runs" in families:
        yield "runs of one digit pair", _runs(base, longest)
    if "random" in families:
        yield "random sums", _random(base, longest)


def _from_guide(base: int, guide: Guide, longest: int) -> Iterator[tuple[Tensor, Tensor]]:
    """The guide's path as digit pairs (every way, up to 4096), after a setup pair that gives its
    carry, the whole path repeated n times (n = 1, 2, 4, ...)."""
    carry_in, choices = guide
    setup = [(1, base - 1)] if carry_in else [(0, 0), ()]
    ways = list(itertools.islice(itertools.product(*choices), 4096))
    repeats = 1
    while True:
        rows = []
        for first in setup:
            for way in ways:
                body = list(way) * repeats
                rows.append(([first] if first else []) + body)
        length = max(len(row) for row in rows)
        if length > longest:
            return
        yield _stack(rows, length)
        repeats *= 2


def _runs(base: int, longest: int) -> Iterator[tuple[Tensor, Tensor]]:
    """Setup pair, one pair n times, a last pair: every choice of the three, n doubling."""
    pairs = [(a, b) for a in range(base) for b in range(base)]
    setups = [(0, 0), (1, base - 1), (base - 1, base - 1)]
    n = 1
    while n + 2 <= longest:
        rows = [[setup] + [run] * n + [last] for setup in setups for run in pairs for last in pairs]
        yield from _in_batches(rows, n + 2)
        n *= 2


def _random(base: int, longest: int, seed: int = 0) -> Iterator[tuple[Tensor, Tensor]]:
    """Random sums of 8, 16, ... digits: half uniform, half mostly carry chains (b = base-1-a)."""
    generator = torch.Generator().manual_seed(seed)
    length = 8
    while True:
        rows = max(64, BATCH_POSITIONS // length)
        a = torch.randint(base, (rows, length), generator=generator)
        b = torch.randint(base, (rows, length), generator=generator)
        chain = torch.rand(rows, length, generator=generator) < 0.9
        chain[: rows // 2] = False
        yield a, torch.where(chain, base - 1 - a, b)
        length = min(2 * length, longest)


def _in_batches(rows: list[list[tuple[int, int]]], length: int) -> Iterator[tuple[Tensor, Tensor]]:
    size = max(1, BATCH_POSITIONS // length)
    for first in range(0, len(rows), size):
        yield _stack(rows[first : first + size], length)


def _stack(rows: list[list[tuple[int, int]]], length: int) -> tuple[Tensor, Tensor]:
    """Rows of digit pairs, LSB first, zero-padded to ``length``: operands (rows, length)."""
    a = torch.zeros(len(rows), length, dtype=torch.long)
    b = torch.zeros(len(rows), length, dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            a[i, : len(row)] = torch.tensor([p[0] for p in row])
            b[i, : len(row)] = torch.tensor([p[1] for p in row])
    return a, b
