"""StateSpread: a loss that gathers the states of each class of position into one point.

A finite-state adder's state after a position depends on two things only: the carry into it and
its digit pair. A recurrent network can get every short training sum right with states that still
depend a little on everything read before; along a long run of one digit pair that dependence adds
up and the carry drifts away far past the training length. This loss pulls the states of each
class (carry in, a, b) to their mean, so that a run of one pair repeats one state and nothing is
left to drift; the gated cells need it to stay exact far past their training length.
"""

from __future__ import annotations

import torch
from torch import Tensor

from adder.problems.digits import carries_in
from adder.training.objectives.base import Objective, StepResult, check_at_least_zero


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


class StateSpread(Objective):
    """``weight`` times the state-spread loss of the states the head reads (0: off)."""

    needs_state = True
    log_name = "state_spread"

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = check_at_least_zero("StateSpread", "weight", weight)

    def loss(self, step: StepResult) -> Tensor | None:
        if not self.weight or step.states is None:
            return None
        return state_spread_loss(step.states, step.a, step.b, step.target, step.logits.shape[-1])
