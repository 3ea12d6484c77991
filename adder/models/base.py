"""AdderNet: what every adder network offers the training module and the inference commands.

A network maps LSB-first operand digits ``a, b`` (batch, length) to logits (batch, length, base)
and says through its ``config`` what it is. A network with a recurrent state (``has_state``) also
owns its state API, so that training objectives (state noise, state losses) work on any cell
without reading its internals: ``initial_state`` (what a sum starts from), ``states`` (the state
the head reads after every position) and ``head`` (a module from those states to logits); ``forward``
is ``head(states(...))`` and one more position is a call with a length-1 slice and the state
returned by the last. A new cell is one such class in ``adder/models/`` and a config naming it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from adder.models.config import ModelConfig

State = Tensor | tuple[Tensor, ...] | None
#: Positions per recurrent chunk when predicting: bounds activation memory on long numbers; short
#: chunks also keep a CPU's working set in its caches (docs/performance.md, section 7).
DEFAULT_CHUNK_SIZE = 64


class AdderNet(nn.Module):
    """The base of the adder networks (see the module's docstring for the API)."""

    #: Whether the network keeps a state from position to position (the state objectives need one).
    has_state: bool = False
    #: Whether the network adds numbers of its training length only (``num_digits``), like the MLP.
    fixed_length: bool = False
    #: The lowest value a state coordinate takes (-1 for tanh and the gated cells, 0 for ReLU).
    state_floor: float = -1.0
    config: ModelConfig
    #: A stateful network's readout: a module from ``states`` to logits (batch, length, base).
    head: nn.Module

    def initial_state(self, problems: int, device: torch.device) -> State:
        """The state a sum starts from (the zeros the cells start from when given None)."""
        return None

    def states(
        self,
        a: Tensor,
        b: Tensor,
        state: State = None,
        step_noise: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, State]:
        """The state the head reads after every position (batch, length, features) and the final
        state; ``step_noise``: std of Gaussian noise added to the state after every position
        (training only), drawn from ``generator``."""
        raise NotImplementedError(f"{type(self).__name__} has no recurrent state")

    def forward(self, a: Tensor, b: Tensor, state: State = None) -> tuple[Tensor, State]:
        """Logits (batch, length, base) and the final state, which can be passed back in to
        continue with the next, more significant chunk of digits."""
        hidden, state = self.states(a, b, state)
        return self.head(hidden), state

    @torch.no_grad()
    def predict(self, a: Tensor, b: Tensor, chunk_size: int | None = DEFAULT_CHUNK_SIZE) -> Tensor:
        """Predicted sum digits (batch, length)."""
        return self(a, b)[0].argmax(-1)

    def spec(self) -> dict[str, Any]:
        """The network as a config names it: its class path and the init arguments that rebuild it
        (what a checkpoint keeps as its ``net`` hyperparameter)."""
        names = inspect.signature(type(self).__init__).parameters
        init_args = {key: getattr(self.config, key) for key in self.config.keys() if key in names}
        return {"class_path": f"{type(self).__module__}.{type(self).__qualname__}", "init_args": init_args}


def network_from_spec(spec: Mapping[str, Any]) -> AdderNet:
    """The network a ``class_path``/``init_args`` spec names. Only classes of ``adder.models`` are
    imported: a checkpoint is loaded as plain weights, and naming a module must not run other code.
    Raises ValueError for a spec that names anything else or arguments the class refuses."""
    path = str(spec.get("class_path", ""))
    module_name, _, name = path.rpartition(".")
    if module_name != "adder.models" and not module_name.startswith("adder.models."):
        raise ValueError(f"{path!r} is not an adder network (adder.models.*)")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"no network {path!r}") from error
    if not (isinstance(cls, type) and issubclass(cls, AdderNet)):
        raise ValueError(f"{path!r} is not an adder network (an AdderNet)")
    try:
        return cls(**dict(spec.get("init_args") or {}))
    except TypeError as error:
        raise ValueError(f"{path}: {error}") from error
