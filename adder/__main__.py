"""``python -m adder add --ckpt PATH A B``: add numbers with a trained model;
``python -m adder evaluate --ckpt PATH``: exact match by problem kind and length;
``python -m adder sweep configs/experiments/X.yaml``: a study as a grid of runs, with a report.

Reads operands as people write them (most significant digit first, digits 0-9a-z of the
checkpoint's base) and prints the model's sums, one per line. The sums come from the network,
not from Python arithmetic: a model that has not learnt to add prints wrong answers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

import torch

from adder.checkpoints import CheckpointError, load_adder
from adder.digits import EVAL_BLOCK, check_digit_budget, format_digits, make_problems, parse_number, stack_numbers
from adder.sweep import SweepError
from adder.sweep import add_parser as add_sweep_parser

DEFAULT_CHUNK_SIZE = 4096  # positions per recurrent chunk: bounds memory for very long numbers
BATCH_SIZE = 256


class InputError(ValueError):
    """A problem given on the command line or in a file cannot be read."""


def parse_problem(text: str, base: int) -> tuple[list[int], list[int]]:
    """Split 'A+B' or 'A B' into two LSB-first digit lists."""
    parts = text.split("+") if "+" in text else text.split()
    if len(parts) != 2:
        raise InputError(f"{text.strip()!r}: expected two numbers, 'A+B' or 'A B'")
    try:
        return parse_number(parts[0], base), parse_number(parts[1], base)
    except ValueError as error:
        raise InputError(str(error)) from error


def add_with_model(
    model: torch.nn.Module,
    problems: Sequence[tuple[list[int], list[int]]],
    base: int,
    num_digits: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[str]:
    """The model's sum for each (a, b) digit-list pair, written as numbers in ``base``.

    ``num_digits`` pads every problem to that many digits (required by the fixed-length MLP).
    Problems are batched by length so that short ones are not padded to the longest.
    """
    order = sorted(range(len(problems)), key=lambda i: max(len(problems[i][0]), len(problems[i][1])))
    sums: list[str] = [""] * len(problems)
    for start in range(0, len(order), BATCH_SIZE):
        rows = order[start : start + BATCH_SIZE]
        length = max(max(len(problems[i][0]), len(problems[i][1])) for i in rows)
        if num_digits is not None:
            if length > num_digits:
                raise InputError(f"this model adds numbers of at most {num_digits} digits, got {length}")
            length = num_digits
        a = stack_numbers([problems[i][0] for i in rows], length)
        b = stack_numbers([problems[i][1] for i in rows], length)
        a, b, _ = make_problems(a, b, base)  # one extra position for the final carry
        predicted = model.predict(a, b, chunk_size)
        for row, index in enumerate(rows):
            sums[index] = format_digits(predicted[row], base)
    return sums


def read_problems(args: argparse.Namespace, base: int) -> list[tuple[list[int], list[int]]]:
    if args.file is not None:
        if args.numbers:
            raise InputError("give numbers or --file, not both")
        try:
            handle = sys.stdin if args.file == "-" else open(args.file)
        except OSError as error:
            raise InputError(f"cannot read {args.file}: {error.strerror}") from error
        with handle:
            problems = []
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    problems.append(parse_problem(line, base))
                except InputError as error:
                    raise InputError(f"{args.file}, line {number}: {error}") from error
        if not problems:
            raise InputError(f"{args.file} holds no problems")
        return problems
    if len(args.numbers) == 1:
        return [parse_problem(args.numbers[0], base)]
    if len(args.numbers) != 2:
        raise InputError("give two numbers (A B or 'A+B'), or --file F")
    return [parse_problem(" ".join(args.numbers), base)]


def run_add(args: argparse.Namespace) -> None:
    model, hparams = load_adder(args.ckpt)
    base = int(hparams["base"])
    problems = read_problems(args, base)
    fixed = int(hparams["num_digits"]) if hparams["cell"] == "mlp" else None
    for total in add_with_model(model, problems, base, fixed, args.chunk_size):
        print(total)


def run_evaluate(args: argparse.Namespace) -> None:
    from adder.evaluate import as_records, evaluate_suite, format_table, peak_memory_mb

    model, hparams = load_adder(args.ckpt)
    base = int(hparams["base"])
    if hparams["cell"] == "mlp" and any(n != int(hparams["num_digits"]) for n in args.lengths):
        raise InputError(f"this MLP only adds {hparams['num_digits']}-digit numbers; pass --lengths {hparams['num_digits']}")
    for length in args.lengths:
        try:
            check_digit_budget("an evaluation block (problems x --lengths)", EVAL_BLOCK, length)
        except ValueError as error:
            raise InputError(str(error)) from None
    device = torch.device(args.device)
    model.to(device)
    results = []
    for length in args.lengths:
        for kind in args.kinds:
            result = evaluate_suite(model, base, kind, length, args.size, args.seed, args.chunk_size, device)
            results.append(result)
            if sys.stderr.isatty():  # progress for people; pipes and logs get only the report
                print(f"  {kind}/{length}: {100 * result.exact_match:.2f}%", file=sys.stderr)
    if args.json:
        import json

        report = {"checkpoint": str(args.ckpt), "base": base, "cell": hparams["cell"], "seed": args.seed,
                  "chunk_size": args.chunk_size, "peak_memory_mb": round(peak_memory_mb(), 1),
                  "results": as_records(results)}  # fmt: skip
        print(json.dumps(report, indent=2))
    else:
        print(format_table(results))
        print(f"peak memory: {peak_memory_mb():.0f} MiB")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


class OneLineParser(argparse.ArgumentParser):
    """Reports a bad command line as one ``error: ...`` line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m adder", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add numbers with a trained checkpoint")
    add.add_argument("--ckpt", required=True, help="checkpoint file (e.g. lightning_logs/version_0/checkpoints/last.ckpt)")
    add.add_argument("--file", help="one problem per line, 'A+B' or 'A B' ('-' reads standard input)")
    add.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="positions per recurrent chunk")
    add.add_argument("numbers", nargs="*", help="A B, or 'A+B'")
    add.set_defaults(run=run_add)

    from adder.evaluate import DEFAULT_CHUNK_SIZE as EVAL_CHUNK, DEFAULT_KINDS, DEFAULT_LENGTHS

    evaluate = commands.add_parser("evaluate", help="exact match by problem kind and length")
    evaluate.add_argument("--ckpt", required=True, help="checkpoint file")
    evaluate.add_argument("--lengths", type=positive_int, nargs="+", default=list(DEFAULT_LENGTHS),
                          help="operand lengths in digits (default: %(default)s)")  # fmt: skip
    evaluate.add_argument("--kinds", nargs="+", default=list(DEFAULT_KINDS), choices=DEFAULT_KINDS,
                          help="problem kinds (default: %(default)s)")  # fmt: skip
    evaluate.add_argument("--size", type=positive_int, default=2000, help="problems per suite (default: 2000)")
    evaluate.add_argument("--seed", type=int, default=0, help="suite seed; 0 matches `train.py test` (default: 0)")
    evaluate.add_argument("--chunk-size", type=positive_int, default=EVAL_CHUNK, help="positions per recurrent chunk")
    evaluate.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    evaluate.add_argument("--json", action="store_true", help="print a JSON report instead of a table")
    evaluate.set_defaults(run=run_evaluate)

    add_sweep_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "chunk_size", 1) < 1:
            raise InputError(f"--chunk-size must be a positive integer, got {args.chunk_size}")
        args.run(args)
    except (InputError, CheckpointError, SweepError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
