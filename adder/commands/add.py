"""``adder add``: add numbers with a trained model.

Reads operands as people write them (most significant digit first, digits 0-9a-z of the
checkpoint's base) and prints the model's sums, one per line. The sums come from the network,
not from Python arithmetic: a model that has not learnt to add prints wrong answers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from adder.commands.arguments import add_checkpoint_arguments, chunk_size_for, model_to_use, plain_text, say
from adder.errors import InputError
from adder.evaluation.sums import add_with_model
from adder.problems.digits import parse_number


def parse_problem(text: str, base: int) -> tuple[list[int], list[int]]:
    """Split 'A+B' or 'A B' into two LSB-first digit lists."""
    parts = text.split("+") if "+" in text else text.split()
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise InputError(f"{text.strip()!r}: expected two numbers, 'A+B' or 'A B'")
    return parse_operands(parts, base)


def parse_operands(numbers: Sequence[str], base: int) -> tuple[list[int], list[int]]:
    """Two written numbers as LSB-first digit lists; a bad one is named in the error."""
    try:
        a, b = (parse_number(number, base) for number in numbers)
    except ValueError as error:
        raise InputError(str(error)) from error
    return a, b


def read_problems(numbers: Sequence[str], file: str | None, base: int) -> list[tuple[list[int], list[int]]]:
    """The problems given as two numbers or 'A+B' on the command line, or one per line of ``file``."""
    if file is None:
        if len(numbers) == 1:
            return [parse_problem(numbers[0], base)]
        if len(numbers) != 2:
            raise InputError("give two numbers (A B or 'A+B'), or --file F")
        return [parse_operands(numbers, base)]
    if numbers:
        raise InputError("give numbers or --file, not both")
    try:
        handle = sys.stdin if file == "-" else open(file)
    except OSError as error:
        raise InputError(f"cannot read {file}: {error.strerror}") from error
    problems = []
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                problems.append(parse_problem(line, base))
            except InputError as error:
                raise InputError(f"{file}, line {number}: {error}") from error
    if not problems:
        raise InputError(f"{file} holds no problems")
    return problems


def run(args: argparse.Namespace) -> None:
    model, _, notes = model_to_use(args.ckpt)
    base = model.config.base
    chunk_size = chunk_size_for(model, args.chunk_size)
    problems = read_problems(args.numbers, args.file, base)
    say(*notes)
    for total in add_with_model(model, problems, base, model.config.fixed_num_digits, chunk_size):
        print(total)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("add", help="add numbers with a trained checkpoint", description=plain_text(__doc__))
    add_checkpoint_arguments(parser)
    parser.add_argument("--file", help="one problem per line, 'A+B' or 'A B' ('-' reads standard input)")
    parser.add_argument("numbers", nargs="*", help="A B, or 'A+B'")
    parser.set_defaults(run=run)
