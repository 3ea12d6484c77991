"""AdditionDataModule: training batches from the stream or a fixed data set, and the evaluation sets."""

from __future__ import annotations

import dataclasses
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from adder.problems.checks import check_digit_budget, check_positive
from adder.problems.samplers import STREAM_VAL, ProblemSampler, make_generator
from adder.problems.suites import EVAL_KINDS, SUITE_SIZE, default_test_lengths, default_val_num_digits, suite_problems
from adder.training.fixed_data import FixedDataSet
from adder.training.stream import BatchStream, default_block_batches, stream_loader

__all__ = ["AdditionDataModule", "BatchStream", "default_block_batches"]

#: The default training mixture: uniform digits, carry chains and repeated pairs.
DEFAULT_SAMPLING = {"digits": 0.4, "carry": 0.4, "repeat": 0.2}
#: Suites that validation holds besides the mixture: full-ripple sums and the edge cases, which the
#: mixture draws too rarely to catch every miss.
DEFAULT_VAL_KINDS = ("carry", "edge")


class AdditionDataModule(L.LightningDataModule):
    """Random multi-digit addition problems, LSB first: the training stream (``adder.training.stream``)
    or a fixed data set (``adder.training.fixed_data``), and the evaluation sets.

    Args:
        base: number base, 2..36.
        num_digits: operands have up to this many digits (exactly this many when min_digits is unset).
        min_digits: train on operand lengths uniform in [min_digits, num_digits].
        sampling: training mixture, sampler name -> weight: "digits" (uniform digits), "range"
            (uniform numbers in [range_start, range_end), the course report's generator), "carry"
            (carry-chain-rich digits) and "repeat" (one digit pair repeated, like 99..9 + 1).
            Default: {"digits": 0.4, "carry": 0.4, "repeat": 0.2}.
        carry_probability: chance that a "carry" position sums to base - 1, extending a chain.
        range_start: lower bound (inclusive) of the "range" sampler.
        range_end: upper bound (exclusive) of the "range" sampler; default base**num_digits.
        batch_size: problems per training batch.
        eval_batch_size: problems per validation/test batch.
        val_size: problems in the fixed validation set drawn from the training mixture.
        val_num_digits: operand length of the validation problems. Default: 10 x num_digits, so
            that validation checks generalisation beyond the training lengths, not only fit
            (num_digits itself when the mixture uses "range", whose numbers cannot grow).
        val_kinds: evaluation suites (see test_kinds) added to the validation set at
            val_num_digits, so that a run cannot stop "perfect" while a kind the tests check is
            wrong. Default: "carry" and "edge". Drawn apart from the test suites; the edge cases
            are a fixed list, so at a test length they are the test's own.
        val_kind_size: problems per added validation suite (the edge suite has its fixed 8).
        test_size: problems per test set.
        test_kinds: test sets to build: "random" (uniform digits), "carry" (the carry ripples
            through every digit), "mixed" (carry-rich), "edge" (fixed edge cases). Default: all.
        test_lengths: operand lengths of the test sets. Default: 1, 10 and 100 x num_digits
            (10, 100, 1000 for the default), to show how far the model generalises.
        seed: data seed; None follows the run's ``seed_everything``.
        dataset_size: if set, train on a fixed set of this many problems instead of a stream,
            split into train/validation/test by ``split`` (``adder.training.fixed_data``).
        split: train, validation and test fractions of ``dataset_size``.
        num_workers: DataLoader worker processes. Batches are vectorised and cheap, so 0 is fastest
            on small CPUs.
        block_batches: training batches drawn per sampler call (see BatchStream); None picks up to
            16. Part of the stream's definition: 1 gives the stream of earlier versions.
    """

    def __init__(
        self,
        base: int = 10,
        num_digits: int = 10,
        min_digits: int | None = 1,
        sampling: dict[str, float] | None = None,
        carry_probability: float = 0.9,
        range_start: int = 0,
        range_end: int | None = None,
        batch_size: int = 450,
        eval_batch_size: int = 1000,
        val_size: int = 2000,
        val_num_digits: int | None = None,
        val_kinds: list[str] | None = None,
        val_kind_size: int = 200,
        test_size: int = SUITE_SIZE,
        test_kinds: list[str] | None = None,
        test_lengths: list[int] | None = None,
        seed: int | None = None,
        dataset_size: int | None = None,
        split: tuple[float, float, float] = (0.5, 0.1, 0.4),
        num_workers: int = 0,
        block_batches: int | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)  # the CLI logs the whole run config (adder.training.tracking)
        weights = dict(sampling) if sampling is not None else dict(DEFAULT_SAMPLING)
        self.sampler = ProblemSampler(base, num_digits, min_digits, weights, carry_probability, range_start, range_end)
        self.base, self.num_digits = base, num_digits
        self.batch_size = check_positive("batch_size", batch_size)
        self.eval_batch_size = check_positive("eval_batch_size", eval_batch_size)
        check_digit_budget("data.batch_size x data.num_digits", batch_size, num_digits)
        self._set_validation(val_size, val_num_digits, val_kinds, val_kind_size)
        self._set_tests(test_size, test_kinds, test_lengths)
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = seed
        self.fixed = FixedDataSet(dataset_size, split, num_digits) if dataset_size is not None else None
        self.dataset_size, self.split = dataset_size, tuple(split)
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {num_workers}")
        self.num_workers = num_workers
        self.block_batches = check_positive("block_batches", block_batches) if block_batches is not None else None
        self.val_set: TensorDataset | None = None
        self.test_sets: dict[str, TensorDataset] = {}
        self.train_set: TensorDataset | None = None

    def _set_validation(
        self, val_size: int, val_num_digits: int | None, val_kinds: list[str] | None, val_kind_size: int
    ) -> None:
        self.val_size = check_positive("val_size", val_size)
        if val_num_digits is None:
            val_num_digits = default_val_num_digits(self.num_digits, whole_numbers="range" in self.sampler.weights)
        check_positive("val_num_digits", val_num_digits)
        self.val_sampler = self.sampler
        if val_num_digits != self.num_digits:
            self.val_sampler = dataclasses.replace(self.sampler, num_digits=val_num_digits, min_digits=None)
        self.val_kinds = _kinds("validation", val_kinds, DEFAULT_VAL_KINDS)
        self.val_kind_size = check_positive("val_kind_size", val_kind_size)
        # Sets are built in memory as int64 tensors: refuse sizes that could not fit before
        # allocating (a typo like num_digits 1000000000 should be an error, not a frozen machine).
        problems = val_size + len(self.val_kinds) * val_kind_size
        check_digit_budget("validation problems x data.val_num_digits", problems, val_num_digits)

    def _set_tests(self, test_size: int, test_kinds: list[str] | None, test_lengths: list[int] | None) -> None:
        self.test_size = check_positive("test_size", test_size)
        self.test_kinds = _kinds("test", test_kinds, EVAL_KINDS)
        self.test_lengths = list(test_lengths) if test_lengths is not None else default_test_lengths(self.num_digits)
        for length in self.test_lengths:
            check_positive("test length", length)
        for flag, given in (("test_kinds", self.test_kinds), ("test_lengths", self.test_lengths)):
            if not given:
                raise ValueError(f"data.{flag} is empty: give at least one, or leave it out for the default")
        for length in self.test_lengths:
            check_digit_budget(f"data.test_size x test length {length}", test_size, length)

    # ----------------------------------------------------------------------------------------
    def _seed(self) -> int:
        # torch.initial_seed() is what seed_everything set, so one --seed_everything drives both
        # the weights and the data unless data.seed pins the data on its own.
        return self.seed if self.seed is not None else torch.initial_seed() % 2**63

    def setup(self, stage: str | None = None) -> None:
        seed = self._seed()
        if self.fixed is not None:
            if self.train_set is None:
                self.train_set, self.val_set, self.test_sets = self.fixed.build(self.sampler, seed)
            return
        if self.val_set is None:
            parts = [self.val_sampler.sample(self.val_size, make_generator(seed, STREAM_VAL))]
            length = self.val_sampler.num_digits
            for kind in self.val_kinds:
                parts.append(suite_problems(kind, self.val_kind_size, length, self.base, seed, STREAM_VAL))
            self.val_set = TensorDataset(*(torch.cat(columns) for columns in zip(*parts)))
        if not self.test_sets:
            for length in self.test_lengths:
                for kind in self.test_kinds:
                    problems = suite_problems(kind, self.test_size, length, self.base, seed)
                    self.test_sets[f"{kind}/{length}"] = TensorDataset(*problems)

    def effective_hparams(self) -> dict[str, Any]:
        """The settings left to a default (None) as this data module resolved them (after setup)."""
        block = self.block_batches or default_block_batches(self.batch_size, self.num_digits)
        return {
            "sampling": dict(self.sampler.weights),
            "val_num_digits": self.val_sampler.num_digits,
            "val_kinds": list(self.val_kinds),
            "test_kinds": list(self.test_kinds),
            "test_lengths": list(self.test_lengths),
            "seed": self._seed(),
            "block_batches": None if self.dataset_size is not None else block,
        }

    @property
    def test_set_names(self) -> list[str]:
        """Names of the test dataloaders, in order: "<kind>/<num_digits>"."""
        return list(self.test_sets)

    # ----------------------------------------------------------------------------------------
    def train_dataloader(self) -> DataLoader:
        if self.fixed is not None:
            return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)
        return stream_loader(
            self.sampler, self.batch_size, self._seed(), self.trainer, self.num_workers, self.block_batches
        )

    def _eval_loader(self, dataset: TensorDataset) -> DataLoader:
        return DataLoader(dataset, batch_size=self.eval_batch_size, shuffle=False)

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader(self.val_set)

    def test_dataloader(self) -> list[DataLoader]:
        return [self._eval_loader(dataset) for dataset in self.test_sets.values()]

    def predict_dataloader(self) -> DataLoader:
        return self._eval_loader(self.val_set)


def _kinds(name: str, given: list[str] | None, default: tuple[str, ...]) -> list[str]:
    kinds = list(given) if given is not None else list(default)
    for kind in kinds:
        if kind not in EVAL_KINDS:
            raise ValueError(f"unknown {name} kind {kind!r}; choose from " + ", ".join(EVAL_KINDS))
    return kinds
