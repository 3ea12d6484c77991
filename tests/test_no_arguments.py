"""Every command that reads a trained model, with no arguments, as a new user runs it: in a directory
with no run it says how to train one (one ``error:`` line, exit 2, nothing written); with runs it
uses the newest and says which. Real processes, as the user runs them (the runs they find are
trained in-process: how they were made is not what is tested)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import QUIET, adder_process, run_cli, tiny_fit_args

pytestmark = pytest.mark.slow  # a process per command, each importing torch (and Lightning)

COMMANDS = [["validate"], ["test"], ["predict"], ["add", "1", "2"], ["evaluate"], ["verify"]]


def files_under(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_in_an_empty_directory(command: list[str], tmp_path: Path) -> None:
    done = adder_process(tmp_path, *command)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: no --ckpt") and "no run here" in line and "adder fit" in line
    assert files_under(tmp_path) == []


def test_beside_runs_the_newest_is_used_and_named(tmp_path: Path) -> None:
    for steps in (3, 6):  # the second, newer run's last validation is at step 6
        run_cli("fit", tmp_path, *tiny_fit_args(steps))
    newest = Path("lightning_logs") / "version_1" / "checkpoints" / "last.ckpt"
    for command in (["test"], ["add", "1", "2"]):
        done = adder_process(tmp_path, *command, *(QUIET if command == ["test"] else []))
        assert done.returncode == 0, done.stderr
        assert f"using {newest}" in done.stderr
    # A tiny model after 6 steps is not right; add says so, with its validation figure.
    assert "% of its last validation's sums right (step 6)" in done.stderr
    for bad in (["add"], ["add", "12x", "3"], ["evaluate", "--lengths", "1000000000"]):
        done = adder_process(tmp_path, *bad)  # bad input stays one line: no "using", no note before it
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stderr.startswith("error: ")
