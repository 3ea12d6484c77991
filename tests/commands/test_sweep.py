"""``python -m adder sweep``: experiment files, the --quick smoke run, resumability, the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from adder.__main__ import main
from adder.config_files import EXPERIMENT_DIR
from tests.helpers.tensorboard import hparams, scalars

EXPERIMENTS = sorted(EXPERIMENT_DIR.glob("*.yaml"))


@pytest.mark.slow
def test_quick_sweep_writes_a_report_and_does_not_rerun(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "sweep",
        "blog_mlp_vs_rnn",
        "--quick",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--docs-dir",
        str(tmp_path / "docs"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "blog_mlp_vs_rnn: MLP seed 0 ... 4 steps" in out and "blog_mlp_vs_rnn: RNN seed 0 ... 4 steps" in out
    assert "6 of 6 trials done" in out
    # Each trial is one run (fit and test together) whose HParams hold what the study varies.
    for label, cell in (("MLP", "mlp"), ("RNN", "rnn")):
        run = tmp_path / "runs" / "blog_mlp_vs_rnn" / label / "seed0"
        assert (run / "checkpoints" / "last.ckpt").is_file()
        assert hparams(run)["model.cell"] == cell
        assert {"test/exact_match/split/3", "val/exact_match"} <= set(scalars(run))
    report = (tmp_path / "docs" / "blog_mlp_vs_rnn.md").read_text()
    assert "| MLP | 775 | 3/3 | 4 (4-4) |" in report and "| RNN | 745 | 3/3 | 4 (4-4) |" in report
    assert "76.25%" in report  # ours beside the blog's figure
    pytest.importorskip("matplotlib")
    assert (tmp_path / "docs" / "blog_mlp_vs_rnn_curves.png").stat().st_size > 0
    # Run again: both trials are done in the study's storage, nothing retrains.
    assert main(args) == 0
    out = capsys.readouterr().out
    assert " steps in " not in out and "6 of 6 trials done" in out
    # The report can be written again from the storage alone.
    (tmp_path / "docs" / "blog_mlp_vs_rnn.md").unlink()
    assert (
        main(
            [
                "sweep",
                "report",
                "blog_mlp_vs_rnn",
                "--quick",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--docs-dir",
                str(tmp_path / "docs"),
            ]
        )
        == 0
    )
    assert "| RNN | 745 | 3/3 | 4 (4-4) |" in (tmp_path / "docs" / "blog_mlp_vs_rnn.md").read_text()


def test_missing_experiment_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "/does/not/exist.yaml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exist.yaml" in err[0]
