"""SLURM auto-requeue: the requeued job resumes into the same run directory.

SLURM sends SIGUSR1 before a job's time runs out; Lightning then saves ``hpc_ckpt_N.ckpt`` and
calls ``scontrol requeue``. When the job starts again (the same command), Lightning resumes from
that checkpoint; adder logs into the run it came from instead of a new version. A fake
``scontrol`` records the requeue; the signals are real.
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.helpers.cli import QUIET, adder_process, last_checkpoint, run_dirs, signal_at, tiny_fit_args

pytestmark = pytest.mark.slow

JOB = {
    "SLURM_NTASKS": "1",
    "SLURM_JOB_NAME": "adder-test",
    "SLURM_JOB_ID": "4242",
    "SLURM_PROCID": "0",
    "SLURM_LOCALID": "0",
    "SLURM_NODEID": "0",
    "SLURM_NODELIST": "localhost",
}
ARGS = [*QUIET, *tiny_fit_args(30), "--trainer.val_check_interval", "10"]


def test_requeued_job_resumes_into_the_same_run(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scontrol = bin_dir / "scontrol"
    scontrol.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "scontrol.log"}\n')
    scontrol.chmod(scontrol.stat().st_mode | stat.S_IEXEC)
    env = {**JOB, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    job = tmp_path / "job"
    job.mkdir()

    # The first run gets the requeue signal at step 12 and is killed at step 16, as at its time limit.
    first = adder_process(job, "fit", *ARGS, *signal_at(12, "SIGUSR1"), *signal_at(16, "SIGKILL"), env=env)
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", "4242"]
    assert torch.load(job / "hpc_ckpt_1.ckpt", weights_only=True)["global_step"] == 12
    (run,) = run_dirs(job)

    # The requeued job runs the same command (less the test's signals) and carries on from step 12.
    again = adder_process(job, "fit", *ARGS, env=env)
    assert again.returncode == 0, again.stderr
    assert run_dirs(job) == [run]  # the same version_N, no new run
    assert last_checkpoint(run)["global_step"] == 30
    events = EventAccumulator(str(run))  # both jobs' events, read as one TensorBoard run
    events.Reload()
    validated = [event.step for event in events.Scalars("val/exact_match")]
    assert validated[0] < 12 and validated[-1] > 16
