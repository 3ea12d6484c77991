"""Framework-free adders: plain ``nn.Module``s, their config, and loading them from checkpoints.

Every model maps LSB-first operand digits ``a, b`` of shape (batch, length) to logits of shape
(batch, length, base), and says through its ``config`` what it is (``config.recurrent``,
``config.fixed_num_digits``).
"""

from __future__ import annotations

from torch import nn

from adder.models.config import ModelConfig
from adder.models.encoder import DigitEncoder
from adder.models.mlp import MLPAdder
from adder.models.recurrent import DEFAULT_CHUNK_SIZE, RecurrentAdder, State

Adder = RecurrentAdder | MLPAdder

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "Adder",
    "DigitEncoder",
    "MLPAdder",
    "ModelConfig",
    "RecurrentAdder",
    "State",
    "build_model",
    "count_parameters",
]


def build_model(config: ModelConfig) -> Adder:
    """The backbone ``config`` describes: a recurrent adder, or the fixed-length MLP baseline."""
    return RecurrentAdder(config) if config.recurrent else MLPAdder(config)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
