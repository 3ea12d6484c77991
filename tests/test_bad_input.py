"""The bad-input catalogue: every case is one ``error: ...`` line naming the problem, a non-zero
exit status, no traceback, and (for configuration errors) no run directory left behind."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest
import torch

from adder.__main__ import main as adder_main
from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args

# (command, arguments, words the message must contain). "train" is `python train.py fit ...`
# unless the arguments name another subcommand; "adder" is `python -m adder ...`. {name} is a
# file from the `files` fixture.
CATALOGUE = [
    ("train", ["--data.base", "1"], "base"),
    ("train", ["--data.base", "37"], "base"),
    ("train", ["--model.cell", "transformer"], "cell"),
    ("train", ["--model.hidden_size", "0"], "hidden_size"),
    ("train", ["--model.num_layers", "-2"], "num_layers"),
    ("train", ["--model.input_size", "-1"], "input_size"),
    ("train", ["--model.replay_hardest", "1.5"], "replay_hardest"),
    ("train", ["--model.state_noise", "-0.5"], "state_noise"),
    ("train", ["--model.step_noise", "-0.1"], "step_noise"),
    ("train", ["--model.state_spread", "-1"], "state_spread"),
    ("train", ["--model.carry_hint", "-1"], "carry_hint"),
    ("train", ["--model.cell", "mlp", "--model.state_spread", "1"], "state_spread"),
    ("train", ["--model.gates", "hard"], "gates 'hard' applies to the gated cells"),
    ("train", ["--model.gates", "soft"], "gates"),
    ("train", ["--model.cell", "gru", "--model.nonlinearity", "relu"], "nonlinearity 'relu' applies to the Elman cell"),
    ("train", ["--data.val_kinds", "[carry, weird]"], "weird"),
    ("train", ["--carry_probe.size", "-1"], "carry_probe.size"),
    (
        "train",
        ["--lr_scheduler", "adder.training.schedules.CosineDecay", "--lr_scheduler.total_steps", "0"],
        "total_steps",
    ),
    ("train", ["--data.num_digits", "0"], "num_digits"),
    ("train", ["--data.batch_size", "0"], "batch_size"),
    ("train", ["--data.val_size", "-5"], "val_size"),
    ("train", ["--data.min_digits", "12"], "min_digits"),
    ("train", ["--data.sampling", "{digits: 0.5, bogus: 0.5}"], "bogus"),
    ("train", ["--data.carry_probability", "2"], "carry_probability"),
    ("train", ["--data.sampling", "{range: 1.0}"], "min_digits"),
    ("train", ["--checkpoint.save_last", "link"], "save_last"),
    ("train", ["--model.cell", "mlp", "--data.num_digits", "100000"], "MLP"),
    ("train", ["--data.num_digits", "1000000000"], "too large"),
    ("train", ["--optimizer.lr", "-1"], "lr"),
    ("train", ["--optimizer.lr", "0"], "lr"),
    ("train", ["--trainer.max_steps", "ten"], "max_steps"),
    ("train", ["--checkpoint.save_last_every_n_steps", "-1"], "save_last_every_n_steps"),
    ("train", ["--config", "/does/not/exist.yaml"], "exist.yaml"),
    ("train", ["--ckpt_path", "/does/not/exist.ckpt"], "not found"),
    ("train", ["--ckpt_path", "{truncated}"], "truncated"),
    ("train", ["--ckpt_path", "{text}"], "not a checkpoint"),
    ("train", ["--ckpt_path", "{torch_file}"], "not a Lightning checkpoint"),
    ("train", ["--ckpt_path", "{binary}"], "base=2"),
    ("train", ["test", "--ckpt_path", "{binary}"], "base=2"),
    ("adder", ["add", "--ckpt", "/does/not/exist.ckpt", "1", "2"], "not found"),
    ("adder", ["add", "--ckpt", "{truncated}", "1", "2"], "truncated"),
    ("adder", ["add", "--ckpt", "{text}", "1", "2"], "not a checkpoint"),
    ("adder", ["add", "--ckpt", "{decimal}", "12x", "3"], "'x'"),
    ("adder", ["add", "--ckpt", "{decimal}", "1.5+2"], "'.'"),
    ("adder", ["add", "--ckpt", "{decimal}", "--", "-1", "3"], "non-negative"),
    ("adder", ["add", "--ckpt", "{binary}", "12", "1"], "outside base 2"),
    ("adder", ["add", "--ckpt", "{decimal}", "+"], "'+': expected two numbers"),
    ("adder", ["add", "--ckpt", "{decimal}", "5+"], "'5+': expected two numbers"),
    ("adder", ["add", "--ckpt", "{decimal}", "+5", "3"], "'+5': only non-negative numbers without a sign"),
    ("adder", ["add", "--ckpt", "{decimal}", "\u22125", "3"], "'\u22125': only non-negative numbers without a sign"),
    ("adder", ["add", "--ckpt", "{decimal}", "3", "\u00b12"], "'\u00b12'"),
    ("adder", ["add", "--ckpt", "{decimal}", "--file", "{empty}"], "no problems"),
    ("adder", ["add", "--ckpt", "{decimal}", "1", "2", "3"], "two numbers"),
    ("adder", ["add", "--ckpt", "{decimal}", "1", "2", "--chunk-size", "0"], "chunk-size"),
    ("adder", ["add", "--ckpt", "{mlp}", "--chunk-size", "8", "1", "2"], "--chunk-size"),
    ("adder", ["sweep", "no_such_study"], "no_such_study"),
    ("adder", ["sweep", "hidden_size", "--retries", "-1"], "--retries"),
    ("adder", ["evaluate", "--ckpt", "{decimal}", "--lengths", "1000000000"], "too large"),
    ("adder", ["evaluate", "--ckpt", "{decimal}", "--size", "0"], "--size"),
    ("adder", ["evaluate", "--ckpt", "{mlp}", "--lengths", "100"], "adds only 3-digit numbers"),
    (
        "train",
        ["--model.nonlinearity", "relu", "--verify_after_fit", "10"],
        "adder verify models nonlinearity tanh only",
    ),
    (
        "train",
        ["--model.cell", "gru", "--model.gates", "hard", "--verify_after_fit", "10"],
        "models gates sigmoid only",
    ),
    ("train", ["--verify_after_fit", "-1"], "verify_after_fit"),
    ("train", ["--verify_after_fit", "soon"], "verify_after_fit"),
    ("train", ["--verify_after_fit", "null", "--verify_refine", "2"], "give --verify_after_fit"),
    # auto (the default) skips a ReLU RNN after the fit, but rounds of verify were asked for.
    (
        "train",
        ["--model.nonlinearity", "relu", "--verify_after_fit", "auto", "--verify_refine", "1"],
        "--verify_refine: adder verify models",
    ),
    ("train", ["--verify_after_fit", "10", "--verify_refine", "-1"], "--verify_refine must be"),
    (
        "train",
        ["--verify_after_fit", "10", "--verify_refine", "1", "--verify_refine_steps", "0"],
        "verify_refine_steps",
    ),
    ("train", ["test", "--ckpt_path", "{decimal}", "--verify_refine", "1"], "flag of adder fit"),
    ("train", ["test", "--ckpt_path", "{decimal}", "--verify_after_fit", "10"], "verify_after_fit"),
    ("adder", ["verify", "--ckpt", "/does/not/exist.ckpt"], "not found"),
    ("adder", ["verify", "--ckpt", "{decimal}", "--time-limit", "0"], "--time-limit"),
    ("adder", ["verify", "--ckpt", "{decimal}", "--time-limit", "soon"], "--time-limit"),
    ("adder", ["subtract", "1", "2"], "invalid choice"),
    # A model flag beside --ckpt_path that the checkpoint's own hyperparameters would override.
    ("train", ["test", "--ckpt_path", "{decimal}", "--model.hidden_size", "32"], "would not be used"),
    ("train", ["validate", "--ckpt_path", "{decimal}", "--model.eval_chunk_size=8"], "eval_chunk_size"),
    ("train", ["--ckpt_path", "{decimal}", "--model.cell", "gru"], "would not be used"),
    ("train", ["predict", "--ckpt_path", "{decimal}", "--model.replay_hardest", "0.5"], "replay_hardest"),
    # A resume whose max_steps is below the checkpoint's step would do nothing.
    ("train", ["--ckpt_path", "{decimal}", "--trainer.max_steps", "1"], "is at step 2, past --trainer.max_steps 1"),
    ("train", ["--verbose", "maybe"], "--verbose takes true or false"),
    ("train", ["predict", "--verbose=perhaps"], "--verbose takes true or false"),
    # A list or mapping given empty where the run needs content.
    ("train", ["--data.sampling", "{}"], "empty"),
    ("train", ["--data.test_kinds", "[]"], "test_kinds"),
    ("train", ["--data.test_lengths", "[]"], "test_lengths"),
    # Every trainer flag that Lightning checks, or would take and fail on mid-run.
    ("train", ["--trainer.max_steps", "-5"], "max_steps"),
    ("train", ["--trainer.max_steps", "0"], "max_steps"),
    ("train", ["--trainer.max_epochs", "-2"], "max_epochs"),
    ("train", ["--trainer.min_steps", "-1"], "min_steps"),
    ("train", ["--trainer.val_check_interval", "0"], "val_check_interval"),
    ("train", ["--trainer.val_check_interval", "-1"], "val_check_interval"),
    ("train", ["--trainer.val_check_interval", "1.5"], "val_check_interval"),
    ("train", ["--trainer.check_val_every_n_epoch", "0"], "check_val_every_n_epoch"),
    ("train", ["--trainer.log_every_n_steps", "-1"], "log_every_n_steps"),
    ("train", ["--trainer.accelerator", "mps"], "MPSAccelerator"),
    ("train", ["--trainer.accelerator", "tpu"], "torch_xla"),
    ("train", ["--trainer.accelerator", "bogus"], "accelerator"),
    ("train", ["--trainer.devices", "0"], "devices"),
    ("train", ["--trainer.devices", "-2"], "devices"),
    ("train", ["--trainer.num_nodes", "0"], "num_nodes"),
    ("train", ["--trainer.precision", "bogus"], "precision"),
    ("train", ["--trainer.strategy", "bogus"], "strategy"),
    ("train", ["--trainer.limit_train_batches", "-1"], "limit_train_batches"),
    ("train", ["--trainer.limit_val_batches", "2.5"], "limit_val_batches"),
    ("train", ["--trainer.accumulate_grad_batches", "0"], "accumulate_grad_batches"),
    ("train", ["--trainer.gradient_clip_val", "-1"], "gradient_clip_val"),
    ("train", ["--trainer.gradient_clip_algorithm", "bogus"], "gradient_clip_algorithm"),
    ("train", ["--trainer.max_time", "bogus"], "duration"),
    ("train", ["--trainer.num_sanity_val_steps", "-2"], "num_sanity_val_steps"),
    ("train", ["--trainer.overfit_batches", "-1"], "overfit_batches"),
    ("train", ["--trainer.fast_dev_run", "-1"], "fast_dev_run"),
    ("train", ["--trainer.reload_dataloaders_every_n_epochs", "-1"], "reload_dataloaders_every_n_epochs"),
    ("train", ["--trainer.default_root_dir", "/etc/passwd/runs"], "cannot create"),
    ("train", ["--checkpoint.every_n_train_steps", "-1"], "every_n_train_steps"),
    ("train", ["--checkpoint.save_top_k", "-5"], "save_top_k"),
    ("train", ["test", "--ckpt_path", "{decimal}", "--test_after_fit", "true"], "test_after_fit"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("inputs")
    paths = {}
    for name, args in (("decimal", []), ("binary", ["--data.base", "2"]), ("mlp", ["--model.cell", "mlp"])):
        run_cli("fit", root / name, *tiny_fit_args(2, *args))
        paths[name] = str(run_dirs(root / name)[0] / "checkpoints" / "last.ckpt")
    (root / "truncated.ckpt").write_bytes(Path(paths["decimal"]).read_bytes()[:200])
    (root / "text.ckpt").write_text("hello\n")
    torch.save({"weights": torch.zeros(2)}, root / "torch_file.ckpt")
    (root / "empty.txt").write_text("")
    for name in ("truncated", "text", "torch_file"):
        paths[name] = str(root / f"{name}.ckpt")
    paths["empty"] = str(root / "empty.txt")
    return paths


def run(command: str, args: list[str], root: Path) -> int:
    if command == "adder":
        try:
            return adder_main(args)
        except SystemExit as exit:  # argparse errors exit from inside
            return int(exit.code or 0)
    subcommand = args[0] if args[0] in ("fit", "validate", "test", "predict") else "fit"
    args = args[1:] if args[0] == subcommand else args
    with pytest.raises(SystemExit) as exit_info:
        run_cli(subcommand, root, *args)
    return int(exit_info.value.code or 0)


@pytest.mark.parametrize(
    ("command", "args", "message"), CATALOGUE, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_bad_input(
    command: str,
    args: list[str],
    message: str,
    files: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [
        arg.format(**files) if arg.startswith("{") and arg.endswith("}") and arg[1:-1] in files else arg for arg in args
    ]
    assert run(command, args, tmp_path) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:"), err  # one line, so no traceback either
    assert message in err[0], err[0]
    assert not (tmp_path / "lightning_logs").exists()  # no half-made run directory


def test_the_catalogue_covers_at_least_20_cases() -> None:
    assert len(CATALOGUE) >= 20


class _CodeInPickle:
    """Unpickling this runs code: it writes a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return builtins.exec, (f"open({str(self.marker)!r}, 'w').write('ran')",)


def test_a_pickle_carrying_code_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": _CodeInPickle(marker)}, evil)
    assert adder_main(["add", "--ckpt", str(evil), "1", "2"]) == 2
    assert "refusing to load" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        run_cli("test", tmp_path / "run", "--ckpt_path", str(evil))
    assert exit_info.value.code == 2
    assert "refusing to load" in capsys.readouterr().err
    assert not marker.exists()  # weights_only loading never ran the code


def test_a_model_flag_that_matches_the_checkpoint_is_used(files: dict[str, str], tmp_path: Path) -> None:
    cli = run_cli("test", tmp_path, "--ckpt_path", files["decimal"], "--model.hidden_size", "16")
    assert cli.model.config.hidden_size == 16 and cli.trainer.state.finished
