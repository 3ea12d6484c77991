"""Losses on the recurrent state, beside the cross-entropy of the digits.

The state-spread loss: how far apart the hidden states of one kind of position lie. A finite-state adder's state after a position depends on two things only: the carry into it and
its digit pair. A recurrent network can get every short training sum right with states that still
depend a little on everything read before; along a long run of one digit pair that dependence
adds up and the carry drifts away far past the training length (docs/results.md). This loss pulls
the states of each class (carry in, a, b) to their mean, so that a run of one pair repeats one
state and nothing is left to drift.

The carry hint: the state's first coordinate trained to hold the carry out of each position. A
small network must find a clean carry unit before its digits can come out right, and the digits'
loss alone points there weakly; the hint says where the carry goes.
"""

from __future__ import annotations

import torch
from torch import Tensor

from adder.problems.digits import carries_in, carries_out


def state_spread_loss(states: Tensor, a: Tensor, b: Tensor, target: Tensor, base: int) -> Tensor:
    """Squared distances of ``states`` (problems, positions, hidden) to their class's mean over
    those to the mean of all states: 0 when each class is one point, and shrinking the states
    does not lower it. Positions from the second on: the first starts from the initial state."""
    classes = ((carries_in(a, b, target, base) * base + a) * base + b)[:, 1:].reshape(-1)
    points = states[:, 1:].reshape(-1, states.shape[-1])  # (problems x positions, hidden)
    count = 2 * base * base
    sizes = torch.bincount(classes, minlength=count).clamp(min=1).unsqueeze(1).to(points.dtype)
    means = torch.zeros(count, points.shape[1], dtype=points.dtype, device=points.device)
    means = means.index_add(0, classes, points) / sizes
    within = (points - means[classes]).pow(2).sum()
    return within / (points - points.mean(0)).pow(2).sum().clamp(min=torch.finfo(points.dtype).tiny)


def carry_hint_loss(states: Tensor, a: Tensor, b: Tensor, target: Tensor, base: int, low: float = -1.0) -> Tensor:
    """Mean squared distance of the first state coordinate (``states``: (problems, positions,
    hidden)) to the carry out of each position: 1 for a carry, ``low`` for none (-1 for the cells
    whose state lies in [-1, 1], 0 for a ReLU cell's)."""
    carry = carries_out(a, b, target, base).to(states.dtype)
    return (states[..., 0] - (low + (1.0 - low) * carry)).pow(2).mean()
