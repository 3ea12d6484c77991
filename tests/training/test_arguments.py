"""The training command's parser beside Lightning's own (the test's docstring says why)."""

from __future__ import annotations

import pytest
from lightning.pytorch.cli import LightningArgumentParser

from adder.training.arguments import OneLineErrorParser


@pytest.mark.parametrize("parser_class", [LightningArgumentParser, OneLineErrorParser])
def test_why_not_lightnings_parser_a_bad_value_is_one_line(
    parser_class: type[LightningArgumentParser], capsys: pytest.CaptureFixture[str]
) -> None:
    """why not Lightning's LightningArgumentParser.error: a bad command line prints the parser's
    usage before the error (for adder fit, a screen of --trainer.* flags); OneLineErrorParser
    (OneLineErrors) prints one ``error:`` line, and exits with status 2 as argparse does."""
    parser = parser_class(prog="adder fit")
    parser.add_argument("--steps", type=int)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--steps", "many"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    if parser_class is LightningArgumentParser:
        assert err[0].startswith("usage: adder fit")
    else:
        assert len(err) == 1 and err[0].startswith("error: ") and "steps" in err[0]
