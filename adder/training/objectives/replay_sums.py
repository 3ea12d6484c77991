"""ReplaySums: given sums trained on in every step, such as the ones a proof or a search found wrong."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from adder.models.base import AdderNet
from adder.problems.digits import Batch, make_problems, parse_number, stack_numbers
from adder.training.objectives.base import Objective


def split_sum(text: str) -> tuple[str, str]:
    """``"A+B"`` as its two written operands; a one-line ValueError for anything else."""
    parts = [part.strip() for part in str(text).split("+")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"ReplaySums: {text!r} is not a sum written A+B")
    return parts[0], parts[1]


class ReplaySums(Objective):
    """Appends each of ``sums`` (written ``"A+B"`` in the network's base, as ``adder add`` takes
    them) ``copies`` times to every training batch. ``adder fit --verify_refine`` adds the sums
    ``adder verify`` found wrong, and sums through the digit pairs where a proof failed, so that
    training goes on where the model is wrong or unproved. A sum whose operands do not fit the
    batch's length is left out of that batch (the stream's length is the training length)."""

    def __init__(self, sums: Sequence[str] = (), copies: int = 1) -> None:
        if copies < 1:
            raise ValueError(f"ReplaySums copies must be >= 1, got {copies}")
        self.sums = [f"{a}+{b}" for a, b in map(split_sum, sums)]
        self.copies = copies
        self._operands: list[tuple[list[int], list[int]]] | None = None
        self._base: int | None = None

    def check(self, net: AdderNet) -> None:
        super().check(net)
        self._base = net.config.base
        self._operands = [self._parsed(text) for text in self.sums]

    def _parsed(self, text: str) -> tuple[list[int], list[int]]:
        a, b = split_sum(text)
        try:
            return parse_number(a, self._base or 10), parse_number(b, self._base or 10)
        except ValueError as error:
            raise ValueError(f"ReplaySums: {error}") from error

    def add(self, sums: Sequence[str]) -> None:
        """More sums to train on (each once, in the order given)."""
        for text in sums:
            a, b = split_sum(text)
            if f"{a}+{b}" not in self.sums:
                self.sums.append(f"{a}+{b}")
                if self._operands is not None:
                    self._operands.append(self._parsed(text))

    def extend_batch(self, batch: Batch) -> Batch:
        if self._operands is None:
            self._operands = [self._parsed(text) for text in self.sums]
        width = batch[0].shape[-1] - 1  # operand digits; the last position is the final carry's
        rows = [(a, b) for a, b in self._operands if max(len(a), len(b)) <= width] * self.copies
        if not rows:
            return batch
        a = stack_numbers([a for a, _ in rows], width)
        b = stack_numbers([b for _, b in rows], width)
        extra = make_problems(a, b, self._base or 10)
        return tuple(torch.cat([fresh, more.to(fresh.device, fresh.dtype)]) for fresh, more in zip(batch, extra))  # type: ignore[return-value]
