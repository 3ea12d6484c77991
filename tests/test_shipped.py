"""Everything that ships runs end to end for a few steps: each recipe and logger preset in configs/
(fit, then test) and each study in configs/studies/ (one point, one seed, its --quick budget)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from adder.__main__ import main
from adder.config_files import STUDY_DIR, resolve, shipped
from adder.problems.suites import default_test_lengths
from adder.training.cli import main as cli_main
from adder.training.data import AdditionDataModule
from tests.helpers.cli import QUIET

pytestmark = pytest.mark.slow
#: A few steps and small evaluation sets: what is checked is that the config runs, not what it learns.
FEW_STEPS = [
    "--trainer.fast_dev_run",
    "2",
    "--data.val_size",
    "20",
    "--data.val_kind_size",
    "4",
    "--data.test_size",
    "20",
    "--carry_probe.size",
    "20",
]


def shortest_test_length(name: str) -> int:
    """The shortest of a config's test lengths: its longest ones cost most of a test and check
    nothing more about whether the config runs."""
    data = (yaml.safe_load(Path(resolve(name)).read_text()) or {}).get("data") or {}
    num_digits = data.get("num_digits", inspect.signature(AdditionDataModule).parameters["num_digits"].default)
    return min(data.get("test_lengths") or default_test_lengths(num_digits))


@pytest.mark.parametrize("name", shipped())
def test_a_shipped_config_fits_and_tests(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a store a logger preset names by a relative path (mlflow.db) lands here
    short = ["--data.test_lengths", f"[{shortest_test_length(name)}]"]
    for subcommand in ("fit", "test"):
        args = [subcommand, "--config", name, "--trainer.default_root_dir", str(tmp_path), *QUIET, *FEW_STEPS, *short]
        cli = cli_main(args)
        assert cli.trainer.state.finished, subcommand
    assert "exact match %" in capsys.readouterr().out


@pytest.mark.parametrize("name", shipped(STUDY_DIR))
def test_a_shipped_study_runs_a_trial(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = yaml.safe_load((STUDY_DIR / f"{name}.yaml").read_text())
    spec["seeds"] = [0]
    if "points" in spec:
        spec["points"] = spec["points"][:1]
    if "grid" in spec:
        spec["grid"] = {key: values[:1] for key, values in spec["grid"].items()}
    if "search" in spec:
        spec["search"]["trials"] = 1
        spec["search"].pop("start", None)
    study = tmp_path / f"{name}.yaml"
    study.write_text(yaml.safe_dump(spec))
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    assert main(["sweep", str(study), "--quick", "--runs-dir", str(runs), "--docs-dir", str(docs)]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 trials done" in out, out
    assert (docs / f"{name}.md").is_file()
