"""The training samplers and their mixture: seeding, distributions and the sums they come with."""

import pytest
import torch

from adder.problems.digits import digits_to_int
from adder.problems.samplers import (
    ProblemSampler,
    make_generator,
    sample_carry,
    sample_digits,
    sample_range,
    sample_repeat,
)


def test_generators_differ_by_every_key_and_repeat() -> None:
    draws = {
        keys: torch.randint(0, 2**30, (4,), generator=make_generator(*keys)).tolist()
        for keys in [(0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 0), (1, 0, 0, 0), (0, 1, 0, 0)]
    }
    assert len({tuple(v) for v in draws.values()}) == len(draws)
    again = torch.randint(0, 2**30, (4,), generator=make_generator(0, 0, 0, 1)).tolist()
    assert again == draws[(0, 0, 0, 1)]


def test_uniform_digits_are_uniform() -> None:
    a, b = sample_digits(20000, 10, 10, make_generator(1))
    counts = torch.bincount(torch.cat([a, b]).flatten(), minlength=10).float()
    share = counts / counts.sum()
    assert torch.all((share - 0.1).abs() < 0.005), share


def test_variable_lengths_cover_the_range() -> None:
    a, _ = sample_digits(5000, 8, 10, make_generator(2), min_digits=3)
    # Length of a number = index of its highest non-zero digit + 1 (a 0 top digit can shorten it).
    nonzero = a != 0
    lengths = torch.where(nonzero.any(1), 8 - nonzero.flip(1).float().argmax(1), 0)
    assert lengths.max() == 8
    assert (a[:, 8 - 5 :] != 0).any(1).float().mean() < 1.0  # some rows are shorter than 8
    assert ((lengths >= 2) & (lengths <= 8)).float().mean() > 0.97


def test_range_sampler_stays_in_range() -> None:
    a, b = sample_range(4000, 4, 10, make_generator(3), start=1000, end=2000)
    values = [digits_to_int(row) for row in torch.cat([a, b])]
    assert min(values) >= 1000 and max(values) < 2000
    assert len(set(values)) > 900  # spread over the range, not a handful of values


def test_range_sampler_rejects_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="int64"):
        sample_range(1, 30, 10, make_generator(0))
    with pytest.raises(ValueError, match="digits"):
        sample_range(1, 3, 10, make_generator(0), end=5000)


def test_carry_sampler_chain_probability() -> None:
    a, b = sample_carry(5000, 20, 10, make_generator(4), probability=0.7)
    share = ((a + b) == 9).float().mean().item()
    assert abs(share - (0.7 + 0.3 * 0.1)) < 0.01  # chained, or uniform and happening to sum to 9


@pytest.mark.parametrize("base", [2, 10])
def test_repeat_sampler_repeats_one_pair_above_the_lowest(base: int) -> None:
    a, b = sample_repeat(2000, 12, base, make_generator(7))
    assert bool((a[:, 1:] == a[:, 1:2]).all()) and bool((b[:, 1:] == b[:, 1:2]).all())
    pairs = {(int(x), int(y)) for x, y in zip(a[:, 1], b[:, 1])}
    assert len(pairs) == base * base  # every digit pair gets repeated
    assert len({(int(x), int(y)) for x, y in zip(a[:, 0], b[:, 0])}) == base * base
    # With min_digits, each operand is cut to its own length, from 1 to num_digits.
    a, b = sample_repeat(2000, 12, base, make_generator(8), min_digits=1)
    for x in (a, b):
        lengths = (x != 0).long().cumsum(-1).argmax(-1) + 1  # up to the highest non-zero digit
        assert lengths.min() == 1 and lengths.max() == 12


def test_problem_sampler_mixture_and_targets() -> None:
    sampler = ProblemSampler(base=10, num_digits=6, weights={"digits": 1, "carry": 1, "range": 1, "repeat": 1})
    a, b, target = sampler.sample(300, make_generator(6))
    assert a.shape == b.shape == target.shape == (300, 7)
    assert bool((a[:, -1] == 0).all() and (b[:, -1] == 0).all())  # the carry slot
    for row in range(300):
        assert digits_to_int(a[row]) + digits_to_int(b[row]) == digits_to_int(target[row])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_digits": 0}, "num_digits"),
        ({"min_digits": 11}, "min_digits"),
        ({"weights": {"digitz": 1.0}}, "unknown sampler"),
        ({"weights": {"digits": 0.0}}, "all be zero"),
        ({"weights": {"digits": -1.0}}, ">= 0"),
        ({"carry_probability": 1.5}, "carry_probability"),
        ({"weights": {"range": 1.0}, "num_digits": 40}, "int64"),
        ({"weights": {"range": 1.0}, "min_digits": 2}, "min_digits does not apply"),
        ({"base": 1}, "base"),
    ],
)
def test_problem_sampler_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProblemSampler(**kwargs)
