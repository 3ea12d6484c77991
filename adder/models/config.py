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
RecurrentCell = Literal["rnn", "lstm", "gru"]
Encoding = Literal["embedding", "onehot", "scalar"]
Gates = Literal["sigmoid", "hard"]
Nonlinearity = Literal["tanh", "relu"]
RECURRENT_CELLS = ("rnn", "lstm", "gru")
GATED_CELLS = ("lstm", "gru")
ENCODINGS = ("embedding", "onehot", "scalar")
GATES = ("sigmoid", "hard")
NONLINEARITIES = ("tanh", "relu")


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
        gates: how the LSTM's and GRU's gates squash: "sigmoid" (torch's cells), or "hard", the
            Neural GPU's cut-off sigmoid, which reaches exactly 0 and 1, so a saturated update gate
            holds a carry unchanged along any run of digits (see ``adder.models.stepped``).
        nonlinearity: the Elman RNN's activation, "tanh" or "relu" (``nn.RNN``'s option).
    """

    cell: Cell = "rnn"
    encoding: Encoding = "embedding"
    input_size: int = 64
    hidden_size: int = 64
    num_layers: int = 1
    base: int = 10
    num_digits: int = 10
    gates: Gates = "sigmoid"
    nonlinearity: Nonlinearity = "tanh"

    @property
    def recurrent(self) -> bool:
        """True for the cells that read one digit pair at a time and keep a state."""
        return self.cell in RECURRENT_CELLS

    @property
    def fixed_num_digits(self) -> int | None:
        """The only operand length the model adds, or None when it adds numbers of any length."""
        return None if self.recurrent else self.num_digits

    def as_kwargs(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def required_keys(cls) -> tuple[str, ...]:
        """The keys every adder checkpoint has; those added later (``LATER_KEYS``) default when absent."""
        return tuple(key for key in cls.keys() if key not in LATER_KEYS)

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any]) -> ModelConfig:
        """The config among a checkpoint's hyperparameters (other keys are ignored); KeyError
        names the first missing key. A checkpoint written before a key existed gets its default."""
        return cls(**{key: hparams[key] for key in cls.keys() if key in hparams or key not in LATER_KEYS})


#: Hyperparameters added after the first checkpoints were written: their defaults are what those
#: checkpoints' models were.
LATER_KEYS = ("gates", "nonlinearity")
