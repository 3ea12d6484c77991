"""DigitEncoder: each operand digit as features, the two operands' codes side by side."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from adder.models.config import ENCODINGS
from adder.problems.checks import check_positive


class DigitEncoder(nn.Module):
    """Turns each digit into a feature vector and puts the two operands' codes side by side.

    "embedding": a learned vector of ``input_size`` per digit (the course report's choice);
    "onehot": the one-hot digit, ``base`` features; "scalar": the raw digit value as one feature
    (the blog post's input). Output: (batch, length, 2 * features).
    """

    def __init__(self, encoding: str, base: int, input_size: int) -> None:
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
