"""What the tests of one objective build: a batch of short sums and a small seeded RNN."""

from __future__ import annotations

import torch

from adder.models import RecurrentAdder
from adder.problems.samplers import ProblemSampler, make_generator


def batch(size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``size`` sums of 1 to 6 digits: a, b and the target."""
    return ProblemSampler(num_digits=6, min_digits=1, weights={"digits": 1.0}).sample(size, make_generator(0))


def rnn(hidden: int = 8) -> RecurrentAdder:
    torch.manual_seed(0)
    return RecurrentAdder("rnn", hidden_size=hidden, input_size=4)
