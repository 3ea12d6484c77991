"""What ``adder verify`` accepts: a network it models exactly, with finite weights, whose float32
computation in ``add`` cannot overflow. Anything else is refused with one ``error:`` line.

A proof is about the network the analysis models; a setting the analysis ignores (a ReLU cell
read as tanh) would make it a proof about another network, so every field of ``ModelConfig`` is
listed here with the values the analysis models, and a field missing from the list is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from adder.errors import InputError
from adder.models import ModelConfig

#: Each ModelConfig field and the values the analysis models; None: any value (the analysis reads
#: its effect from the weights: the digit codes, the sizes, the base).
MODELLED: Mapping[str, tuple[object, ...] | None] = {
    "cell": None,  # each cell has its own analysis (the verdict says which), or is refused there
    "encoding": None,  # the codes of every digit pair are computed by the model's own encoder
    "input_size": None,
    "hidden_size": None,
    "num_layers": None,
    "base": None,
    "num_digits": None,  # the recurrent cells ignore it; the MLP's length is checked exhaustively
    "gates": ("sigmoid",),
    "nonlinearity": ("tanh",),
}
#: The largest float32; a sum whose terms' magnitudes add up to less than half of it cannot
#: overflow, in any order, even after rounding (each partial sum is at most the total times 1 + 2^-24
#: per addition, far less than a factor of 2 for the sums here).
OVERFLOW_LIMIT = torch.finfo(torch.float32).max / 2


class UnsupportedModel(InputError):
    """A checkpoint whose model this verifier cannot reason about."""


def check_modelled(config: ModelConfig) -> None:
    """Refuses a config with a setting the analysis does not model."""
    for key in ModelConfig.keys():
        if key not in MODELLED:
            raise UnsupportedModel(f"adder verify does not model the setting {key!r} of this model")
        allowed, value = MODELLED[key], getattr(config, key)
        if allowed is not None and value not in allowed:
            choices = ", ".join(map(str, allowed))
            raise UnsupportedModel(f"adder verify models {key} {choices} only; this model has {key} {value}")


def check_finite(model: nn.Module) -> None:
    """Refuses weights that are inf or NaN (float32 arithmetic on them is not what any bound says)."""
    for name, value in [*model.named_parameters(), *model.named_buffers()]:
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise UnsupportedModel(f"adder verify refuses non-finite weights: {name} holds inf or NaN")


def check_no_overflow(what: str, magnitude: Tensor) -> None:
    """Refuses a network where a float32 sum (a pre-activation, a logit) could overflow:
    ``magnitude`` bounds the sum of its terms' absolute values, one entry per sum."""
    largest = float(magnitude.max()) if magnitude.numel() else 0.0
    if not largest < OVERFLOW_LIMIT:  # also refuses NaN
        raise UnsupportedModel(
            f"adder verify refuses weights this large: a {what} could reach {largest:.3g}, "
            f"where float32 overflows (at {2 * OVERFLOW_LIMIT:.3g})"
        )
