"""The ``adder`` command (also ``python -m adder``).

    adder fit|validate|test|predict ...   train and evaluate with the Lightning CLI (adder.training.cli)
    adder add|evaluate|verify ...         use a trained checkpoint (no Lightning needed)
    adder sweep ...                       run a study of many training runs

Lightning is imported only for the commands that train, so ``adder add`` starts as fast as
torch does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from adder.commands import add, evaluate, sweep, verify
from adder.errors import InputError, OneLineErrors

#: Subcommands that LightningCLI runs.
LIGHTNING_COMMANDS = {
    "fit": "train a model (`adder fit --help` lists every flag)",
    "validate": "validate a checkpoint",
    "test": "test a checkpoint on the length-generalisation suites",
    "predict": "write a checkpoint's answers to the validation problems",
}


class Parser(OneLineErrors, argparse.ArgumentParser):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="adder",
        description="Recurrent networks that learn to add, digit by digit.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in LIGHTNING_COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False)  # listed for --help; run by adder.training.cli
    add.add_parser(commands)
    evaluate.add_parser(commands)
    verify.add_parser(commands)
    sweep.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``adder`` command; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in LIGHTNING_COMMANDS:
        from adder.training.cli import main as cli_main  # imports Lightning

        cli_main(args)
        return 0
    try:
        parsed = build_parser().parse_args(args)
        status = parsed.run(parsed)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
