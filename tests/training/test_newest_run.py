"""Commands that find the run a user trained, and runs that say what they are: validate, test and
predict without --ckpt_path use the newest run's last.ckpt; a run with no logger is still a run
directory; a checkpoint records its last validation; a NaN loss says what it left behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from adder.models.checkpoints import VALIDATION_KEY
from tests.helpers.cli import REPO, run_cli, run_dirs, tiny_fit_args


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("subcommand", ["validate", "test", "predict"])
def test_with_no_run_an_evaluation_says_how_to_train_one(
    subcommand: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        run_cli(subcommand, tmp_path)
    assert stop.value.code == 2
    (line,) = stderr_lines(capsys)
    assert line.startswith("error: no --ckpt_path given and no run here") and "adder fit" in line
    assert not (tmp_path / "lightning_logs").exists()  # nothing written


def test_an_evaluation_without_ckpt_path_uses_the_newest_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(3))
    run_cli("fit", tmp_path, *tiny_fit_args(6))
    older, newer = run_dirs(tmp_path)
    now = time.time()  # the newest is the last.ckpt written last, whatever its version number
    os.utime(older / "checkpoints" / "last.ckpt", (now + 10, now + 10))
    capsys.readouterr()
    cli = run_cli("validate", tmp_path)
    err = capsys.readouterr().err
    assert f"using {older / 'checkpoints' / 'last.ckpt'} and its config.yaml (the newest run's last checkpoint" in err
    assert cli.model.checkpoint_step == 3  # the trained model, not a fresh one at step 0
    assert run_dirs(tmp_path) == [older, newer]  # written into that run, as with --ckpt_path
    assert (older / "validate_config.yaml").is_file()


def test_a_run_without_a_logger_is_still_a_run_directory(tmp_path: Path) -> None:
    for _ in range(2):  # twice: the second run must not write last-v1.ckpt beside the first's
        run_cli("fit", tmp_path, *tiny_fit_args(3), "--trainer.logger", "false")
    first, second = run_dirs(tmp_path)
    for run in (first, second):
        assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best-step3.ckpt", "last.ckpt"]
        assert (run / "config.yaml").is_file()
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "config.yaml").exists()
    # Resumed, it carries on in its own run.
    last = second / "checkpoints" / "last.ckpt"
    run_cli(
        "fit", tmp_path, "--config", str(second / "config.yaml"), "--ckpt_path", str(last), "--trainer.max_steps", "6"
    )
    assert run_dirs(tmp_path) == [first, second]
    assert torch.load(last, weights_only=True)["global_step"] == 6


def test_a_checkpoint_records_its_last_validation(tmp_path: Path) -> None:
    cli = run_cli("fit", tmp_path, *tiny_fit_args(6))  # validations at steps 3 and 6, each saving last.ckpt
    (run,) = run_dirs(tmp_path)
    record = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)[VALIDATION_KEY]
    assert record == {"step": 6, "val/exact_match": float(cli.trainer.callback_metrics["val/exact_match"])}
    best = next((run / "checkpoints").glob("best-*.ckpt"))
    assert torch.load(best, weights_only=True)[VALIDATION_KEY]["step"] == int(best.stem.removeprefix("best-step"))
    run_cli("fit", tmp_path, *tiny_fit_args(2))  # before any validation
    never = run_dirs(tmp_path)[-1]
    assert torch.load(never / "checkpoints" / "last.ckpt", weights_only=True)[VALIDATION_KEY] is None


def test_a_nan_loss_says_that_no_checkpoint_was_saved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        run_cli("fit", tmp_path, *tiny_fit_args(20), "--optimizer", "SGD", "--optimizer.lr", "1e38")
    assert stop.value.code == 1
    last = stderr_lines(capsys)[-1]
    assert last.startswith("error: loss became") and last.endswith("(no checkpoint was saved)")


@pytest.mark.slow
def test_the_nan_error_starts_a_line_of_its_own_below_the_progress_bar(tmp_path: Path) -> None:
    # The README's example, with the bar on (it draws on stdout, the error goes to stderr: one terminal).
    flags = ["--optimizer", "SGD", "--optimizer.lr", "1e38", "--trainer.max_steps", "50"]
    command = [sys.executable, "-m", "adder", "fit", "--trainer.enable_model_summary", "false", *flags]
    environment = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = done.stdout.decode()
    assert done.returncode == 1
    assert "step:" in output  # the bar was drawn
    # inf from the cross-entropy, or NaN where the one-step objectives' terms meet inf - inf.
    assert re.search(
        r"\nerror: loss became (inf|nan) at step 1; lower the learning rate \(no checkpoint was saved\)\n", output
    )


@pytest.mark.slow
def test_add_says_when_verify_after_fit_did_not_prove_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from adder.__main__ import main as adder_main

    run_cli("fit", tmp_path, *tiny_fit_args(6, "--verify_after_fit", "5"))
    (run,) = run_dirs(tmp_path)
    record = json.loads((run / "verify.json").read_text())
    assert record["step"] == 6 and record["status"] in ("counterexample", "undecided")  # six steps make no adder
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    assert adder_main(["add", "1", "2"]) == 0
    assert (
        f"adder verify's verdict on this model (step 6) was {record['status']}, not proved" in capsys.readouterr().err
    )
