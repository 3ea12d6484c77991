"""Learning-rate schedules for a training stream counted in optimizer steps."""

from __future__ import annotations

import math
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


class CosineDecay(LRScheduler):
    """Every learning rate falls from its initial value to 0 along a half cosine over
    ``total_steps`` optimizer steps, then stays at 0.

    Unlike ``CosineAnnealingLR`` it does not rise again after ``total_steps``, and ``total_steps``
    can be left to the run: None means the trainer's ``max_steps``, which ``adder fit`` fills in.

    Args:
        optimizer: the optimizer whose learning rates it sets.
        total_steps: steps to decay over; None: the run's ``trainer.max_steps``.
    """

    def __init__(self, optimizer: Optimizer, total_steps: int | None = None, last_epoch: int = -1) -> None:
        if total_steps is not None and total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps}")
        self.total_steps = total_steps
        self.follows_run = total_steps is None  # its length is the run's max_steps, whatever they become
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        # A length taken from the run is not saved: a run resumed with more max_steps decays over
        # those, instead of training on at a rate of 0.
        state = super().state_dict()
        if self.follows_run:
            state["total_steps"] = None
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        total_steps = self.total_steps
        super().load_state_dict(state_dict)
        if self.total_steps is None:
            self.total_steps = total_steps

    def factor(self, step: int) -> float:
        """The share of the initial learning rate at ``step``."""
        if self.total_steps is None:  # not yet told the run's length (the CLI sets it before step 1)
            return 1.0
        progress = min(step, self.total_steps) / self.total_steps
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def get_lr(self) -> list[float]:
        return [base * self.factor(self.last_epoch) for base in self.base_lrs]


def stepwise(optimizer: Optimizer, scheduler: LRScheduler | None, max_steps: int) -> Any:
    """What ``configure_optimizers`` returns: the optimizer, and the scheduler stepped every
    optimizer step (the training stream has no epochs, so Lightning's default of stepping it at
    epoch ends would never step it). A CosineDecay without its own length gets ``max_steps``."""
    if scheduler is None:
        return optimizer
    if isinstance(scheduler, CosineDecay) and scheduler.total_steps is None:
        if max_steps < 1:
            raise ValueError("lr_scheduler CosineDecay needs trainer.max_steps (or its own total_steps)")
        scheduler.total_steps = max_steps
    schedule = {"scheduler": scheduler, "interval": "step", "name": "train/lr"}  # the key AdderModule logs it under
    return {"optimizer": optimizer, "lr_scheduler": schedule}
