"""Framework-free adders: plain ``nn.Module``s usable without Lightning.

Every model maps LSB-first operand digits ``a, b`` of shape (batch, length) to logits of shape
(batch, length, base): one distribution over the sum digit at each position.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from adder.checks import check_base, check_positive

Cell = Literal["rnn", "lstm", "gru"]
Encoding = Literal["embedding", "onehot", "scalar"]
ENCODINGS = ("embedding", "onehot", "scalar")
_RNN_CLASSES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

State = Tensor | tuple[Tensor, Tensor] | None
#: Positions per recurrent chunk when predicting: bounds activation memory on long numbers. Short
#: chunks also keep a CPU's working set in its caches (docs/performance.md, section 7).
DEFAULT_CHUNK_SIZE = 64


class DigitEncoder(nn.Module):
    """Turns each digit into a feature vector and puts the two operands' codes side by side.

    "embedding": a learned vector of ``input_size`` per digit (the course report's choice);
    "onehot": the one-hot digit, ``base`` features; "scalar": the raw digit value as one feature
    (the blog post's input). Output: (batch, length, 2 * features).
    """

    def __init__(self, encoding: Encoding, base: int, input_size: int) -> None:
        super().__init__()
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r}; choose from " + ", ".join(ENCODINGS))
        self.encoding = encoding
        self.base = base
        if encoding == "embedding":
            self.embedding = nn.Embedding(base, check_positive("input_size", input_size))
            self.features = input_size
        else:
            self.features = base if encoding == "onehot" else 1

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        both = torch.stack([a, b], dim=-1)  # (batch, length, 2)
        if self.encoding == "embedding":
            codes = self.embedding(both)
        elif self.encoding == "onehot":
            codes = nn.functional.one_hot(both, self.base).float()
        else:
            codes = both.unsqueeze(-1).float()
        return codes.flatten(-2)  # (batch, length, 2 * features)


class RecurrentAdder(nn.Module):
    """Reads operand digit pairs LSB first with an RNN, LSTM or GRU and emits one sum digit per
    position; the carry has to live in the hidden state.

    Args:
        cell: "rnn" (Elman, tanh), "lstm" or "gru".
        encoding: how a digit becomes features, see :class:`DigitEncoder`.
        input_size: embedding size per operand digit (used by "embedding" only).
        hidden_size: recurrent state size per layer.
        num_layers: stacked recurrent layers.
        base: number base, 2..36; also the number of output classes.
    """

    def __init__(
        self,
        cell: Cell = "rnn",
        encoding: Encoding = "embedding",
        input_size: int = 64,
        hidden_size: int = 64,
        num_layers: int = 1,
        base: int = 10,
    ) -> None:
        super().__init__()
        if cell not in _RNN_CLASSES:
            raise ValueError(f"unknown cell {cell!r}; choose from " + ", ".join(_RNN_CLASSES))
        check_base(base)
        check_positive("hidden_size", hidden_size)
        check_positive("num_layers", num_layers)
        self.cell, self.base = cell, base
        self.encoder = DigitEncoder(encoding, base, input_size)
        self.rnn = _RNN_CLASSES[cell](2 * self.encoder.features, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, base)

    def forward(self, a: Tensor, b: Tensor, state: State = None) -> tuple[Tensor, State]:
        """Logits (batch, length, base) and the final recurrent state, which can be passed back
        in to continue with the next, more significant chunk of digits."""
        hidden, state = self.rnn(self.encoder(a, b), state)
        return self.head(hidden), state

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


#: Largest MLP the baseline builds (400 MB of float32 weights).
MAX_MLP_PARAMETERS = 100_000_000


class MLPAdder(nn.Module):
    """The blog post's baseline: a multi-layer perceptron that sees all digit pairs of a
    fixed-length problem at once and outputs every sum digit together. It has no notion of
    order, so it must learn each carry path separately.

    Args:
        num_positions: problem length it is built for (digits per operand plus the carry slot).
        hidden_size: width of each hidden layer.
        num_layers: number of hidden layers (ReLU after each).
        encoding: "embedding", "onehot" or "scalar", as for :class:`RecurrentAdder`.
        input_size: embedding size per digit (used by "embedding" only).
        base: number base, 2..36.
    """

    def __init__(
        self,
        num_positions: int,
        hidden_size: int = 64,
        num_layers: int = 1,
        encoding: Encoding = "onehot",
        input_size: int = 8,
        base: int = 10,
    ) -> None:
        super().__init__()
        check_base(base)
        self.num_positions = check_positive("num_positions", num_positions)
        check_positive("hidden_size", hidden_size)
        check_positive("num_layers", num_layers)
        self.base = base
        self.encoder = DigitEncoder(encoding, base, input_size)
        layers: list[nn.Module] = []
        width = num_positions * 2 * self.encoder.features
        # The first and last layers grow with the number length; refuse sizes that cannot fit.
        size = width * hidden_size + hidden_size * num_positions * base + (num_layers - 1) * hidden_size**2
        if size > MAX_MLP_PARAMETERS:
            raise ValueError(
                f"an MLP for {num_positions - 1}-digit numbers with hidden_size {hidden_size} would have "
                f"~{size:,} weights (at most {MAX_MLP_PARAMETERS:,}); lower num_digits or hidden_size"
            )
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_size), nn.ReLU()]
            width = hidden_size
        layers.append(nn.Linear(width, num_positions * base))
        self.net = nn.Sequential(*layers)

    def forward(self, a: Tensor, b: Tensor, state: State = None) -> tuple[Tensor, State]:
        if a.shape[-1] != self.num_positions:
            raise ValueError(
                f"this MLP adds numbers of exactly {self.num_positions - 1} digits "
                f"({self.num_positions} positions), got {a.shape[-1]} positions"
            )
        logits = self.net(self.encoder(a, b).flatten(1))
        return logits.view(a.shape[0], self.num_positions, self.base), None

    @torch.no_grad()
    def predict(self, a: Tensor, b: Tensor, chunk_size: int | None = DEFAULT_CHUNK_SIZE) -> Tensor:
        """Predicted sum digits (batch, num_positions). The MLP sees every position at once, so
        there is nothing to chunk: ``chunk_size`` is accepted for a common signature only."""
        return self(a, b)[0].argmax(-1)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_model(
    cell: str,
    encoding: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    base: int,
    num_digits: int,
) -> nn.Module:
    """The backbone named by ``cell``: a recurrent adder, or the fixed-length MLP baseline.

    Its arguments are the hyperparameters a checkpoint must hold to rebuild the model
    (see :func:`adder.checkpoints.load_adder`).
    """
    if cell == "mlp":
        return MLPAdder(num_digits + 1, hidden_size, num_layers, encoding, input_size, base)  # type: ignore[arg-type]
    return RecurrentAdder(cell, encoding, input_size, hidden_size, num_layers, base)  # type: ignore[arg-type]
