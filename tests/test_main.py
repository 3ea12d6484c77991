"""The ``adder`` command: one entry point for training (LightningCLI) and for using a model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adder.__main__ import main
from tests.helpers.cli import QUIET, REPO, VERIFY_OFF, run_dirs, tiny_fit_args


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("fit", "validate", "test", "predict", "add", "evaluate", "sweep"):
        assert command in out


@pytest.mark.slow
def test_fit_by_config_name_from_any_directory_then_add_with_the_newest_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no configs/ here: `lstm` is the shipped config
    assert main(["fit", "--config", "lstm", *QUIET, *VERIFY_OFF, *tiny_fit_args(3)]) == 0
    (run,) = run_dirs(tmp_path)
    assert "cell: lstm" in (run / "config.yaml").read_text()
    capsys.readouterr()
    assert main(["add", "12", "34"]) == 0  # no --ckpt: the newest run's last.ckpt
    captured = capsys.readouterr()
    assert captured.out.strip().isdigit()
    using, note = captured.err.strip().splitlines()
    assert using == (
        f"using {Path('lightning_logs/version_0/checkpoints/last.ckpt')} "
        "(the newest run's last checkpoint; --ckpt picks another)"
    )
    # Three steps do not make an adder: the checkpoint's own record says so, with the figure.
    assert note.startswith("note: ") and "% of its last validation's sums right (step 3)" in note


def test_a_config_that_is_neither_a_file_nor_shipped_is_one_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", "no_such_config"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no_such_config" in err[0]


#: What a build from a copy of the checkout leaves out.
BUILD_IGNORED = (".venv", ".git", "build", "*.egg-info", "lightning_logs", "sweeps", "__pycache__", ".pytest_cache")


@pytest.mark.slow
def test_installed_package_gives_the_adder_command_with_its_configs(tmp_path: Path) -> None:
    # `pip install .` (not editable) into a separate prefix; its dependencies are this environment's.
    # It builds from a copy, so that setuptools' build/ lands there and not in the checkout.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*BUILD_IGNORED))
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def installed(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300
        )

    where = installed("-c", "import adder; print(adder.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(target)  # the installed copy, not this checkout
    script = str(target / "bin" / "adder")
    # A recipe and a logger preset, as docs/logging.md combines them, each flag's spelling once: one
    # process (Lightning's start-up takes seconds) finds both shipped folders.
    printed = installed(script, "fit", "--config", "gru", "-c", "mlflow", "--print_config")
    assert printed.returncode == 0, printed.stderr
    assert "cell: gru" in printed.stdout and "class_path: lightning.pytorch.loggers.MLFlowLogger" in printed.stdout
    assert (target / "adder" / "configs" / "studies" / "hidden_size.yaml").is_file()  # shipped inside
    assert (target / "adder" / "configs" / "recipes" / "gru.yaml").is_file()
    study = installed(script, "sweep", "no_such_study")
    assert study.returncode == 2 and "hidden_size" in study.stderr  # the shipped studies are listed
