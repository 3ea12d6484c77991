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
    ways = torch.tensor(list(itertools.islice(itertools.product(*choices), 4096)), dtype=torch.long)  # (W, L, 2)
    if not len(ways):
        return
    setups = [(1, base - 1)] if carry_in else [(0, 0), None]  # None: the path from the zero state itself
    repeats = 1
    while True:
        body = ways.repeat(1, repeats, 1)  # (W, L * repeats, 2)
        length = body.shape[1] + 1
        if length > longest:
            return
        rows = [_prefixed(body, setup) for setup in setups]
        pairs = torch.cat(rows)  # (rows, length, 2), zero-padded after a path without a setup pair
        yield from _in_batches(pairs[..., 0], pairs[..., 1])
        repeats *= 2


def _prefixed(body: Tensor, setup: tuple[int, int] | None) -> Tensor:
    """``body`` (N, L, 2) after the pair ``setup``, or followed by a (0, 0) pair where it is None."""
    pair = torch.tensor(setup or (0, 0), dtype=torch.long).expand(len(body), 1, 2)
    return torch.cat([pair, body] if setup else [body, pair], 1)


def _runs(base: int, longest: int) -> Iterator[tuple[Tensor, Tensor]]:
    """Setup pair, one pair n times, a last pair: every choice of the three, n doubling."""
    digits = torch.arange(base)
    pairs = torch.stack(torch.meshgrid(digits, digits, indexing="ij"), -1).reshape(-1, 1, 2)  # (P, 1, 2)
    setups = torch.tensor([(0, 0), (1, base - 1), (base - 1, base - 1)]).reshape(-1, 1, 2)
    # Row (setup * P + run) * P + last.
    every = torch.meshgrid(torch.arange(len(setups)), torch.arange(len(pairs)), torch.arange(len(pairs)), indexing="ij")
    setup, run, last = (index.flatten() for index in every)
    n = 1
    while n + 2 <= longest:
        size = max(1, BATCH_POSITIONS // (n + 2))
        for first in range(0, len(setup), size):
            rows = slice(first, first + size)
            chosen = torch.cat([setups[setup[rows]], pairs[run[rows]].expand(-1, n, 2), pairs[last[rows]]], 1)
            yield chosen[..., 0], chosen[..., 1]
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


def _in_batches(a: Tensor, b: Tensor) -> Iterator[tuple[Tensor, Tensor]]:
    """Operands (rows, length) in batches of at most BATCH_POSITIONS digit positions."""
    size = max(1, BATCH_POSITIONS // a.shape[1])
    for first in range(0, len(a), size):
        yield a[first : first + size], b[first : first + size]
