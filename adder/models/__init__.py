"""Framework-free adders: plain ``nn.Module``s, their config, and loading them from checkpoints.

Every model maps LSB-first operand digits ``a, b`` of shape (batch, length) to logits of shape
(batch, length, base), and says through its ``config`` what it is (``config.recurrent``,
``config.fixed_num_digits``); :class:`AdderNet` is the API they share.
"""

from __future__ import annotations

from torch import nn

from adder.models.base import DEFAULT_CHUNK_SIZE, AdderNet, State, network_from_spec
from adder.models.config import ModelConfig
from adder.models.encoder import DigitEncoder
from adder.models.mlp import MLPAdder
from adder.models.recurrent import RecurrentAdder

Adder = RecurrentAdder | MLPAdder

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "Adder",
    "AdderNet",
    "DigitEncoder",
    "MLPAdder",
    "ModelConfig",
    "RecurrentAdder",
    "State",
    "build_model",
    "count_parameters",
    "network_from_spec",
]


def build_model(config: ModelConfig) -> Adder:
    """The network ``config`` describes: a recurrent adder, or the fixed-length MLP baseline."""
    if config.cell != "mlp" or config.recurrent:
        return RecurrentAdder(**config.as_kwargs())
    return MLPAdder(**{key: value for key, value in config.as_kwargs().items() if key in MLP_KEYS})


#: The ModelConfig fields that apply to the MLP.
MLP_KEYS = ("encoding", "input_size", "hidden_size", "num_layers", "base", "num_digits")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
