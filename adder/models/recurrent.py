"""RecurrentAdder: an RNN, LSTM or GRU that reads digit pairs LSB first; the carry lives in its state."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from adder.models.base import DEFAULT_CHUNK_SIZE, AdderNet, State
from adder.models.config import (
    GATED_CELLS,
    GATES,
    NONLINEARITIES,
    RECURRENT_CELLS,
    Encoding,
    Gates,
    ModelConfig,
    Nonlinearity,
    RecurrentCell,
)
from adder.models.encoder import DigitEncoder
from adder.models.stepped import run_stepped
from adder.problems.checks import check_base, check_positive

_RNN_CLASSES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentAdder(AdderNet):
    """Reads operand digit pairs LSB first and emits one sum digit per position.

    Maps ``a, b`` of shape (batch, length) to logits (batch, length, base). Its arguments are
    :class:`~adder.models.ModelConfig`'s (the config a checkpoint keeps), ``cell`` one of "rnn",
    "lstm", "gru"; the training command links ``base`` and ``num_digits`` from ``--data``.
    """

    has_state = True

    def __init__(
        self,
        cell: RecurrentCell = "rnn",
        encoding: Encoding = ModelConfig.encoding,
        input_size: int = ModelConfig.input_size,
        hidden_size: int = ModelConfig.hidden_size,
        num_layers: int = ModelConfig.num_layers,
        base: int = ModelConfig.base,
        num_digits: int = ModelConfig.num_digits,
        gates: Gates = ModelConfig.gates,
        nonlinearity: Nonlinearity = ModelConfig.nonlinearity,
    ) -> None:
        super().__init__()
        config = ModelConfig(cell, encoding, input_size, hidden_size, num_layers, base, num_digits, gates, nonlinearity)
        _check(config)
        self.config = config
        self.cell, self.base = config.cell, config.base
        self.encoder = DigitEncoder(config.encoding, config.base, config.input_size)
        rnn = _RNN_CLASSES[config.cell]
        options = {"nonlinearity": config.nonlinearity} if config.cell == "rnn" else {}
        features = 2 * self.encoder.features
        self.rnn = rnn(features, config.hidden_size, num_layers=config.num_layers, batch_first=True, **options)
        self.head = nn.Linear(config.hidden_size, config.base)
        self.state_floor = 0.0 if config.nonlinearity == "relu" else -1.0

    def initial_state(self, problems: int, device: torch.device) -> State:
        """Zeros of every layer, as the cells start from: (h, c) for an LSTM, h for the others."""
        zeros = torch.zeros(self.rnn.num_layers, problems, self.rnn.hidden_size, device=device)
        return (zeros, zeros.clone()) if isinstance(self.rnn, nn.LSTM) else zeros

    def states(
        self,
        a: Tensor,
        b: Tensor,
        state: State = None,
        step_noise: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, State]:
        """The top layer's state after every position (batch, length, hidden_size), which the
        head reads, and the final recurrent state. ``step_noise``: std of Gaussian noise added to
        every layer's state after every position (training only; drawn from ``generator``)."""
        inputs = self.encoder(a, b)
        if self.config.gates == "sigmoid" and not step_noise:
            return self.rnn(inputs, state)  # torch's fused kernel
        return run_stepped(self.rnn, inputs, state, self.config.gates, step_noise, generator)

    @torch.no_grad()
    def predict(self, a: Tensor, b: Tensor, chunk_size: int | None = DEFAULT_CHUNK_SIZE) -> Tensor:
        """Predicted sum digits (batch, length), computed ``chunk_size`` positions at a time with
        the hidden state carried across chunks, so activation memory is batch x chunk_size
        whatever the length. ``None`` runs the whole length at once."""
        length = a.shape[-1]
        chunk = length if chunk_size is None else check_positive("chunk_size", chunk_size)
        digits = torch.empty_like(a)
        state: State = None
        for start in range(0, length, chunk):
            logits, state = self(a[:, start : start + chunk], b[:, start : start + chunk], state)
            digits[:, start : start + chunk] = logits.argmax(-1)
        return digits


def _check(config: ModelConfig) -> None:
    """Refuse a config that names no recurrent cell or gives an option to a cell without it."""
    if config.cell not in RECURRENT_CELLS:
        raise ValueError(f"unknown cell {config.cell!r}; choose from " + ", ".join(RECURRENT_CELLS))
    check_base(config.base)
    check_positive("hidden_size", config.hidden_size)
    check_positive("num_layers", config.num_layers)
    for name, value, choices in (
        ("gates", config.gates, GATES),
        ("nonlinearity", config.nonlinearity, NONLINEARITIES),
    ):
        if value not in choices:
            raise ValueError(f"unknown {name} {value!r}; choose from " + ", ".join(choices))
    if config.gates != "sigmoid" and config.cell not in GATED_CELLS:
        raise ValueError(f"gates {config.gates!r} applies to the gated cells (lstm, gru), not {config.cell}")
    if config.nonlinearity != "tanh" and config.cell != "rnn":
        raise ValueError(f"nonlinearity {config.nonlinearity!r} applies to the Elman cell (rnn), not {config.cell}")
