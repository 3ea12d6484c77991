"""ReplayHardest: the hardest problems of a step trained on again in the next one."""

from __future__ import annotations

import torch
from torch import Tensor

from adder.problems.digits import Batch
from adder.training.objectives.base import Objective, StepResult


class ReplayHardest(Objective):
    """Appends last step's ``share`` of the fresh batch, its problems of highest loss, to this
    step's batch (0: off). Mistakes far beyond the training length come from digit contexts too
    rare in fresh batches to be learnt well; replaying the hardest shows them again. The replay
    is part of the training state and is kept in checkpoints under "replay"."""

    checkpoint_key = "replay"

    def __init__(self, share: float = 0.2) -> None:
        if not 0.0 <= share < 1.0:
            raise ValueError(f"ReplayHardest share must be in [0, 1), got {share}")
        self.share = share
        self.replay: Tensor | None = None  # (3, k, length): a, b, target of last step's hardest problems

    def extend_batch(self, batch: Batch) -> Batch:
        """The fresh batch with last step's hardest problems appended (if they fit its length)."""
        replay = self.replay
        if replay is None or replay.shape[-1] != batch[0].shape[-1]:
            return batch
        return tuple(torch.cat([fresh, again.to(fresh.device)]) for fresh, again in zip(batch, replay))  # type: ignore[return-value]

    def after_step(self, step: StepResult) -> None:
        # Chosen on the device (no host sync); a problem stays in the replay while it stays hard.
        count = round(self.share * step.fresh)
        if count <= 0:
            self.replay = None
            return
        hardest = step.losses.detach().sum(-1).topk(count).indices  # count < fresh rows, as share < 1
        self.replay = torch.stack([part[hardest] for part in (step.a, step.b, step.target)])

    def extra_state(self) -> Tensor | None:
        return self.replay

    def load_extra_state(self, state: Tensor | None) -> None:
        self.replay = state
