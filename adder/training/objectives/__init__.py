"""Training objectives: the tricks AdderModule adds to cross-entropy, one class per file."""

from __future__ import annotations

from adder.training.objectives.base import Objective, StepContext, StepResult
from adder.training.objectives.carry_hint import CarryHint
from adder.training.objectives.initial_state_noise import InitialStateNoise
from adder.training.objectives.interval_step import IntervalStep
from adder.training.objectives.replay import ReplayHardest
from adder.training.objectives.replay_sums import ReplaySums
from adder.training.objectives.state_spread import StateSpread
from adder.training.objectives.step_contraction import StepContraction
from adder.training.objectives.step_noise import StepNoise

__all__ = [
    "CarryHint",
    "InitialStateNoise",
    "IntervalStep",
    "Objective",
    "ReplayHardest",
    "ReplaySums",
    "StateSpread",
    "StepContext",
    "StepContraction",
    "StepNoise",
    "StepResult",
    "default_objectives",
]


def default_objectives(stateful: bool) -> list[Objective]:
    """The objectives of a module given none: replay of the hardest fifth of each batch and, for
    a network with a state (``stateful``), initial-state noise of std 0.3."""
    objectives: list[Objective] = [ReplayHardest(0.2)]
    if stateful:
        objectives.append(InitialStateNoise(0.3))
    return objectives
