"""``python -m adder add``: sums computed by a trained model, and clear errors for bad input."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from adder.__main__ import main

pytestmark = pytest.mark.slow  # uses the session's trained checkpoint (a few seconds to train)


def test_add_two_numbers(trained_checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["add", "--ckpt", str(trained_checkpoint), "123", "456"]) == 0
    assert capsys.readouterr().out == "579\n"


def test_add_many_problems_from_a_file(
    trained_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(0)
    pairs = [(rng.randrange(1000), rng.randrange(1000)) for _ in range(200)] + [(999, 1), (0, 0), (7, 995)]
    problems = tmp_path / "problems.txt"
    problems.write_text("".join(f"{a}+{b}\n" if i % 2 else f"{a} {b}\n" for i, (a, b) in enumerate(pairs)) + "\n")
    assert main(["add", "--ckpt", str(trained_checkpoint), "--file", str(problems)]) == 0
    assert capsys.readouterr().out.split() == [str(a + b) for a, b in pairs]


def test_the_answer_comes_from_the_model(
    trained_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same checkpoint with its output layer zeroed can only ever say 0.
    checkpoint = torch.load(trained_checkpoint, weights_only=True)
    for key in ("model.head.weight", "model.head.bias"):
        checkpoint["state_dict"][key] = torch.zeros_like(checkpoint["state_dict"][key])
    broken = tmp_path / "broken.ckpt"
    torch.save(checkpoint, broken)
    assert main(["add", "--ckpt", str(broken), "123", "456"]) == 0
    assert capsys.readouterr().out == "0\n"


def test_bad_line_in_file_names_the_line(
    trained_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = tmp_path / "p.txt"
    problems.write_text("1+2\n3+a\n")
    assert main(["add", "--ckpt", str(trained_checkpoint), "--file", str(problems)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_command_line_entry_point(trained_checkpoint: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "adder", "add", "--ckpt", str(trained_checkpoint), "500+500"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout == "1000\n"
    done = subprocess.run(
        [sys.executable, "-m", "adder", "add", "--ckpt", str(trained_checkpoint), "5", "q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
