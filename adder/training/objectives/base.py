"""Objective: one training trick as a component of AdderModule's loss and step.

AdderModule trains with cross-entropy over every output digit plus, for each objective in its
list, ``weight * loss(step)``; an objective may also change what a step sees (problems added to
the batch, the state a sum starts from, options of the network's recurrence). Every hook does
nothing by default, so an objective overrides the one or two it needs. A new one is a subclass
named by ``class_path`` in a config's ``model.objectives``; the module needs no change.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from adder.models.base import AdderNet, State
from adder.problems.digits import Batch


@dataclass(frozen=True)
class StepContext:
    """What a training step is, before the network runs: its network, step number and device."""

    net: AdderNet
    global_step: int
    device: torch.device

    def generator(self, *keys: int) -> torch.Generator:
        """A generator seeded by the run's seed, the step and ``keys``: a resumed run draws what the
        interrupted one would have. Ints only: the hash of a str changes from process to process."""
        seed = hash((torch.initial_seed(), self.global_step, *keys)) % 2**63
        return torch.Generator(self.device).manual_seed(seed)


@dataclass(frozen=True)
class StepResult:
    """A training step's batch (with any problems objectives added), what the network made of it
    and the cross-entropy of every digit (problems, positions); the first ``fresh`` problems are
    the data module's."""

    a: Tensor
    b: Tensor
    target: Tensor
    logits: Tensor
    losses: Tensor
    states: Tensor | None
    fresh: int
    context: StepContext


class Objective:
    """A training trick (see the module docstring). ``weight`` scales what ``loss`` returns."""

    #: Whether the objective works on the network's state (refused for a network without one).
    needs_state: bool = False
    #: Logged as ``train/<log_name>`` on logging steps when ``loss`` returns a value.
    log_name: str | None = None
    #: A key under which the checkpoint keeps ``extra_state`` (so that a resumed run is the same run).
    checkpoint_key: str | None = None
    weight: float = 1.0

    def spec(self) -> dict[str, Any]:
        """The objective as a config names it: class path and init arguments (each init argument
        is kept as the attribute of its name), as a checkpoint's ``objectives`` hold it."""
        names = [name for name in inspect.signature(type(self).__init__).parameters if name != "self"]
        cls = type(self)
        return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": {n: getattr(self, n) for n in names}}

    def check(self, net: AdderNet) -> None:
        """Raise ValueError when this objective cannot train ``net``."""
        if self.needs_state and not net.has_state:
            raise ValueError(f"{type(self).__name__} applies to networks with a state; {type(net).__name__} has none")

    def extend_batch(self, batch: Batch) -> Batch:
        return batch

    def initial_state(self, state: State, problems: int, context: StepContext) -> State:
        return state

    def state_options(self, context: StepContext) -> dict[str, Any]:
        """Keyword arguments for the network's ``states`` in this step."""
        return {}

    def loss(self, step: StepResult) -> Tensor | None:
        return None

    def after_step(self, step: StepResult) -> None:
        pass

    def extra_state(self) -> Tensor | None:
        return None

    def load_extra_state(self, state: Tensor | None) -> None:
        pass


def check_at_least_zero(owner: str, name: str, value: float) -> float:
    if not value >= 0.0:
        raise ValueError(f"{owner} {name} must be >= 0, got {value}")
    return float(value)


def check_one_layer_state(owner: str, net: AdderNet) -> None:
    """Refuses a network whose state is not one layer of an RNN or a GRU: the one step a loss on a
    single step of the recurrence takes."""
    cell, layers = getattr(net.config, "cell", None), getattr(net.config, "num_layers", None)
    if cell not in ("rnn", "gru") or layers != 1:
        raise ValueError(f"{owner} applies to a one-layer RNN or GRU; this network is {cell} with {layers} layers")


def check_torch_squashing(owner: str, net: AdderNet) -> None:
    """Refuses a network whose step squashes with anything but tanh and sigmoid gates (torch's
    cells): what interval bounds of one step assume."""
    nonlinearity, gates = getattr(net.config, "nonlinearity", "tanh"), getattr(net.config, "gates", "sigmoid")
    if nonlinearity != "tanh" or gates != "sigmoid":
        raise ValueError(
            f"{owner} bounds tanh steps with sigmoid gates; this network has nonlinearity {nonlinearity}, gates {gates}"
        )


def shapes_one_step(net: AdderNet) -> bool:
    """Whether ``net`` is a one-layer tanh RNN, the network the default objectives shape one step
    of for ``adder verify`` (default_objectives)."""
    config = net.config
    return getattr(config, "cell", None) == "rnn" and config.num_layers == 1 and config.nonlinearity == "tanh"
