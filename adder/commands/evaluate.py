"""``adder evaluate``: exact match and per-digit accuracy by problem kind and length.

The problems are the same as ``adder test`` draws for the same seed; long numbers are streamed in
blocks and chunks (:mod:`adder.evaluation.runner`), so memory does not grow with the length.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import torch

from adder.commands.arguments import (
    add_checkpoint_arguments,
    chunk_size_for,
    model_to_use,
    plain_text,
    positive_int,
    say,
)
from adder.errors import InputError
from adder.evaluation.runner import as_records, evaluate_suite, format_table, peak_memory_mb
from adder.problems.checks import check_digit_budget
from adder.problems.suites import EVAL_BLOCK, EVAL_KINDS, SUITE_SIZE, check_lengths, default_test_lengths


def run(args: argparse.Namespace) -> None:
    model, ckpt, notes = model_to_use(args.ckpt)
    config = model.config
    chunk_size = chunk_size_for(model, args.chunk_size)
    lengths = args.lengths or default_test_lengths(config.num_digits, config.fixed_num_digits)
    try:
        check_lengths("--lengths", lengths, config.fixed_num_digits)
        for length in lengths:
            check_digit_budget("an evaluation block (problems x --lengths)", EVAL_BLOCK, length)
    except ValueError as error:
        raise InputError(str(error)) from None
    say(*notes)
    device = torch.device(args.device)
    model.to(device)
    results = []
    for length in lengths:
        for kind in args.kinds:
            result = evaluate_suite(model, config.base, kind, length, args.size, args.seed, chunk_size, device)
            results.append(result)
            if sys.stderr.isatty():  # progress for people; pipes and logs get only the report
                print(f"  {kind}/{length}: {100 * result.exact_match:.2f}%", file=sys.stderr)
    peak = peak_memory_mb()
    if args.json:
        report = {
            "checkpoint": str(ckpt),
            "base": config.base,
            "cell": config.cell,
            "seed": args.seed,
            "chunk_size": chunk_size,
            "peak_memory_mb": None if peak is None else round(peak, 1),
            "results": as_records(results),
        }
        print(json.dumps(report, indent=2))
    else:
        print(format_table(results))
        print("peak memory: " + ("not reported on this platform" if peak is None else f"{peak:.0f} MiB"))


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "evaluate", help="exact match by problem kind and length", description=plain_text(__doc__.split("\n\n")[0])
    )
    add_checkpoint_arguments(parser)
    parser.add_argument(
        "--lengths",
        type=positive_int,
        nargs="+",
        default=None,
        help="operand lengths in digits (default: 1, 10 and 100 x the checkpoint's training length)",
    )
    parser.add_argument(
        "--kinds", nargs="+", default=list(EVAL_KINDS), choices=EVAL_KINDS, help="problem kinds (default: %(default)s)"
    )
    parser.add_argument(
        "--size", type=positive_int, default=SUITE_SIZE, help="problems per suite (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="suite seed; 0 matches `adder test` (default: 0)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of a table")
    parser.set_defaults(run=run)
