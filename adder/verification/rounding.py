"""Bounds on the float32 rounding of what ``adder add`` computes, and on the analysis's own.

A sum of n products computed in float32 in any order, with or without FMA, is off by at most
``gamma_n`` times the sum of the products' absolute values, ``gamma_n = n u / (1 - n u)``,
``u = 2^-24`` (Higham, "Accuracy and Stability of Numerical Algorithms", 2002, section 3.1), as long
as nothing overflows (``adder.verification.accepted`` refuses networks where anything could) and
up to underflow, which adds at most ``n 2^-149`` absolute: far below ``ANALYSIS_SLACK``.
"""

from __future__ import annotations

from torch import Tensor

#: float32's unit roundoff.
UNIT_ROUNDOFF = 2.0**-24
#: What a float32 tanh or sigmoid may be off by, absolute (their values lie within [-1, 1], so one
#: ulp is at most 2^-24; libm and the vectorised kernels torch uses are within a few ulps; this
#: allows 16).
SQUASH_ERROR = 16 * UNIT_ROUNDOFF
#: The analysis runs in float64 without directed rounding. Its error on a quantity is a few float64
#: ulps per term summed, relative to the terms' magnitudes: ``ANALYSIS_RELATIVE`` (2^-40, thousands
#: of float64 ulps) plus 8 ulps per term, times that magnitude, plus ``ANALYSIS_SLACK`` absolute, is
#: added to every bound.
ANALYSIS_RELATIVE = 2.0**-40
ANALYSIS_ULP = 2.0**-53
ANALYSIS_SLACK = 1e-9


def gamma(terms: int) -> float:
    return terms * UNIT_ROUNDOFF / (1 - terms * UNIT_ROUNDOFF)


def sum_error(terms: int, magnitude: Tensor) -> Tensor:
    """What a float32 sum of ``terms`` terms whose absolute values add up to at most ``magnitude``
    can be off by, with the analysis's own float64 error on it."""
    return (gamma(terms) + ANALYSIS_RELATIVE + 8 * terms * ANALYSIS_ULP) * magnitude + ANALYSIS_SLACK
