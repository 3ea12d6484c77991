"""AdditionDataModule: an endless stream of random training batches plus fixed evaluation sets."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, IterableDataset, TensorDataset, get_worker_info

from adder.problems.checks import check_digit_budget, check_positive
from adder.problems.digits import Batch
from adder.problems.samplers import STREAM_FIXED, STREAM_TRAIN, STREAM_VAL, ProblemSampler, make_generator
from adder.problems.suites import EVAL_KINDS, SUITE_SIZE, default_test_lengths, default_val_num_digits, suite_problems

#: The default training mixture: uniform digits, carry chains and repeated pairs (docs/results_history.md).
DEFAULT_SAMPLING = {"digits": 0.4, "carry": 0.4, "repeat": 0.2}
#: Suites that validation holds besides the mixture: full-ripple sums and the edge cases, which the
#: mixture draws too rarely to catch every miss (docs/results_history.md).
DEFAULT_VAL_KINDS = ("carry", "edge")


def default_block_batches(batch_size: int, num_digits: int) -> int:
    """Batches per sampler call when not given: as many as about a million digits fill, within 1..16."""
    return max(1, min(16, 2**20 // (batch_size * (num_digits + 1))))


class BatchStream(IterableDataset):
    """Yields whole (a, b, target) batches forever.

    Batches are drawn a block of ``block_batches`` at a time: block ``j`` of rank ``r`` comes from
    a generator seeded by (seed, r, j) and is cut into batches jK .. jK + K - 1. One sampler call
    per block spreads the fixed cost of the tensor ops over K batches (a 200-problem batch is
    too small to pay for them alone). Batch ``k`` is thus a function of (seed, r, k) only: every
    rank sees different data, the stream is the same for any number of loader workers (worker
    ``w`` of ``W`` yields batches k = w, w + W, ..., which the DataLoader hands out in order), and
    a run resumed at step k continues the stream instead of replaying it.
    """

    def __init__(
        self,
        sampler: ProblemSampler,
        batch_size: int,
        seed: int,
        rank: int = 0,
        start: int = 0,
        block_batches: int | None = None,
    ) -> None:
        self.sampler, self.batch_size = sampler, batch_size
        self.seed, self.rank, self.start = seed, rank, start
        if block_batches is None:
            block_batches = default_block_batches(batch_size, sampler.num_digits)
        self.block_batches = check_positive("block_batches", block_batches)
        self._block: tuple[int, Batch] | None = None

    def batch(self, index: int) -> Batch:
        """Batch number ``index`` of this rank's stream."""
        block, offset = divmod(index, self.block_batches)
        if self._block is None or self._block[0] != block:
            size = self.batch_size * self.block_batches
            problems = self.sampler.sample(size, make_generator(self.seed, STREAM_TRAIN, self.rank, block))
            self._block = (block, problems)
        rows = slice(offset * self.batch_size, (offset + 1) * self.batch_size)
        return tuple(t[rows] for t in self._block[1])  # type: ignore[return-value]

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        index = self.start + worker
        while True:
            yield self.batch(index)
            index += num_workers


class AdditionDataModule(L.LightningDataModule):
    """Random multi-digit addition problems, LSB first.

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
            split into train/validation/test by ``split`` (the blog post: 1000 and 0.5/0.1/0.4).
        split: train, validation and test fractions of ``dataset_size``.
        num_workers: DataLoader worker processes. Batches are vectorised and cheap, so 0 is fastest
            on small CPUs.
        block_batches: training batches drawn per sampler call (see BatchStream); None picks up to
            16. Part of the stream's definition: 1 gives the stream of earlier versions, which the
            tables in docs/results_history.md and docs/experiments/ were measured with.
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
        self.sampler = ProblemSampler(
            base=base,
            num_digits=num_digits,
            min_digits=min_digits,
            weights=dict(sampling) if sampling is not None else dict(DEFAULT_SAMPLING),
            carry_probability=carry_probability,
            range_start=range_start,
            range_end=range_end,
        )
        self.base, self.num_digits = base, num_digits
        self.batch_size = check_positive("batch_size", batch_size)
        self.eval_batch_size = check_positive("eval_batch_size", eval_batch_size)
        self.val_size = check_positive("val_size", val_size)
        if val_num_digits is None:
            val_num_digits = default_val_num_digits(num_digits, whole_numbers="range" in self.sampler.weights)
        check_positive("val_num_digits", val_num_digits)
        self.val_sampler = self.sampler
        if val_num_digits != num_digits:
            self.val_sampler = dataclasses.replace(self.sampler, num_digits=val_num_digits, min_digits=None)
        self.val_kinds = list(val_kinds) if val_kinds is not None else list(DEFAULT_VAL_KINDS)
        self.val_kind_size = check_positive("val_kind_size", val_kind_size)
        self.test_size = check_positive("test_size", test_size)
        self.test_kinds = list(test_kinds) if test_kinds is not None else list(EVAL_KINDS)
        for name, kinds in (("test", self.test_kinds), ("validation", self.val_kinds)):
            for kind in kinds:
                if kind not in EVAL_KINDS:
                    raise ValueError(f"unknown {name} kind {kind!r}; choose from " + ", ".join(EVAL_KINDS))
        self.test_lengths = list(test_lengths) if test_lengths is not None else default_test_lengths(num_digits)
        for length in self.test_lengths:
            check_positive("test length", length)
        for flag, given in (("test_kinds", self.test_kinds), ("test_lengths", self.test_lengths)):
            if not given:
                raise ValueError(f"data.{flag} is empty: give at least one, or leave it out for the default")
        # Sets are built in memory as int64 tensors: refuse sizes that could not fit before
        # allocating (a typo like num_digits 1000000000 should be an error, not a frozen machine).
        check_digit_budget("data.batch_size x data.num_digits", batch_size, num_digits)
        check_digit_budget(
            "validation problems x data.val_num_digits", val_size + len(self.val_kinds) * val_kind_size, val_num_digits
        )
        for length in self.test_lengths:
            check_digit_budget(f"data.test_size x test length {length}", test_size, length)
        if dataset_size is not None:
            check_digit_budget("data.dataset_size x data.num_digits", dataset_size, num_digits)
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = seed
        if dataset_size is not None:
            check_positive("dataset_size", dataset_size)
            if len(split) != 3 or min(split) < 0 or abs(sum(split) - 1.0) > 1e-6:
                raise ValueError(f"split must be three fractions >= 0 summing to 1, got {split}")
        self.dataset_size, self.split = dataset_size, tuple(split)
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {num_workers}")
        self.num_workers = num_workers
        if block_batches is not None:
            check_positive("block_batches", block_batches)
        self.block_batches = block_batches
        self.val_set: TensorDataset | None = None
        self.test_sets: dict[str, TensorDataset] = {}
        self.train_set: TensorDataset | None = None

    # ----------------------------------------------------------------------------------------
    def _seed(self) -> int:
        # torch.initial_seed() is what seed_everything set, so one --seed_everything drives both
        # the weights and the data unless data.seed pins the data on its own.
        return self.seed if self.seed is not None else torch.initial_seed() % 2**63

    def setup(self, stage: str | None = None) -> None:
        seed = self._seed()
        if self.dataset_size is not None:
            self._setup_fixed(seed)
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

    def _setup_fixed(self, seed: int) -> None:
        if self.train_set is not None:
            return
        problems = self.sampler.sample(self.dataset_size, make_generator(seed, STREAM_FIXED))
        n_train = round(self.split[0] * self.dataset_size)
        n_val = round(self.split[1] * self.dataset_size)
        bounds = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, self.dataset_size)]
        train, val, test = (TensorDataset(*(t[lo:hi] for t in problems)) for lo, hi in bounds)
        if len(train) == 0 or len(val) == 0:
            raise ValueError(f"dataset_size={self.dataset_size} with split={self.split} leaves an empty split")
        self.train_set, self.val_set = train, val
        self.test_sets = {f"split/{self.num_digits}": test} if len(test) else {}

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
        if self.dataset_size is not None:
            return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)
        rank, start = 0, 0
        if self.trainer is not None:
            rank = self.trainer.global_rank
            # On resume the trainer has restored its step counter by now; continue the stream there.
            start = self.trainer.global_step * self.trainer.accumulate_grad_batches
        stream = BatchStream(
            self.sampler, self.batch_size, self._seed(), rank=rank, start=start, block_batches=self.block_batches
        )
        # Pinned batches let Lightning's non-blocking copy to a GPU run without making the CPU wait.
        pin_memory = self.trainer is not None and self.trainer.strategy.root_device.type == "cuda"
        return DataLoader(
            stream,
            batch_size=None,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=pin_memory,
        )

    def _eval_loader(self, dataset: TensorDataset) -> DataLoader:
        return DataLoader(dataset, batch_size=self.eval_batch_size, shuffle=False)

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader(self.val_set)

    def test_dataloader(self) -> list[DataLoader]:
        return [self._eval_loader(dataset) for dataset in self.test_sets.values()]

    def predict_dataloader(self) -> DataLoader:
        return self._eval_loader(self.val_set)
