"""The MLP adds one length only, so its question is finite: every pair of operands of at most
``num_digits`` digits (padded, as ``add`` pads them), each one checked.

A sum counts as right only when the float64 logits, less a bound on float32 rounding carried
layer by layer (``|W| err + gamma_n (|W| |x| + |b|)``; ReLU does not increase an error), still put
the right digit first at every position: then the float32 network picks it whatever order its
matrix products sum in (a batch of one sum in ``add``, or many here). A sum the network gets wrong
is a counterexample; one whose margin the rounding could close is left undecided.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from adder.models import MLPAdder
from adder.problems.digits import make_problems
from adder.verification.accepted import OVERFLOW_LIMIT, check_finite, check_modelled
from adder.verification.rounding import sum_error

#: Sums checked per batch.
BATCH = 1 << 15


def every_sum(model: MLPAdder, deadline: float) -> tuple[str, int, tuple[list[int], list[int]] | None, float]:
    """("proved", sums, None, worst margin), ("wrong", checked, operands, margin), ("close",
    checked, operands, margin) or ("time", checked, None, worst margin so far)."""
    check_modelled(model.config)
    check_finite(model)
    worst = float("inf")
    checked = 0
    for a, b in operand_batches(model.base, model.num_positions - 1):
        if time.monotonic() > deadline:
            return "time", checked, None, worst
        a_in, b_in, target = make_problems(a, b, model.base)
        margins = sum_margins(model, a_in, b_in, target)  # (N,): the worst position of each sum
        at = int(margins.argmin())
        worst = min(worst, float(margins[at]))
        wrong = (model.predict(a_in, b_in) != target).any(1)
        if wrong.any():
            row = int(wrong.nonzero()[0])
            return "wrong", checked + row + 1, (a[row].tolist(), b[row].tolist()), float(margins[row])
        if not float(margins[at]) > 0:  # also NaN
            return "close", checked + at + 1, (a[at].tolist(), b[at].tolist()), float(margins[at])
        checked += len(a)
    return "proved", checked, None, worst


def operand_batches(base: int, digits: int) -> Iterator[tuple[Tensor, Tensor]]:
    """Every pair of ``digits``-digit operands (LSB first, zero-padded), in batches: (N, digits) each."""
    total = base ** (2 * digits)
    powers = base ** torch.arange(2 * digits)
    for first in range(0, total, BATCH):
        index = torch.arange(first, min(first + BATCH, total))
        both = (index[:, None] // powers) % base  # (N, 2 * digits)
        yield both[:, :digits], both[:, digits:]


def sum_margins(model: MLPAdder, a: Tensor, b: Tensor, target: Tensor) -> Tensor:
    """Per sum, the lowest over positions of ``logit[right] - max other logit`` less both logits'
    float32 rounding bounds (float64; -inf where a bound could overflow float32)."""
    with torch.no_grad():
        x = model.encoder(a, b).flatten(1).double()
    error = torch.zeros_like(x)
    for layer in model.net:
        if isinstance(layer, nn.Linear):
            weight, bias = layer.weight.detach().double(), layer.bias.detach().double()
            magnitude = (x.abs() + error) @ weight.abs().T + bias.abs()  # float32's inputs are off by error
            error = error @ weight.abs().T + sum_error(weight.shape[1] + 1, magnitude)
            x = x @ weight.T + bias
            fits = (magnitude < OVERFLOW_LIMIT).all(1)
            error = torch.where(fits[:, None], error, torch.inf)
        else:  # ReLU: 1-Lipschitz, exact in float32
            x = torch.relu(x)
    logits = x.view(len(a), -1, model.base)
    error = error.view(len(a), -1, model.base)
    index = target[..., None]
    lowest_right = logits.gather(2, index) - error.gather(2, index)
    highest_other = (logits + error).scatter(2, index, -torch.inf).amax(2, keepdim=True)
    return (lowest_right - highest_other).squeeze(2).amin(1)
