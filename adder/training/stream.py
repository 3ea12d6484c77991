"""The training stream: endless seeded batches from the training mixture, and its DataLoader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from adder.problems.checks import check_positive
from adder.problems.digits import Batch
from adder.problems.samplers import STREAM_TRAIN, ProblemSampler, make_generator


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


def stream_loader(
    sampler: ProblemSampler, batch_size: int, seed: int, trainer: Any, num_workers: int, block_batches: int | None
) -> DataLoader:
    """The stream of ``trainer``'s rank from the step it is at (a resumed run continues the stream)."""
    rank, start = 0, 0
    if trainer is not None:
        rank = trainer.global_rank
        # On resume the trainer has restored its step counter by now; continue the stream there.
        start = trainer.global_step * trainer.accumulate_grad_batches
    stream = BatchStream(sampler, batch_size, seed, rank=rank, start=start, block_batches=block_batches)
    # Pinned batches let Lightning's non-blocking copy to a GPU run without making the CPU wait.
    pin_memory = trainer is not None and trainer.strategy.root_device.type == "cuda"
    return DataLoader(
        stream,
        batch_size=None,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        pin_memory=pin_memory,
    )
