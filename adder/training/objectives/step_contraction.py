"""StepContraction: a loss that makes one step of the recurrence forget a disturbance of its state.

``adder verify`` holds the states in boxes per class (the carry and the last digit pairs) and shows
that one step maps each box into the box of the class it leads to. That goes through when a step
shrinks the spread of the states it starts from, so that the boxes settle instead of growing; a
network trained on cross-entropy alone forgets old digit pairs only over several steps.

The loss disturbs every state of the batch with Gaussian noise, runs the one step that reads the
next digit pair from there (every position at once: one step needs no recurrence), and divides
the squared distance to the undisturbed next state by the squared size of the disturbance: 0 for a
step that forgets it, about the squared Frobenius norm of the step's Jacobian over the state size
for a small one.
"""

from __future__ import annotations

import torch
from torch import Tensor

from adder.models.base import AdderNet
from adder.training.objectives.base import Objective, StepResult, check_at_least_zero, check_one_layer_state


def step_contraction_loss(before: Tensor, after: Tensor, a: Tensor, b: Tensor, net: AdderNet, noise: Tensor) -> Tensor:
    """``|step(h + noise, pair) - h'|^2 / |noise|^2``, the mean over N steps of the recurrence: the
    states ``before`` (N, hidden) each step starts from, the states ``after`` (N, hidden) it reached
    reading the digit pair ``a``, ``b`` (N,), and ``noise`` (N, hidden). The state is the one layer's
    (a one-layer RNN or GRU)."""
    start = (before + noise)[None]  # (layers, N, hidden)
    moved, _ = net.states(a[:, None], b[:, None], start)  # (N, 1, hidden)
    distance = (moved[:, 0] - after).pow(2).sum(-1)
    return (distance / noise.pow(2).sum(-1).clamp(min=1e-12)).mean()


def steps_of(states: Tensor, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Every step of the recurrence in ``states`` (problems, positions, hidden), the state after
    each position of ``a + b``: the states it starts from and reaches (N, hidden), and the pair it
    reads (N,), N = problems x (positions - 1)."""
    hidden = states.shape[-1]
    before, after = states[:, :-1].reshape(-1, hidden), states[:, 1:].reshape(-1, hidden)
    return before, after, a[:, 1:].reshape(-1), b[:, 1:].reshape(-1)


class StepContraction(Objective):
    """``weight`` times the step-contraction loss (0: off), with disturbances of standard deviation
    ``std``. ``steps``: the loss of that many of the batch's steps of the recurrence, drawn anew
    each training step (``StepContext.generator``), for a cheaper step; null: of all of them. For
    a one-layer RNN or GRU, whose state is what the head reads."""

    needs_state = True
    log_name = "step_contraction"

    def __init__(self, weight: float = 10.0, std: float = 0.3, steps: int | None = None) -> None:
        self.weight = check_at_least_zero("StepContraction", "weight", weight)
        self.std = check_at_least_zero("StepContraction", "std", std)
        if not self.std:
            raise ValueError("StepContraction std must be > 0")
        if steps is not None and not (isinstance(steps, int) and steps >= 1):
            raise ValueError(f"StepContraction steps must be a positive number of steps, or null for all, got {steps}")
        self.steps = steps

    def check(self, net: AdderNet) -> None:
        super().check(net)
        check_one_layer_state("StepContraction", net)

    def loss(self, step: StepResult) -> Tensor | None:
        if not self.weight or step.states is None or step.states.shape[1] < 2:
            return None
        context = step.context
        before, after, a, b = steps_of(step.states, step.a, step.b)
        generator = context.generator(3)
        if self.steps is not None and len(before) > self.steps:
            drawn = torch.randperm(len(before), generator=generator, device=context.device)[: self.steps]
            before, after, a, b = before[drawn], after[drawn], a[drawn], b[drawn]
        noise = self.std * torch.randn(before.shape, generator=generator, device=context.device)
        return step_contraction_loss(before, after, a, b, context.net, noise)
