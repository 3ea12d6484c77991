"""One run holds its whole story: the full config as HParams, fit's summary, and every later test."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml

from adder.training.tracking import flatten
from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args
from tests.helpers.tensorboard import hparams, scalars

EVAL = ["--data.num_digits", "3", "--data.val_size", "40", "--data.test_size", "40"]


def test_flatten_writes_the_config_as_tensorboard_scalars() -> None:
    config = {
        "model": {"cell": "gru", "hidden_size": 16, "eval_chunk_size": None},
        "optimizer": {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.1, "nesterov": True}},
        "data": {"sampling": {"digits": 0.4, "carry": 0.6}, "test_lengths": [3, 30]},
        "seed_everything": "7",
    }
    assert flatten(config) == {
        "model.cell": "gru",
        "model.hidden_size": 16,
        "model.eval_chunk_size": None,
        "optimizer": "torch.optim.SGD",
        "optimizer.lr": 0.1,
        "optimizer.nesterov": "true",
        "data.sampling": "{digits: 0.4, carry: 0.6}",
        "data.test_lengths": "[3, 30]",
        "seed_everything": "7",
    }


@pytest.mark.slow
def test_fit_then_tests_write_into_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """why not Lightning's SaveConfigCallback: a test logged into the fit's run would write its own
    config over the fit's config.yaml; RunConfig writes test_config.yaml beside it."""
    run_cli("fit", tmp_path, *tiny_fit_args(6), "--optimizer.lr", "0.002")
    (run,) = run_dirs(tmp_path)
    assert "run:" in capsys.readouterr().err  # fit's closing summary
    last = str(run / "checkpoints" / "last.ckpt")
    run_cli("test", tmp_path, "--ckpt_path", last, *EVAL, "--data.test_lengths", "[3]")
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == ["exact", "match", "%", "3"]  # one compact table
    lines = printed.splitlines()
    assert [line.split()[0] for line in lines[1:5]] == ["carry", "edge", "mixed", "random"]
    assert lines[5].startswith("carry linearly readable from the hidden state (probe accuracy): layer1 ")
    assert len(lines) == 6
    run_cli("test", tmp_path, "--ckpt_path", last, *EVAL, "--data.test_lengths", "[6]")
    assert run_dirs(tmp_path) == [run]  # both tests went into the fit's run
    assert (run / "test_config.yaml").is_file() and "cell: rnn" in (run / "config.yaml").read_text()

    logged = scalars(run)
    for tag in ("train/loss", "val/exact_match", "val/exact_match_best", "train/fit_seconds"):
        assert tag in logged, tag
    for kind in ("random", "carry", "mixed", "edge"):  # the second test added to the first
        assert f"test/exact_match/{kind}/3" in logged and f"test/exact_match/{kind}/6" in logged
    assert "epoch" not in logged
    params = hparams(run)
    assert params["optimizer"] == "torch.optim.Adam" and params["optimizer.lr"] == 0.002
    assert params["data.num_digits"] == 3 and params["data.val_num_digits"] == 30  # resolved, not null
    assert params["model.state_noise"] == 0.3 and params["model.step_noise"] == 0.0  # the objectives used
    assert params["model.net"] == "adder.models.recurrent.RecurrentAdder" and params["model.hidden_size"] == 16
    assert params["trainer.max_steps"] == 6 and params["seed_everything"] == 0 and params["num_parameters"] > 0
    # the tests' results sit at the step of the checkpoint they tested, not at step 0
    assert {step for step, _ in logged["test/exact_match/random/6"]} == {6}
    assert "ckpt_path" not in params and not any(key.startswith("_") for key in params)


@pytest.mark.slow
def test_a_checkpoint_from_outside_a_run_gets_a_run_that_names_it(tmp_path: Path) -> None:
    run_cli("fit", tmp_path / "trained", *tiny_fit_args(3))
    loose = tmp_path / "model.ckpt"
    shutil.copy(run_dirs(tmp_path / "trained")[0] / "checkpoints" / "last.ckpt", loose)
    run_cli("test", tmp_path / "elsewhere", "--ckpt_path", str(loose), *EVAL, "--data.test_lengths", "[3]")
    (run,) = run_dirs(tmp_path / "elsewhere")
    assert hparams(run)["ckpt_path"] == str(loose)
    assert "test/exact_match/random/3" in scalars(run)


@pytest.mark.slow
def test_csv_logger_and_no_logger_run_fit_and_test(tmp_path: Path) -> None:
    csv_logger = ["--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", str(tmp_path / "csv")]
    schedule = ["--lr_scheduler", "StepLR", "--lr_scheduler.step_size", "2"]
    cli = run_cli("fit", tmp_path, *tiny_fit_args(6), *csv_logger, *schedule)
    run = Path(cli.trainer.log_dir)
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert any(row.get("train/lr") for row in rows) and any(row.get("val/exact_match") for row in rows)
    assert yaml.safe_load((run / "hparams.yaml").read_text())["optimizer.lr"] == 0.003
    fit_rows = (run / "metrics.csv").read_text()
    test = run_cli("test", tmp_path, "--ckpt_path", str(run / "checkpoints" / "last.ckpt"), *EVAL, *csv_logger)
    # Lightning's CSVLogger empties a reused directory, so the test gets a CSV run of its own.
    assert (run / "metrics.csv").read_text() == fit_rows
    rows = list(csv.DictReader((Path(test.trainer.log_dir) / "metrics.csv").open()))
    assert any(row.get("test/exact_match/random/30") for row in rows)

    quiet = run_cli("fit", tmp_path / "none", *tiny_fit_args(3), "--trainer.logger", "false")
    run = tmp_path / "none" / "lightning_logs" / "version_0"  # a run directory all the same
    assert quiet.trainer.logger is None and (run / "checkpoints" / "last.ckpt").is_file()
    run_cli(
        "test",
        tmp_path / "none",
        "--ckpt_path",
        str(run / "checkpoints" / "last.ckpt"),
        *EVAL,
        "--trainer.logger",
        "false",
    )
    assert (run / "test_config.yaml").is_file()  # into the checkpoint's run, as with a logger


def test_the_progress_bar_counts_steps_of_the_stream(tmp_path: Path) -> None:
    from adder.training.cli import main

    cli = main(
        [
            "fit",
            "--trainer.default_root_dir",
            str(tmp_path),
            "--trainer.enable_model_summary",
            "false",
            *tiny_fit_args(5),
        ]
    )
    bar = cli.trainer.progress_bar_callback.train_progress_bar
    assert bar.total == 5 and bar.n == 5 and bar.desc.startswith("step")
