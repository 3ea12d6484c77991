"""Each run records the code it ran: git commit and dirty flag, package versions, device."""

from __future__ import annotations

import subprocess
from pathlib import Path

import lightning
import torch
import yaml

import adder
from adder.training.provenance import NOT_A_CHECKOUT, git_state
from tests.helpers.cli import REPO, run_cli, run_dirs, tiny_fit_args


def test_a_run_records_its_code_in_config_yaml_and_hparams(tmp_path: Path) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(1))
    (run,) = run_dirs(tmp_path)
    header = [line for line in (run / "config.yaml").read_text().splitlines() if line.startswith("#")]
    commit, dirty = git_state(REPO)
    for line in (
        f"# git_commit: {commit}",
        f"# git_dirty: {dirty}",
        f"# adder: {adder.__version__}",
        f"# torch: {torch.__version__}",
        f"# lightning: {lightning.__version__}",
    ):
        assert line in header, (line, header)
    hparams = yaml.safe_load((run / "hparams.yaml").read_text())
    assert hparams["provenance.git_commit"] == commit and hparams["provenance.git_dirty"] == dirty
    assert hparams["provenance.torch"] == torch.__version__ and hparams["provenance.device"].startswith("cpu")
    assert f"# device: {hparams['provenance.device']}" in header


def test_the_commit_is_the_checkout_s_or_says_there_is_none(tmp_path: Path) -> None:
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert git_state(REPO)[0] == head.stdout.strip()
    assert git_state(tmp_path) == (NOT_A_CHECKOUT, NOT_A_CHECKOUT)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("1")
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "f"], check=True
    )
    assert git_state(tmp_path)[1] == "false"
    (tmp_path / "f").write_text("2")
    assert git_state(tmp_path)[1] == "true"
