"""ModelConfig: the hyperparameters of an adder backbone, written once.

Like nanoGPT's ``GPTConfig``: a checkpoint keeps these values, and ``build_model(ModelConfig(...))``
rebuilds the backbone from them without Lightning. ``AdderModule`` takes them as its flags
(``--model.hidden_size``) with these defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Cell = Literal["rnn", "lstm", "gru", "mlp"]
Encoding = Literal["embedding", "onehot", "scalar"]
RECURRENT_CELLS = ("rnn", "lstm", "gru")
ENCODINGS = ("embedding", "onehot", "scalar")


@dataclass(frozen=True)
class ModelConfig:
    """What defines a backbone.

    Args:
        cell: "rnn" (Elman, tanh), "lstm", "gru", or "mlp" for the fixed-length baseline.
        encoding: digit features: "embedding", "onehot" or "scalar" (see ``DigitEncoder``).
        input_size: embedding size per operand digit (used by "embedding" only).
        hidden_size: recurrent state size per layer (MLP: hidden layer width).
        num_layers: stacked recurrent layers (MLP: hidden layers).
        base: number base, 2..36; also the number of output classes.
        num_digits: the training operand length (the MLP's only length).
    """

    cell: Cell = "rnn"
    encoding: Encoding = "embedding"
    input_size: int = 64
    hidden_size: int = 64
    num_layers: int = 1
    base: int = 10
    num_digits: int = 10

    @property
    def recurrent(self) -> bool:
        """True for the cells that read one digit pair at a time and keep a state."""
        return self.cell in RECURRENT_CELLS

    @property
    def fixed_num_digits(self) -> int | None:
        """The only operand length the model adds, or None when it adds numbers of any length."""
        return None if self.recurrent else self.num_digits

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any]) -> ModelConfig:
        """The config among a checkpoint's hyperparameters (other keys are ignored); KeyError
        names the first missing key."""
        return cls(**{key: hparams[key] for key in cls.keys()})
