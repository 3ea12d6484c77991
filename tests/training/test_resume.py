"""Exact resume after SIGKILL, checkpoints on SIGTERM / Ctrl-C, atomic and finite checkpoints.

The run that is killed or signalled is the real ``adder fit`` in a subprocess, since a killed
process is the point. The uninterrupted runs they are compared with and the resumes run in-process
(``adder fit`` with the same arguments, in the run's directory): a resume starts from the
checkpoint alone, as in a new process, without the seconds a process takes to import torch and
Lightning.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import torch

from adder.__main__ import main as adder_main
from tests.helpers.cli import (
    QUIET,
    VERIFY_OFF,
    adder_process,
    assert_same_state,
    last_checkpoint,
    run_cli,
    run_dirs,
    signal_at,
    tiny_fit_args,
)

STEPS = 40
RESUMABLE = [
    *QUIET,
    *VERIFY_OFF,  # the verdict's own events file would join the run's
    *tiny_fit_args(STEPS),
    "--trainer.val_check_interval",
    "20",
    "--trainer.deterministic",
    "true",
    "--checkpoint.save_last_every_n_steps",
    "10",
    "--model.replay_hardest",
    "0.2",  # the replayed problems are training state too
    "--model.state_noise",
    "0.1",  # and the random initial states must be drawn again as they were
]


def train(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``adder fit ...`` as its own process in ``root``: for the runs a signal stops."""
    return adder_process(root, "fit", *args)


def train_in_process(root: Path, *args: str) -> None:
    """``adder fit ...`` in ``root``, as ``train`` runs it, but in this process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert adder_main(["fit", *args]) == 0


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("uninterrupted")
    train_in_process(root, *RESUMABLE)
    return last_checkpoint(run_dirs(root)[0])


def resume(root: Path, run: Path) -> None:
    # The saved config holds the signal callback; the resumed run drops it.
    train_in_process(
        root,
        "--config",
        str(run / "config.yaml"),
        "--ckpt_path",
        str(run / "checkpoints" / "last.ckpt"),
        "--trainer.callbacks",
        "[]",
    )


@pytest.mark.slow  # a real process, killed
def test_sigkill_then_resume_is_bitwise_equal(uninterrupted: dict, tmp_path: Path) -> None:
    killed = train(tmp_path, *RESUMABLE, *signal_at(25, "SIGKILL"))
    assert killed.returncode == -signal.SIGKILL
    (run,) = run_dirs(tmp_path)
    assert last_checkpoint(run)["global_step"] == 20  # the last periodic checkpoint before the kill
    resume(tmp_path, run)
    assert run_dirs(tmp_path) == [run]  # logged into the same run directory, no new version
    assert len(list(run.glob("events.out.tfevents.*"))) == 2
    # One best checkpoint carried across the resume: step 40 validates as well as step 20 and,
    # of equal validations, the latest is kept.
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best-step40.ckpt", "last.ckpt"]
    assert_same_state(last_checkpoint(run), uninterrupted)


@pytest.mark.slow  # real processes, signalled
@pytest.mark.parametrize(("signum", "status"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_sigterm_and_ctrl_c_save_a_checkpoint_that_loses_no_step(
    signum: str, status: int, uninterrupted: dict, tmp_path: Path
) -> None:
    stopped = train(tmp_path, *RESUMABLE, *signal_at(25, signum))
    assert stopped.returncode == status, stopped.stderr
    assert "stopped at step 25; checkpoint saved" in stopped.stderr + stopped.stdout
    (run,) = run_dirs(tmp_path)
    assert last_checkpoint(run)["global_step"] == 25  # saved at the step the signal arrived
    resume(tmp_path, run)
    assert_same_state(last_checkpoint(run), uninterrupted)


def test_non_finite_weights_are_never_checkpointed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(
            "fit",
            tmp_path,
            *tiny_fit_args(40),
            "--checkpoint.save_last_every_n_steps",
            "5",
            "--trainer.callbacks+=tests.helpers.callbacks.PoisonAtStep",
            "--trainer.callbacks.step",
            "10",
        )
    assert exit_info.value.code == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("error: loss became nan at step 10")
    assert line.endswith("checkpoints/last.ckpt, is kept)")  # the true one of two endings (test_newest_run.py)
    (run,) = run_dirs(tmp_path)
    checkpoint = last_checkpoint(run)
    # Saves: every 5 steps and at each validation (every 3). Step 10's weights were poisoned, so
    # the validation at step 9 was the last good save, and it stays.
    assert checkpoint["global_step"] == 9
    assert all(torch.isfinite(value).all() for value in checkpoint["state_dict"].values())


@pytest.mark.slow
def test_a_gated_cell_with_hard_gates_step_noise_and_state_spread_resumes_bitwise(tmp_path: Path) -> None:
    # The per-step noise is drawn from the run's seed and the step, like the initial states, and
    # the cell options come back from the checkpoint, so an interrupted run goes on as it would have.
    options = [
        "--model.cell",
        "gru",
        "--model.gates",
        "hard",
        "--model.step_noise",
        "0.05",
        "--model.state_spread",
        "1",
    ]
    for name in ("whole", "killed"):
        (tmp_path / name).mkdir()
    train_in_process(tmp_path / "whole", *RESUMABLE, *options)
    killed = train(tmp_path / "killed", *RESUMABLE, *options, *signal_at(25, "SIGKILL"))
    assert killed.returncode == -signal.SIGKILL
    (run,) = run_dirs(tmp_path / "killed")
    resume(tmp_path / "killed", run)
    ended = last_checkpoint(run)
    hparams = ended["hyper_parameters"]
    assert hparams["net"]["init_args"]["gates"] == "hard"
    assert {"class_path": "adder.training.objectives.step_noise.StepNoise", "init_args": {"std": 0.05}} in hparams[
        "objectives"
    ]
    assert_same_state(ended, last_checkpoint(run_dirs(tmp_path / "whole")[0]))
