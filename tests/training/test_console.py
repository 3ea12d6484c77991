"""What the training commands print: quiet by default, a table after validate and test, one test bar."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from adder.training.console import take_verbose_flag
from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args


def notices(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Tip:" in r.getMessage() or "available:" in r.getMessage()]


def test_fit_is_quiet_unless_verbose(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Lightning's rank-zero logger at INFO whatever an earlier test set (adder sweep quiets it).
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        caplog.set_level(logging.INFO, logger=name)
    run_cli("fit", tmp_path / "quiet", *tiny_fit_args(1))
    assert notices(caplog) == []
    assert any("trainable parameters" in r.getMessage() for r in caplog.records)  # the project's own line stays
    caplog.clear()
    run_cli("fit", tmp_path / "verbose", *tiny_fit_args(1), "--verbose", "true")
    found = notices(caplog)
    assert any(m.startswith("GPU available:") for m in found)  # (the tip: only the Lightning versions that have it)


def test_a_fit_ends_with_the_commands_that_use_its_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(1))
    (run,) = run_dirs(tmp_path)
    last = run / "checkpoints" / "last.ckpt"
    out = capsys.readouterr().err  # the summary goes to stderr, beside Lightning's own lines
    assert f"  adder add --ckpt {last} 123 456" in out
    assert f"  adder verify --ckpt {last} --time-limit 120" in out  # the default recipe's models are proved


def test_validate_prints_its_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(3))
    last = str(run_dirs(tmp_path)[0] / "checkpoints" / "last.ckpt")
    capsys.readouterr()
    run_cli("validate", tmp_path, "--ckpt_path", last)
    out = capsys.readouterr().out
    assert "validation of the checkpoint at step 3" in out and "val/exact_match" in out and "%" in out


def test_a_test_draws_one_bar_for_every_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """why not Lightning's TQDMProgressBar: it draws a bar per test dataloader ("DataLoader 7"), and
    a test runs one per suite and length; AdderProgressBar draws one over all of them."""
    run_cli("fit", tmp_path, *tiny_fit_args(1))
    last = str(run_dirs(tmp_path)[0] / "checkpoints" / "last.ckpt")
    capsys.readouterr()
    run_cli("test", tmp_path, "--ckpt_path", last, "--trainer.enable_progress_bar", "true")
    out = capsys.readouterr().out
    assert "DataLoader" not in out  # one bar for every suite, not one for each
    totals = {int(total) for total in re.findall(r"\| *\d+/(\d+) ", out)}
    assert len(totals) == 1 and f"{totals.pop()}/" in out


@pytest.mark.parametrize(
    ("args", "rest", "verbose"),
    [
        (["fit", "--verbose", "true", "--x", "1"], ["fit", "--x", "1"], True),
        (["predict", "--verbose=false"], ["predict"], False),
        (["test", "--verbose", "true"], ["test", "--verbose", "true"], False),  # Lightning's own flag
    ],
)
def test_verbose_is_taken_for_fit_and_predict(args: list[str], rest: list[str], verbose: bool) -> None:
    assert take_verbose_flag(args) == (rest, verbose)


def test_the_first_help_screen_shows_config_model_and_data(capsys: pytest.CaptureFixture[str]) -> None:
    from adder.training.cli import main

    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    first_screen = "\n".join(capsys.readouterr().out.splitlines()[:15])
    for flag in ("-c CONFIG, --config CONFIG", "--model.cell", "--data.num_digits", "--trainer.max_steps"):
        assert flag in first_screen, flag


def test_plain_help_text_has_no_markup(capsys: pytest.CaptureFixture[str]) -> None:
    from adder.__main__ import main

    for name in ("add", "evaluate", "sweep"):
        with pytest.raises(SystemExit):
            main([name, "--help"])
        assert "``" not in capsys.readouterr().out, name


@pytest.mark.parametrize(
    ("args", "note"),
    [
        (["--model.cell", "gru"], "--config gru"),
        (["--model.cell", "lstm"], "--config lstm"),
        (["--config", "gru"], None),
        ([], None),
    ],
)
def test_a_gated_cell_without_its_config_is_told_its_recipe(
    args: list[str], note: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(1), *args, "--trainer.max_steps", "1")
    err = capsys.readouterr().err
    if note is None:
        assert "own is --config" not in err
    else:
        assert f"own is {note}" in err
