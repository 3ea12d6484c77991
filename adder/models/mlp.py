"""MLPAdder: the blog post's baseline, a perceptron that sees a whole fixed-length problem at once."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from adder.models.base import DEFAULT_CHUNK_SIZE, AdderNet, State
from adder.models.config import Encoding, ModelConfig
from adder.models.encoder import DigitEncoder
from adder.problems.checks import check_base, check_positive

#: Largest MLP the baseline builds (400 MB of float32 weights).
MAX_MLP_PARAMETERS = 100_000_000


class MLPAdder(AdderNet):
    """Sees all digit pairs of a ``num_digits`` problem at once and outputs every sum digit
    together. It has no notion of order, so it must learn each carry path separately, and no state.
    Its arguments are :class:`~adder.models.ModelConfig`'s that apply to it (``hidden_size`` and
    ``num_layers``: its hidden layers' width and number)."""

    fixed_length = True

    def __init__(
        self,
        encoding: Encoding = ModelConfig.encoding,
        input_size: int = ModelConfig.input_size,
        hidden_size: int = ModelConfig.hidden_size,
        num_layers: int = ModelConfig.num_layers,
        base: int = ModelConfig.base,
        num_digits: int = ModelConfig.num_digits,
    ) -> None:
        super().__init__()
        config = ModelConfig("mlp", encoding, input_size, hidden_size, num_layers, base, num_digits)
        check_base(config.base)
        num_positions = check_positive("num_digits", config.num_digits) + 1  # the final carry's slot
        hidden_size = check_positive("hidden_size", config.hidden_size)
        num_layers = check_positive("num_layers", config.num_layers)
        self.config = config
        self.num_positions, self.base = num_positions, config.base
        self.encoder = DigitEncoder(config.encoding, config.base, config.input_size)
        width = num_positions * 2 * self.encoder.features
        # The first and last layers grow with the number length; refuse sizes that cannot fit.
        size = width * hidden_size + hidden_size * num_positions * config.base + (num_layers - 1) * hidden_size**2
        if size > MAX_MLP_PARAMETERS:
            raise ValueError(
                f"an MLP for {config.num_digits}-digit numbers with hidden_size {hidden_size} would have "
                f"~{size:,} weights (at most {MAX_MLP_PARAMETERS:,}); lower num_digits or hidden_size"
            )
        layers: list[nn.Module] = []
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_size), nn.ReLU()]
            width = hidden_size
        layers.append(nn.Linear(width, num_positions * config.base))
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
