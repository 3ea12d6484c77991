"""Training objectives: the tricks AdderModule adds to cross-entropy, one class per file."""

from __future__ import annotations

from adder.models.base import AdderNet
from adder.training.objectives.base import Objective, StepContext, StepResult, shapes_one_step
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


def default_objectives(net: AdderNet) -> list[Objective]:
    """The objectives of a module given none: replay of the hardest fifth of each batch; for a
    network with a state, initial-state noise of std 0.3; and for a one-layer tanh RNN (the default
    network), the two one-step objectives that make it a model ``adder verify`` proves, each on a
    sample of the batch so that the fit stays short (docs/results.md has what they cost)."""
    objectives: list[Objective] = [ReplayHardest(0.2)]
    if net.has_state:
        objectives.append(InitialStateNoise(0.3))
    if shapes_one_step(net):
        objectives += [StepContraction(3.5, std=1.0, steps=256), IntervalStep(classes=16)]
    return objectives
