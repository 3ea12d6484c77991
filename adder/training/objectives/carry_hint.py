"""CarryHint: the state's first coordinate trained to hold the carry out of each position.

A small network must find a clean carry unit before its digits can come out right, and the
digits' loss alone points there weakly; the hint says where the carry goes.
"""

from __future__ import annotations

from torch import Tensor

from adder.problems.digits import carries_out
from adder.training.objectives.base import Objective, StepResult, check_at_least_zero


def carry_hint_loss(states: Tensor, a: Tensor, b: Tensor, target: Tensor, base: int, low: float = -1.0) -> Tensor:
    """Mean squared distance of the first state coordinate (``states``: (problems, positions,
    hidden)) to the carry out of each position: 1 for a carry, ``low`` for none (-1 for the cells
    whose state lies in [-1, 1], 0 for a ReLU cell's)."""
    carry = carries_out(a, b, target, base).to(states.dtype)
    return (states[..., 0] - (low + (1.0 - low) * carry)).pow(2).mean()


class CarryHint(Objective):
    """``weight`` times the carry hint (0: off); "no carry" is the network's ``state_floor``."""

    needs_state = True
    log_name = "carry_hint"

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = check_at_least_zero("CarryHint", "weight", weight)

    def loss(self, step: StepResult) -> Tensor | None:
        if not self.weight or step.states is None:
            return None
        low = step.context.net.state_floor
        return carry_hint_loss(step.states, step.a, step.b, step.target, step.logits.shape[-1], low=low)
