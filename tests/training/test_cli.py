"""The real LightningCLI, driven in-process: fit, resume, validate/test/predict, configs, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch.callbacks import TQDMProgressBar
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from adder.config_files import RUN_CONFIG_DIRS
from adder.training.callbacks import PROGRESS_BAR_REFRESH_RATE, AdderProgressBar, StopAtTarget
from adder.training.cli import main
from adder.training.schedules import CosineDecay
from tests.helpers.cli import QUIET, run_cli, run_dirs, tiny_fit_args
from tests.helpers.tensorboard import scalars

CONFIGS = sorted(path for directory in RUN_CONFIG_DIRS for path in directory.glob("*.yaml"))


def test_fit_writes_config_checkpoint_and_events(tmp_path: Path) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(6))
    (run,) = run_dirs(tmp_path)
    assert (run / "config.yaml").is_file()
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["net"]["init_args"]["cell"] == "rnn" and config["data"]["num_digits"] == 3
    assert config["model"]["net"]["init_args"]["hidden_size"] == 16 and "hidden_size" not in config["model"]
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 6
    logged = scalars(run)
    for tag in ("train/loss", "train/digit_acc", "val/exact_match", "val/digit_acc", "hp_metric"):
        assert tag in logged, tag
    assert [step for step, _ in logged["val/exact_match"]] == [3, 6]  # validation every 3 steps, at the steps done
    # One numbering: step k is the k-th optimizer step, in TensorBoard as in checkpoint names.
    assert [step for step, _ in logged["train/loss"]] == [step for step, _ in logged["train/lr"]] == list(range(1, 7))
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best-step6.ckpt", "last.ckpt"]
    # hp_metric is a measured exact match at each validation: no placeholder, no point at step 0.
    assert logged["hp_metric"] == logged["val/exact_match"]
    assert "epoch" not in logged  # always 0 on the endless stream
    events = EventAccumulator(str(run))
    events.Reload()
    (samples_tag,) = [tag for tag in events.Tags()["tensors"] if tag.startswith("val/samples")]
    table = events.Tensors(samples_tag)[-1].tensor_proto.string_val[0].decode()
    assert table.startswith("| a | b | predicted | truth | right |") and table.count("\n") == 9  # 8 problems


def test_resume_continues_step_count_and_data_stream(tmp_path: Path) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(6))
    (first,) = run_dirs(tmp_path)
    cli = main(
        [
            "fit",
            "--config",
            str(first / "config.yaml"),
            "--ckpt_path",
            str(first / "checkpoints" / "last.ckpt"),
            "--trainer.max_steps",
            "10",
            *QUIET,
        ]
    )
    assert cli.trainer.global_step == 10
    # The stream restarted at batch 6 instead of replaying batches 0..5.
    assert cli.trainer.train_dataloader.dataset.start == 6
    assert run_dirs(tmp_path) == [first]  # the same run directory, no new version
    assert torch.load(first / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 10
    logged = scalars(first)  # both runs' event files
    val_steps = [step for step, _ in logged["val/exact_match"]]
    assert val_steps == [3, 6, 9]  # the checkpoints' and the console's step numbers
    loss_steps = [step for step, _ in logged["train/loss"]]
    assert sorted(loss_steps) == list(range(1, 11))  # every step once: nothing replayed


def test_validate_test_predict_on_a_checkpoint(tmp_path: Path) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(3, "--model.cell", "gru"))
    checkpoint = str(run_dirs(tmp_path)[0] / "checkpoints" / "last.ckpt")
    eval_args = [
        "--ckpt_path",
        checkpoint,
        "--data.num_digits",
        "3",
        "--data.val_size",
        "40",
        "--data.val_kind_size",
        "20",
        "--data.test_size",
        "40",
        "--data.test_lengths",
        "[3, 6]",
    ]
    cli = run_cli("validate", tmp_path, *eval_args)
    assert cli.model.config.cell == "gru"  # the architecture comes from the checkpoint
    assert "val/exact_match" in cli.trainer.callback_metrics
    cli = run_cli("test", tmp_path, *eval_args)
    for key in (
        "test/exact_match/random/3",
        "test/exact_match/carry/6",
        "test/digit_acc/edge/3",
        "test/exact_match/mixed/6",
    ):
        assert key in cli.trainer.callback_metrics, key
    test_run = run_dirs(tmp_path)[-1]
    curve = scalars(test_run)["test_by_length/exact_match/carry"]
    assert [step for step, _ in curve] == [3, 6]  # accuracy against length, x = digits
    events = EventAccumulator(str(test_run))
    events.Reload()
    assert "test/exact_match_vs_length" in events.Tags()["images"]
    cli = run_cli("predict", tmp_path, *eval_args)
    lines = Path(run_dirs(tmp_path)[-1] / "predictions.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["a", "b", "predicted", "truth", "correct"]
    assert len(lines) == 1 + 40 + 20 + 8  # header, the mixture, full-ripple sums, edge cases
    a, b, _, truth, _ = lines[1].split("\t")
    assert int(a) + int(b) == int(truth)


def test_a_run_builds_the_parser_of_its_subcommand_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # LightningCLI builds a parser for each of fit, validate, test and predict (about 0.2 s each
    # here), on every run and every trial of a study: a run needs the one it runs.
    for subcommand in ("fit", "validate"):
        cli = run_cli(subcommand, tmp_path, *tiny_fit_args(1))
        assert cli.subcommands().keys() == {subcommand} and cli.trainer.state.finished
    # With no subcommand first (python train.py --help), all four, as Lightning lists them.
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "{fit,validate,test,predict}" in capsys.readouterr().out


def test_sgd_with_nesterov_momentum_from_the_command_line(tmp_path: Path) -> None:
    cli = run_cli(
        "fit",
        tmp_path,
        *tiny_fit_args(2),
        "--optimizer",
        "SGD",
        "--optimizer.lr",
        "0.1",
        "--optimizer.momentum",
        "0.5",
        "--optimizer.nesterov",
        "true",
    )
    optimizer = cli.trainer.optimizers[0]
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.defaults["momentum"] == 0.5 and optimizer.defaults["nesterov"] is True


def test_default_optimizer_is_adam_decaying_over_max_steps(tmp_path: Path) -> None:
    cli = run_cli("fit", tmp_path, *tiny_fit_args(4))
    optimizer = cli.trainer.optimizers[0]
    assert isinstance(optimizer, torch.optim.Adam) and optimizer.defaults["lr"] == 0.003
    (config,) = cli.trainer.lr_scheduler_configs
    assert isinstance(config.scheduler, CosineDecay) and config.scheduler.total_steps == 4
    assert config.interval == "step" and optimizer.param_groups[0]["lr"] == 0.0  # decayed to 0 at the end


def test_constant_lr_config_is_the_previous_recipe(tmp_path: Path) -> None:
    cli = run_cli("fit", tmp_path, "--config", "constant_lr", *tiny_fit_args(2))
    assert not cli.trainer.lr_scheduler_configs and cli.trainer.optimizers[0].param_groups[0]["lr"] == 0.001
    stop = next(c for c in cli.trainer.callbacks if isinstance(c, StopAtTarget))
    assert stop.min_steps == 3000  # (the tiny run's own flags turn its target off)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_shipped_configs_parse(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(config), "--print_config"])
    assert exit_info.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert_subset(yaml.safe_load(config.read_text()), printed)


def assert_subset(wanted: dict, got: dict, path: str = "") -> None:
    for key, value in wanted.items():
        if isinstance(value, dict):
            assert_subset(value, got[key], f"{path}{key}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):  # a list of loggers
            assert len(got[key]) == len(value), f"{path}{key}"
            for k, (wanted_item, got_item) in enumerate(zip(value, got[key])):
                assert_subset(wanted_item, got_item, f"{path}{key}.{k}.")
        else:
            assert got[key] == value, f"{path}{key}"


def test_mlp_config_trains(tmp_path: Path) -> None:
    cli = run_cli("fit", tmp_path, "--config", "mlp", *tiny_fit_args(3))
    assert type(cli.model.model).__name__ == "MLPAdder"


def test_non_finite_loss_stops_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli("fit", tmp_path, *tiny_fit_args(20), "--optimizer", "SGD", "--optimizer.lr", "1e38")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: loss became")


def test_a_progress_bar_the_user_gives_is_used_as_given(tmp_path: Path) -> None:
    quiet = ["--trainer.default_root_dir", str(tmp_path), "--trainer.enable_model_summary", "false"]
    cli = main(["fit", *quiet, *tiny_fit_args(1)])
    assert type(cli.trainer.progress_bar_callback) is AdderProgressBar  # in place of Lightning's default
    assert cli.trainer.progress_bar_callback.refresh_rate == PROGRESS_BAR_REFRESH_RATE
    given = ["--trainer.callbacks+=TQDMProgressBar", "--trainer.callbacks.refresh_rate", "1"]
    cli = main(["fit", *quiet, *tiny_fit_args(1), *given])
    bar = cli.trainer.progress_bar_callback
    assert type(bar) is TQDMProgressBar and bar.refresh_rate == 1


def test_resume_logs_into_its_run_unless_given_another_name(tmp_path: Path) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(3))
    (first,) = run_dirs(tmp_path)
    last = str(first / "checkpoints" / "last.ckpt")
    cli = run_cli("fit", tmp_path, *tiny_fit_args(6), "--ckpt_path", last, "--trainer.logger.init_args.name", "other")
    assert Path(cli.trainer.log_dir) == tmp_path / "other" / "version_0"  # the name given is used
    assert cli.trainer.global_step == 6 and run_dirs(tmp_path) == [first]


def test_best_checkpoint_is_the_latest_of_equal_validations(tmp_path: Path) -> None:
    # A learning rate this small leaves every validation scoring the same: the best is the last.
    cli = run_cli("fit", tmp_path, *tiny_fit_args(9), "--optimizer.init_args.lr", "1e-12")
    checkpoint = cli.trainer.checkpoint_callback
    assert Path(checkpoint.best_model_path).name == "best-step9.ckpt"
    assert sorted(p.name for p in Path(checkpoint.dirpath).iterdir()) == ["best-step9.ckpt", "last.ckpt"]


@pytest.mark.parametrize(
    ("config", "base", "most_parameters"),
    [("smallest", 10, 1000), ("smallest_onehot", 10, 300), ("smallest_binary", 2, 100)],
)
def test_smallest_configs_are_as_small_as_they_say(
    tmp_path: Path, config: str, base: int, most_parameters: int
) -> None:
    cli = run_cli("fit", tmp_path, "--config", config, "--trainer.max_steps", "1", "--verify_after_fit", "null")
    assert cli.datamodule.base == base
    assert sum(p.numel() for p in cli.model.parameters()) <= most_parameters
