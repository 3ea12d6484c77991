"""StepNoise: Gaussian noise added to the recurrent state after every position of a training problem."""

from __future__ import annotations

from typing import Any

from adder.training.objectives.base import Objective, StepContext, check_at_least_zero


class StepNoise(Objective):
    """Noise of standard deviation ``std`` on the state after every position (0: off). Where
    InitialStateNoise teaches a network to fall back to the right carry from a random start, this
    teaches it at every position, so a state that slowly drifts away from its carry is pulled back
    within the training length. Training only (``add`` and ``evaluate`` run without it); the
    recurrence then runs a position at a time (``adder.models.stepped``)."""

    needs_state = True

    def __init__(self, std: float = 0.1) -> None:
        self.std = check_at_least_zero("StepNoise", "std", std)

    def state_options(self, context: StepContext) -> dict[str, Any]:
        if not self.std:
            return {}
        return {"step_noise": self.std, "generator": context.generator(1)}  # apart from the initial state's draw
