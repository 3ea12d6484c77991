"""Several loggers at once: every one gets the run's metrics, and a later test of the run's
checkpoint lands in the same TensorBoard run and the same MLflow run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args
from tests.helpers.tensorboard import hparams, scalars

pytestmark = pytest.mark.slow
TEST = ["--data.test_size", "20", "--data.test_lengths", "[3]"]


def csv_columns(path: Path) -> set[str]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return {key for row in rows for key, value in row.items() if value != ""}


def test_tensorboard_and_csv_keep_every_feature(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli("fit", tmp_path, "-c", "many_loggers", *tiny_fit_args(6))
    (run,) = run_dirs(tmp_path)
    assert f"adder test --config {run}" in capsys.readouterr().err.replace("./", "")  # the run's loggers again
    last = str(run / "checkpoints" / "last.ckpt")
    run_cli("test", tmp_path, "--config", str(run / "config.yaml"), "--ckpt_path", last, *TEST)

    assert run_dirs(tmp_path) == [run]  # fit and test: one TensorBoard run
    logged = scalars(run)
    assert {"train/loss", "val/exact_match", "test/exact_match/random/3"} <= set(logged)
    assert hparams(run)["model.cell"] == "rnn"
    fit_csv, test_csv = (tmp_path / "csv_logs" / f"version_{k}" / "metrics.csv" for k in (0, 1))
    assert {"train/loss", "val/exact_match", "val/exact_match_best"} <= csv_columns(fit_csv)
    assert "test/exact_match/random/3" in csv_columns(test_csv)  # CSV runs cannot be reopened: a new one


def test_mlflow_holds_params_fit_and_test_in_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow  # the mlflow extra is part of the test extra

    monkeypatch.chdir(tmp_path)  # the preset's store is sqlite:///mlflow.db, here
    run_cli("fit", tmp_path, "-c", "mlflow", *tiny_fit_args(6))
    (run,) = run_dirs(tmp_path)
    last = str(run / "checkpoints" / "last.ckpt")
    run_cli("test", tmp_path, "--config", str(run / "config.yaml"), "--ckpt_path", last, *TEST)

    client = mlflow.tracking.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (found,) = client.search_runs([client.get_experiment_by_name("adder").experiment_id])
    assert found.data.params["model.cell"] == "rnn" and found.data.params["model.hidden_size"] == "16"
    assert {"train/loss", "val/exact_match", "test/exact_match/random/3"} <= set(found.data.metrics)
    assert [m.step for m in client.get_metric_history(found.info.run_id, "test/exact_match/random/3")] == [6]
    assert "test/exact_match/random/3" in scalars(run)  # and TensorBoard has it too


def test_fit_can_test_its_best_checkpoint_into_the_same_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(6), *TEST, "--test_after_fit", "true")
    (run,) = run_dirs(tmp_path)
    captured = capsys.readouterr()
    assert "testing " in captured.err and "best-step" in captured.err
    assert captured.out.splitlines()[0].split() == ["exact", "match", "%", "3"]
    logged = scalars(run)
    best_step = int(captured.err.split("best-step")[1].split(".ckpt")[0])
    assert {step for step, _ in logged["test/exact_match/random/3"]} == {best_step}
    assert "val/exact_match" in logged
