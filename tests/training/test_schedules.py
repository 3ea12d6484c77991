"""CosineDecay: a half cosine from the initial learning rate to 0 over the run's steps."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from adder.training.schedules import CosineDecay
from tests.helpers.cli import run_cli, tiny_fit_args


def rates(total_steps: int | None, steps: int, lr: float = 0.01) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    schedule = CosineDecay(optimizer, total_steps)
    seen = []
    for _ in range(steps):
        optimizer.step()
        schedule.step()
        seen.append(optimizer.param_groups[0]["lr"])
    return seen


def test_decays_along_a_half_cosine_to_zero_and_stays_there() -> None:
    seen = rates(8, 12)
    assert seen[3] == pytest.approx(0.005)  # half way (step 4 of 8): half the rate
    assert seen[0] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi / 8)))
    assert all(a > b for a, b in zip(seen[:7], seen[1:8]))
    assert seen[7:] == [0.0] * 5  # CosineAnnealingLR would rise again here


def test_unset_length_keeps_the_rate_until_told() -> None:
    assert rates(None, 3) == [0.01] * 3
    with pytest.raises(ValueError, match="total_steps"):
        CosineDecay(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), 0)


def test_the_cli_decays_over_max_steps(tmp_path: Path) -> None:
    cli = run_cli("fit", tmp_path, *tiny_fit_args(6), "--lr_scheduler", "adder.training.schedules.CosineDecay")
    schedule = cli.trainer.lr_scheduler_configs[0].scheduler
    assert isinstance(schedule, CosineDecay) and schedule.total_steps == 6
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == 0.0  # the run ended at the bottom


def test_a_resumed_run_decays_over_its_new_max_steps(tmp_path: Path) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(6))  # the default schedule: CosineDecay over max_steps
    (last,) = tmp_path.glob("lightning_logs/version_0/checkpoints/last.ckpt")
    saved = torch.load(last, weights_only=False)["lr_schedulers"][0]
    assert saved["total_steps"] is None and saved["last_epoch"] == 6
    cli = run_cli("fit", tmp_path, *tiny_fit_args(10), "--ckpt_path", str(last))
    schedule = cli.trainer.lr_scheduler_configs[0].scheduler
    assert schedule.total_steps == 10 and schedule.last_epoch == 10
    assert [schedule.factor(step) > 0 for step in (6, 9, 10)] == [True, True, False]  # trained on at a rate > 0


def test_a_given_length_is_saved_and_restored() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    state = CosineDecay(optimizer, 8).state_dict()
    assert state["total_steps"] == 8
    restored = CosineDecay(optimizer, None)
    restored.load_state_dict(state)
    assert restored.total_steps == 8
