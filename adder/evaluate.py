"""``adder evaluate``: exact match and per-digit accuracy by problem kind and length.

The problems are the same as ``adder test`` draws for the same seed (:mod:`adder.suites`). Long
numbers are streamed: problems are drawn in blocks of EVAL_BLOCK, as many blocks run at once as
:mod:`adder.eval_plan` finds room for, and the recurrent model runs ``chunk_size`` positions at a
time with its hidden state carried over, so memory grows with blocks x chunk, not with the length.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from adder.add import add_checkpoint_arguments, checkpoint_to_use, chunk_size_for, positive_int
from adder.bounds import error_rate_upper_bound
from adder.checkpoints import load_adder
from adder.checks import check_digit_budget
from adder.digits import make_problems
from adder.errors import InputError
from adder.eval_plan import EvalPlan, plan_evaluation, single_threaded_ops
from adder.models import DEFAULT_CHUNK_SIZE
from adder.suites import EVAL_BLOCK, EVAL_KINDS, LENGTH_MULTIPLES, SUITE_SIZE, eval_blocks


@dataclass
class SuiteResult:
    kind: str
    num_digits: int
    problems: int
    exact_match: float
    digit_acc: float
    wrong_digits: int
    seconds: float
    problems_per_batch: int  # how it was computed (adder.eval_plan); the answers do not depend on it
    workers: int

    @property
    def digits(self) -> int:
        """Sum digits checked: every position of every problem, the final carry included."""
        return self.problems * (self.num_digits + 1)

    @property
    def digits_per_second(self) -> float:
        return self.digits / max(self.seconds, 1e-9)

    @property
    def digit_error_bound(self) -> float:
        """95% upper bound on the per-digit error rate (below about 3 / digits when none is wrong)."""
        return error_rate_upper_bound(self.wrong_digits, self.digits)


def evaluate_suite(
    model: nn.Module,
    base: int,
    kind: str,
    num_digits: int,
    size: int = SUITE_SIZE,
    seed: int = 0,
    chunk_size: int | None = DEFAULT_CHUNK_SIZE,
    device: torch.device | str = "cpu",
    plan: EvalPlan | None = None,
) -> SuiteResult:
    """Exact match and digit accuracy of ``model`` on one suite. ``plan`` (default: from free
    memory, see :mod:`adder.eval_plan`) sets how many problems run at once; answers do not depend on it."""
    device = torch.device(device)
    plan = plan or plan_evaluation(model, num_digits, size, chunk_size, device)
    start = time.perf_counter()

    @torch.no_grad()  # no_grad is per thread
    def score(a: Tensor, b: Tensor) -> tuple[int, int, int]:
        a, b, target = make_problems(a.to(device), b.to(device), base)
        correct = model.predict(a, b, chunk_size) == target
        return a.shape[0], int(correct.all(-1).sum()), int(correct.sum())

    counts = [0, 0, 0]  # problems, right sums, right digits
    batches = cut_into_batches(eval_blocks(kind, size, num_digits, base, seed), plan.problems_per_batch)
    if plan.workers == 1:
        scored: Iterator[tuple[int, int, int]] = (score(a, b) for a, b in batches)
    else:
        scored = scored_in_threads(score, batches, plan.workers)
    with single_threaded_ops(plan.workers > 1):
        for result in scored:
            counts = [total + part for total, part in zip(counts, result)]
    problems, right_sums, right_digits = counts
    seconds = time.perf_counter() - start
    digits = problems * (num_digits + 1)
    return SuiteResult(
        kind,
        num_digits,
        problems,
        right_sums / problems,
        right_digits / digits,
        digits - right_digits,
        seconds,
        plan.problems_per_batch,
        plan.workers,
    )


def cut_into_batches(blocks: Iterator[tuple[Tensor, Tensor]], problems: int) -> Iterator[tuple[Tensor, Tensor]]:
    """The blocks' problems, in order, cut into batches of ``problems`` (the last may be smaller)."""
    held_a: list[Tensor] = []
    held_b: list[Tensor] = []
    count = 0
    for a, b in blocks:
        held_a.append(a)
        held_b.append(b)
        count += a.shape[0]
        while count >= problems:
            all_a, all_b = torch.cat(held_a), torch.cat(held_b)
            yield all_a[:problems], all_b[:problems]
            held_a, held_b = [all_a[problems:]], [all_b[problems:]]
            count -= problems
    if count:
        yield torch.cat(held_a), torch.cat(held_b)


def scored_in_threads(
    score: Callable[[Tensor, Tensor], tuple[int, int, int]], batches: Iterator[tuple[Tensor, Tensor]], workers: int
) -> Iterator[tuple[int, int, int]]:
    """``score`` of every batch, ``workers`` batches at a time (torch ops release the GIL); at
    most ``workers`` batches are held at once, so memory stays what the plan allowed."""
    with ThreadPoolExecutor(workers) as pool:
        running: deque[Future[tuple[int, int, int]]] = deque()
        for a, b in batches:
            if len(running) == workers:
                yield running.popleft().result()
            running.append(pool.submit(score, a, b))
        while running:
            yield running.popleft().result()


def peak_memory_mb() -> float | None:
    """Peak resident memory of this process so far, in MiB; None where the OS does not say."""
    try:
        import resource  # POSIX only
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def format_table(results: list[SuiteResult]) -> str:
    """A plain-text table, one row per suite."""
    header = (
        f"{'kind':<8} {'digits':>8} {'problems':>9} {'exact_match':>12} {'digit_acc':>10} "
        f"{'wrong digits':>12} {'error <= (95%)':>14} {'digits/s':>11}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.kind:<8} {r.num_digits:>8} {r.problems:>9} {100 * r.exact_match:>11.2f}% "
            f"{100 * r.digit_acc:>9.3f}% {r.wrong_digits:>12} {r.digit_error_bound:>14.2g} {r.digits_per_second:>11.3g}"
        )
    return "\n".join(lines)


def as_records(results: list[SuiteResult]) -> list[dict[str, Any]]:
    return [
        asdict(r)
        | {"digits": r.digits, "digit_error_bound": r.digit_error_bound, "digits_per_second": r.digits_per_second}
        for r in results
    ]


def run(args: argparse.Namespace) -> None:
    ckpt = checkpoint_to_use(args.ckpt)
    model, hparams = load_adder(ckpt)
    base = int(hparams["base"])
    chunk_size = chunk_size_for(hparams, args.chunk_size)
    lengths = args.lengths or default_lengths(hparams)
    if hparams["cell"] == "mlp" and any(n != int(hparams["num_digits"]) for n in lengths):
        raise InputError(
            f"this MLP only adds {hparams['num_digits']}-digit numbers; pass --lengths {hparams['num_digits']}"
        )
    for length in lengths:
        try:
            check_digit_budget("an evaluation block (problems x --lengths)", EVAL_BLOCK, length)
        except ValueError as error:
            raise InputError(str(error)) from None
    device = torch.device(args.device)
    model.to(device)
    results = []
    for length in lengths:
        for kind in args.kinds:
            result = evaluate_suite(model, base, kind, length, args.size, args.seed, chunk_size, device)
            results.append(result)
            if sys.stderr.isatty():  # progress for people; pipes and logs get only the report
                print(f"  {kind}/{length}: {100 * result.exact_match:.2f}%", file=sys.stderr)
    peak = peak_memory_mb()
    if args.json:
        report = {
            "checkpoint": str(ckpt),
            "base": base,
            "cell": hparams["cell"],
            "seed": args.seed,
            "chunk_size": chunk_size,
            "peak_memory_mb": None if peak is None else round(peak, 1),
            "results": as_records(results),
        }
        print(json.dumps(report, indent=2))
    else:
        print(format_table(results))
        print("peak memory: " + ("not reported on this platform" if peak is None else f"{peak:.0f} MiB"))


def default_lengths(hparams: dict[str, Any]) -> list[int]:
    """The lengths ``adder test`` uses for this checkpoint: 1, 10 and 100 x its training length
    (the MLP adds only numbers of its own length)."""
    num_digits = int(hparams["num_digits"])
    if hparams["cell"] == "mlp":
        return [num_digits]
    return [num_digits * k for k in LENGTH_MULTIPLES]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "evaluate", help="exact match by problem kind and length", description=__doc__.split("\n\n")[0]
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
