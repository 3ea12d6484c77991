"""The counterexample search's candidates are the rows its docstring names, in batches of at most
BATCH_POSITIONS digit positions, shortest first."""

from __future__ import annotations

import itertools

import pytest
import torch

from adder.verification import counterexample
from adder.verification.counterexample import _from_guide, _runs


def rows_of(batches: list[tuple[torch.Tensor, torch.Tensor]]) -> list[list[tuple[int, int]]]:
    return [list(zip(a.tolist(), b.tolist())) for x, y in batches for a, b in zip(x, y)]


def test_runs_are_a_setup_pair_one_pair_n_times_and_a_last_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counterexample, "BATCH_POSITIONS", 50)  # several batches per n
    base = 3
    found = rows_of(list(_runs(base, longest=6)))  # n = 1, 2, 4
    pairs = list(itertools.product(range(base), repeat=2))
    setups = [(0, 0), (1, base - 1), (base - 1, base - 1)]
    wanted = [[s] + [r] * n + [last] for n in (1, 2, 4) for s in setups for r in pairs for last in pairs]
    assert found == wanted
    assert all(a.numel() <= 50 for a, _ in _runs(base, longest=6))


@pytest.mark.parametrize("carry_in", [0, 1])
def test_a_guide_is_its_path_every_way_after_a_pair_with_its_carry_repeated(carry_in: int) -> None:
    base, choices = 10, [[(1, 2), (3, 4)], [(9, 9)]]
    found = rows_of(list(_from_guide(base, (carry_in, choices), longest=9)))  # the path 1, 2, 4 times
    ways = [list(way) for way in itertools.product(*choices)]
    wanted = []
    for repeats in (1, 2, 4):
        if carry_in:
            wanted += [[(1, base - 1)] + way * repeats for way in ways]
        else:  # from the zero state: after a (0, 0) pair, and with none (padded with one)
            wanted += [[(0, 0)] + way * repeats for way in ways] + [way * repeats + [(0, 0)] for way in ways]
    assert found == wanted
