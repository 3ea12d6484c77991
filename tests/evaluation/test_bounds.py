"""Upper confidence bounds on error rates: checked against known values and a simulation."""

from __future__ import annotations

import math
import random

import pytest

from adder.evaluation.bounds import EXACT_UP_TO, binomial_cdf, error_rate_upper_bound


def test_zero_errors_is_the_rule_of_three() -> None:
    for trials in (100, 2000, 2_000_000, 10**9):
        bound = error_rate_upper_bound(0, trials)
        assert (1 - bound) ** trials == pytest.approx(0.05)
        assert 2.9 / trials < bound < 3.0 / trials


def test_known_clopper_pearson_values() -> None:
    # One-sided 95% Clopper-Pearson upper limits, from the Beta(k + 1, n - k) quantile.
    assert error_rate_upper_bound(1, 1000) == pytest.approx(0.004735, rel=1e-3)
    assert error_rate_upper_bound(5, 100) == pytest.approx(0.10225, rel=1e-3)
    assert error_rate_upper_bound(1000, 1000) == 1.0


def test_bound_is_where_the_cdf_is_five_percent() -> None:
    for errors, trials in ((3, 50), (17, 2_000_000), (EXACT_UP_TO, 10**6)):
        bound = error_rate_upper_bound(errors, trials)
        assert binomial_cdf(errors, trials, bound) == pytest.approx(0.05, rel=1e-6)
        assert bound > errors / trials


def test_large_counts_use_a_continuous_approximation() -> None:
    exact = error_rate_upper_bound(EXACT_UP_TO, 10**5)
    approximate = error_rate_upper_bound(EXACT_UP_TO + 1, 10**5)
    assert exact < approximate < exact * 1.02
    assert error_rate_upper_bound(10**6, 10**9) == pytest.approx(1e-3, rel=0.01)


def test_bound_covers_the_true_rate_about_95_percent_of_the_time() -> None:
    rng = random.Random(0)
    rate, trials, runs = 0.01, 300, 400
    covered = 0
    for _ in range(runs):
        errors = sum(rng.random() < rate for _ in range(trials))
        covered += error_rate_upper_bound(errors, trials) >= rate
    assert covered / runs >= 0.93  # Clopper-Pearson is conservative: at least 95% in expectation


@pytest.mark.parametrize(("errors", "trials"), [(-1, 10), (11, 10), (0, 0)])
def test_refuses_impossible_counts(errors: int, trials: int) -> None:
    with pytest.raises(ValueError):
        error_rate_upper_bound(errors, trials)
    assert math.isfinite(error_rate_upper_bound(0, 10))
