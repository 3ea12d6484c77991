"""InitialStateNoise: each training problem starts from a random state instead of zeros."""

from __future__ import annotations

import torch

from adder.models.base import State
from adder.training.objectives.base import Objective, StepContext, check_at_least_zero


class InitialStateNoise(Objective):
    """Gaussian noise of standard deviation ``std`` as each training problem's initial state (0:
    off). A network that must forget a random start learns state dynamics that fall back to the
    carry it should hold, which keeps it from drifting over long runs of one digit pair, like
    66..6 + 33..3. Drawn from the run's seed and the step (``StepContext.generator``)."""

    needs_state = True

    def __init__(self, std: float = 0.3) -> None:
        self.std = check_at_least_zero("InitialStateNoise", "std", std)

    def initial_state(self, state: State, problems: int, context: StepContext) -> State:
        if self.std == 0.0:
            return state
        start = state if state is not None else context.net.initial_state(problems, context.device)
        generator = context.generator()
        parts = start if isinstance(start, tuple) else (start,)  # an LSTM's state is (h, c)
        noise = [self.std * torch.randn(part.shape, generator=generator, device=part.device) for part in parts]
        if state is not None:  # None starts from zeros: the noise alone is the state
            noise = [part + drawn for part, drawn in zip(parts, noise)]
        return tuple(noise) if isinstance(start, tuple) else noise[0]
