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


def step_contraction_loss(states: Tensor, a: Tensor, b: Tensor, net: AdderNet, noise: Tensor) -> Tensor:
    """``|step(h_t + noise_t, pair_{t+1}) - h_{t+1}|^2 / |noise_t|^2``, the mean over the problems
    and positions of ``states`` (problems, positions, hidden): the states after each position of
    ``a + b``, whose next pairs are read; ``noise`` (problems, positions - 1, hidden). The state is
    the one layer's (a one-layer RNN or GRU)."""
    before, after = states[:, :-1], states[:, 1:]
    pairs = before.shape[0] * before.shape[1]
    start = (before + noise).reshape(1, pairs, before.shape[-1])  # (layers, batch, hidden)
    moved, _ = net.states(a[:, 1:].reshape(pairs, 1), b[:, 1:].reshape(pairs, 1), start)
    distance = (moved.reshape(after.shape) - after).pow(2).sum(-1)
    return (distance / noise.pow(2).sum(-1).clamp(min=1e-12)).mean()


class StepContraction(Objective):
    """``weight`` times the step-contraction loss (0: off), with disturbances of standard deviation
    ``std``. For a one-layer RNN or GRU, whose state is what the head reads."""

    needs_state = True
    log_name = "step_contraction"

    def __init__(self, weight: float = 10.0, std: float = 0.3) -> None:
        self.weight = check_at_least_zero("StepContraction", "weight", weight)
        self.std = check_at_least_zero("StepContraction", "std", std)
        if not self.std:
            raise ValueError("StepContraction std must be > 0")

    def check(self, net: AdderNet) -> None:
        super().check(net)
        check_one_layer_state("StepContraction", net)

    def loss(self, step: StepResult) -> Tensor | None:
        if not self.weight or step.states is None or step.states.shape[1] < 2:
            return None
        states, context = step.states, step.context
        shape = (states.shape[0], states.shape[1] - 1, states.shape[2])
        noise = self.std * torch.randn(shape, generator=context.generator(3), device=context.device)
        return step_contraction_loss(states, step.a, step.b, context.net, noise)
