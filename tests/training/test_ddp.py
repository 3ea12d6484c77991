"""DDP on two CPU processes: ranks see different batches, metrics are synced, resume is exact."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.helpers.cli import QUIET, adder_process, assert_same_state, last_checkpoint, run_cli, run_dirs, tiny_fit_args

pytestmark = pytest.mark.slow  # each run starts two processes (~10 s)

DDP = [
    "--trainer.strategy",
    "ddp",
    "--trainer.devices",
    "2",
    "--trainer.accelerator",
    "cpu",
    "--trainer.deterministic",
    "true",
    "--trainer.val_check_interval",
    "10",
    *QUIET,
    "--model.replay_hardest",
    "0.2",  # each rank's replay is saved and restored
    "--lr_scheduler.total_steps",
    "20",  # a length taken from max_steps would follow the resumed run's (20) and not the cut one's (15)
]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 DDP steps, each rank writing a fingerprint of every batch it trains on."""
    root = tmp_path_factory.mktemp("ddp")
    result = adder_process(
        root,
        "fit",
        *tiny_fit_args(20),
        *DDP,
        "--trainer.callbacks+=tests.helpers.callbacks.RecordBatches",
        "--trainer.callbacks.directory",
        str(root),
    )
    assert result.returncode == 0, result.stderr
    return root


def test_each_rank_sees_different_batches(ddp_run: Path) -> None:
    ranks = [dict(line.split() for line in (ddp_run / f"rank{r}.txt").read_text().splitlines()) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 20
    assert not set(ranks[0].values()) & set(ranks[1].values())  # no batch trained on twice


def test_validation_metrics_are_synced_across_ranks(ddp_run: Path, tmp_path: Path) -> None:
    (run,) = run_dirs(ddp_run)
    events = EventAccumulator(str(run))
    events.Reload()
    logged = {e.step: e.value for e in events.Scalars("val/digit_acc")}
    # Each rank validated half of the set; the logged value must be that of the whole set, as a
    # single process computes it from the same weights.
    cli = run_cli(
        "validate",
        tmp_path,
        "--ckpt_path",
        str(run / "checkpoints" / "last.ckpt"),
        "--data.num_digits",
        "3",
        "--data.val_size",
        "40",
    )
    whole = float(cli.trainer.callback_metrics["val/digit_acc"])
    assert logged[20] == pytest.approx(whole, abs=1e-6)  # the validation after step 20


def test_resume_under_ddp_is_exact(ddp_run: Path, tmp_path: Path) -> None:
    result = adder_process(tmp_path, "fit", *tiny_fit_args(20), *DDP, "--trainer.max_steps", "15")
    assert result.returncode == 0, result.stderr
    (run,) = run_dirs(tmp_path)
    result = adder_process(
        tmp_path,
        "fit",
        "--config",
        str(run / "config.yaml"),
        "--ckpt_path",
        str(run / "checkpoints" / "last.ckpt"),
        "--trainer.max_steps",
        "20",
    )
    assert result.returncode == 0, result.stderr
    assert run_dirs(tmp_path) == [run]
    assert_same_state(last_checkpoint(run), last_checkpoint(run_dirs(ddp_run)[0]))
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 20
