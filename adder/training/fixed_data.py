"""A fixed data set: problems drawn once from the training mixture and split into training,
validation and test sets (the blog post's setup: 1000 problems split 0.5/0.1/0.4)."""

from __future__ import annotations

from collections.abc import Sequence

from torch.utils.data import TensorDataset

from adder.problems.checks import check_digit_budget, check_positive
from adder.problems.samplers import STREAM_FIXED, ProblemSampler, make_generator


class FixedDataSet:
    """``size`` problems of the mixture, cut into train/validation/test by the fractions ``split``."""

    def __init__(self, size: int, split: Sequence[float], num_digits: int) -> None:
        check_digit_budget("data.dataset_size x data.num_digits", size, num_digits)
        self.size = check_positive("dataset_size", size)
        if len(split) != 3 or min(split) < 0 or abs(sum(split) - 1.0) > 1e-6:
            raise ValueError(f"split must be three fractions >= 0 summing to 1, got {tuple(split)}")
        self.split = tuple(split)

    def build(
        self, sampler: ProblemSampler, seed: int
    ) -> tuple[TensorDataset, TensorDataset, dict[str, TensorDataset]]:
        """The training set, the validation set and the test sets by name ("split/<num_digits>",
        none when the test fraction leaves no problem)."""
        problems = sampler.sample(self.size, make_generator(seed, STREAM_FIXED))
        n_train = round(self.split[0] * self.size)
        n_val = round(self.split[1] * self.size)
        bounds = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, self.size)]
        train, val, test = (TensorDataset(*(t[lo:hi] for t in problems)) for lo, hi in bounds)
        if len(train) == 0 or len(val) == 0:
            raise ValueError(f"dataset_size={self.size} with split={self.split} leaves an empty split")
        return train, val, ({f"split/{sampler.num_digits}": test} if len(test) else {})
