"""How small an error rate a test shows: exact binomial upper confidence bounds.

0 wrong digits out of N does not mean the error rate is 0; it means that, at 95% confidence, it is
below about 3/N (the "rule of three"). ``error_rate_upper_bound`` gives that bound for any number of
errors (Clopper-Pearson, one-sided), with the standard library only. Past ``EXACT_UP_TO`` errors
the exact sum gets slow and the rate is no longer small, so the Wilson score bound stands in.
"""

from __future__ import annotations

import math
from statistics import NormalDist

#: Errors up to which the bound is the exact Clopper-Pearson one.
EXACT_UP_TO = 200


def binomial_cdf(errors: int, trials: int, rate: float) -> float:
    """P(X <= errors) for X ~ Binomial(trials, rate), summed in log space (trials can be 10^9)."""
    if rate <= 0.0:
        return 1.0
    if rate >= 1.0:
        return 1.0 if errors >= trials else 0.0
    log_rate, log_rest = math.log(rate), math.log1p(-rate)
    total = 0.0
    for k in range(errors + 1):
        log_choose = math.lgamma(trials + 1) - math.lgamma(k + 1) - math.lgamma(trials - k + 1)
        total += math.exp(log_choose + k * log_rate + (trials - k) * log_rest)
    return min(total, 1.0)


def error_rate_upper_bound(errors: int, trials: int, confidence: float = 0.95) -> float:
    """The largest error rate still consistent with seeing ``errors`` in ``trials`` at this
    confidence: the rate p at which P(X <= errors) = 1 - confidence. For 0 errors it is
    1 - (1 - confidence) ** (1 / trials), just under 3 / trials at 95%."""
    if trials <= 0:
        raise ValueError(f"trials must be > 0, got {trials}")
    if not 0 <= errors <= trials:
        raise ValueError(f"errors must be in [0, trials], got {errors} of {trials}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    alpha = 1.0 - confidence
    if errors == trials:
        return 1.0
    if errors == 0:
        return -math.expm1(math.log(alpha) / trials)
    if errors > EXACT_UP_TO:
        z = NormalDist().inv_cdf(confidence)
        rate = errors / trials
        spread = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials))
        return min(1.0, (rate + z * z / (2 * trials) + spread) / (1 + z * z / trials))
    low, high = errors / trials, 1.0
    for _ in range(100):  # bisection: the CDF falls as the rate grows
        middle = (low + high) / 2
        if binomial_cdf(errors, trials, middle) > alpha:
            low = middle
        else:
            high = middle
    return high
