"""Exact resume after SIGKILL, checkpoints on SIGTERM / Ctrl-C, atomic and finite checkpoints.

These drive the real ``train.py`` in subprocesses, since a killed process is the point.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from adder.callbacks import AdderCheckpoint
from tests.conftest import QUIET, run_cli, run_dirs, tiny_fit_args

REPO = Path(__file__).resolve().parent.parent
STEPS = 40
RESUMABLE = [
    *QUIET,
    *tiny_fit_args(STEPS),
    "--trainer.val_check_interval", "20",
    "--trainer.deterministic", "true",
    "--checkpoint.save_last_every_n_steps", "10",
    "--model.replay_hardest", "0.2",  # the replayed problems are training state too
]  # fmt: skip


def train(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python train.py fit ...`` in ``root``, with the test helpers importable."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, str(REPO / "train.py"), "fit", *args]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def signal_at(step: int, signum: str) -> list[str]:
    return ["--trainer.callbacks+=tests.signals.SignalAtStep", "--trainer.callbacks.step", str(step),
            "--trainer.callbacks.signum", signum]  # fmt: skip


def last_checkpoint(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)


def assert_same_state(a: dict, b: dict) -> None:
    assert a["global_step"] == b["global_step"]
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key  # bitwise
    for key, state in a["optimizer_states"][0]["state"].items():
        for name, value in state.items():
            assert torch.equal(value, b["optimizer_states"][0]["state"][key][name]), (key, name)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("uninterrupted")
    result = train(root, *RESUMABLE)
    assert result.returncode == 0, result.stderr
    return last_checkpoint(run_dirs(root)[0])


def resume(root: Path, run: Path) -> subprocess.CompletedProcess[str]:
    # The saved config holds the signal callback; the resumed run drops it.
    return train(root, "--config", str(run / "config.yaml"), "--ckpt_path", str(run / "checkpoints" / "last.ckpt"),
                 "--trainer.callbacks", "[]")  # fmt: skip


def test_sigkill_then_resume_is_bitwise_equal(uninterrupted: dict, tmp_path: Path) -> None:
    killed = train(tmp_path, *RESUMABLE, *signal_at(25, "SIGKILL"))
    assert killed.returncode == -signal.SIGKILL
    (run,) = run_dirs(tmp_path)
    assert last_checkpoint(run)["global_step"] == 20  # the last periodic checkpoint before the kill
    resumed = resume(tmp_path, run)
    assert resumed.returncode == 0, resumed.stderr
    assert run_dirs(tmp_path) == [run]  # logged into the same run directory, no new version
    assert len(list(run.glob("events.out.tfevents.*"))) == 2
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best-step20.ckpt", "last.ckpt"]
    assert_same_state(last_checkpoint(run), uninterrupted)


@pytest.mark.parametrize(("signum", "status"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_sigterm_and_ctrl_c_save_a_checkpoint_that_loses_no_step(
    signum: str, status: int, uninterrupted: dict, tmp_path: Path
) -> None:
    stopped = train(tmp_path, *RESUMABLE, *signal_at(25, signum))
    assert stopped.returncode == status, stopped.stderr
    assert "stopped at step 25; checkpoint saved" in stopped.stderr + stopped.stdout
    (run,) = run_dirs(tmp_path)
    assert last_checkpoint(run)["global_step"] == 25  # saved at the step the signal arrived
    resumed = resume(tmp_path, run)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_state(last_checkpoint(run), uninterrupted)


class _FakeTrainer(SimpleNamespace):
    """The parts of a Trainer AdderCheckpoint._save_checkpoint touches; save_checkpoint writes
    half a file and then dies, like a process killed mid-write."""

    def save_checkpoint(self, filepath: str, weights_only: bool = False) -> None:
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt


def test_interrupted_write_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    good = tmp_path / "last.ckpt"
    torch.save({"state_dict": {"w": torch.ones(3)}, "global_step": 10}, good)
    before = good.read_bytes()
    trainer = _FakeTrainer(lightning_module=torch.nn.Linear(2, 2), is_global_zero=True, global_step=20, loggers=[])
    with pytest.raises(KeyboardInterrupt):
        AdderCheckpoint(dirpath=tmp_path)._save_checkpoint(trainer, str(good))  # type: ignore[arg-type]
    assert good.read_bytes() == before
    assert torch.load(good, weights_only=True)["global_step"] == 10


def test_non_finite_weights_are_never_checkpointed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(
            "fit", tmp_path, *tiny_fit_args(40), "--checkpoint.save_last_every_n_steps", "5",
            "--trainer.callbacks+=tests.signals.PoisonAtStep", "--trainer.callbacks.step", "10",
        )  # fmt: skip
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: loss became nan at step 10")
    (run,) = run_dirs(tmp_path)
    checkpoint = last_checkpoint(run)
    assert checkpoint["global_step"] == 5  # step 10's weights were poisoned, so step 5 stays
    assert all(torch.isfinite(value).all() for value in checkpoint["state_dict"].values())
