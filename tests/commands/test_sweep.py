"""``python -m adder sweep``: experiment files, the --quick smoke run, resumability, the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from adder.__main__ import main
from adder.config_files import STUDY_DIR
from tests.helpers.tensorboard import hparams, scalars

EXPERIMENTS = sorted(STUDY_DIR.glob("*.yaml"))


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


def test_a_report_from_a_storage_without_the_study_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    args = ["sweep", "report", "hidden_size", "--runs-dir", str(tmp_path / "runs"), "--docs-dir", str(docs)]
    assert main(args) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: no study storage at") and "run `adder sweep hidden_size` first" in line
    assert not (tmp_path / "runs").exists() and not docs.exists()  # no empty journal, no report
    # A storage that exists but holds only another study's trials: refused too, and left as it was.
    sqlite = f"sqlite:///{tmp_path / 'studies.db'}"
    import optuna

    optuna.create_study(study_name="other", storage=sqlite).enqueue_trial({})
    assert main([*args, "--storage", sqlite]) == 2
    assert "holds no study hidden_size" in capsys.readouterr().err
    assert [s.study_name for s in optuna.get_all_study_summaries(sqlite)] == ["other"] and not docs.exists()
    optuna.create_study(study_name="hidden_size", storage=sqlite)
    assert main([*args, "--storage", sqlite]) == 2
    assert "holds no trial of study hidden_size" in capsys.readouterr().err
