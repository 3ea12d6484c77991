"""The training command's parser beside Lightning's own (the test's docstring says why)."""

from __future__ import annotations

import pytest
from lightning.pytorch.cli import LightningArgumentParser

from adder.errors import InputError
from adder.training.arguments import OneLineErrorParser


def test_why_not_lightnings_parser_a_bad_value_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """why not Lightning's LightningArgumentParser.error: a bad command line prints the parser's
    usage before the error (for adder fit, a screen of --trainer.* flags) and exits;
    OneLineErrorParser (OneLineErrors) raises one line as InputError, which ``adder fit`` prints
    as one ``error:`` line with status 2 and a caller of adder.training.fit catches."""
    lightnings = LightningArgumentParser(prog="adder fit")
    lightnings.add_argument("--steps", type=int)
    with pytest.raises(SystemExit) as exit_info:
        lightnings.parse_args(["--steps", "many"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("usage: adder fit")

    ours = OneLineErrorParser(prog="adder fit")
    ours.add_argument("--steps", type=int)
    with pytest.raises(InputError) as error:
        ours.parse_args(["--steps", "many"])
    message = str(error.value)
    assert "\n" not in message and "steps" in message and message.endswith("(see adder fit --help)")
    assert capsys.readouterr().err == ""
