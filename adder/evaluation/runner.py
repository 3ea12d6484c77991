"""Running evaluation suites on a model: exact match, per-digit accuracy and error bounds.

The problems are the same as ``adder test`` draws for the same seed (:mod:`adder.problems.suites`). Long
numbers are streamed: problems are drawn in blocks of EVAL_BLOCK, as many blocks run at once as
:mod:`adder.evaluation.plan` finds room for, and the recurrent model runs ``chunk_size`` positions at a
time with its hidden state carried over, so memory grows with blocks x chunk, not with the length.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from adder.evaluation.bounds import error_rate_upper_bound
from adder.evaluation.plan import EvalPlan, plan_evaluation, single_threaded_ops
from adder.models import DEFAULT_CHUNK_SIZE
from adder.problems.digits import make_problems
from adder.problems.suites import SUITE_SIZE, eval_blocks


@dataclass
class SuiteResult:
    kind: str
    num_digits: int
    problems: int
    exact_match: float
    digit_acc: float
    wrong_digits: int
    seconds: float
    problems_per_batch: int  # how it was computed (adder.evaluation.plan); the answers do not depend on it
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
    memory, see :mod:`adder.evaluation.plan`) sets how many problems run at once; answers do not depend on it."""
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


#: The table's columns: title and how a result's cell is written.
COLUMNS: tuple[tuple[str, Callable[[SuiteResult], str]], ...] = (
    ("kind", lambda r: r.kind),
    ("digits", lambda r: f"{r.num_digits}"),
    ("problems", lambda r: f"{r.problems}"),
    ("exact_match", lambda r: f"{100 * r.exact_match:.2f}%"),
    ("digit_acc", lambda r: f"{100 * r.digit_acc:.3f}%"),
    ("wrong digits", lambda r: f"{r.wrong_digits}"),
    ("error <= (95%)", lambda r: f"{r.digit_error_bound:.2g}"),
    ("digits/s", lambda r: f"{r.digits_per_second:.3g}"),
)


def format_table(results: list[SuiteResult]) -> str:
    """A plain-text table, one row per suite, columns two spaces apart (text left, numbers right)."""
    cells = [[title for title, _ in COLUMNS]] + [[cell(r) for _, cell in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    header = line(cells[0])
    return "\n".join([header, "-" * len(header), *(line(row) for row in cells[1:])])


def as_records(results: list[SuiteResult]) -> list[dict[str, Any]]:
    return [
        asdict(r)
        | {"digits": r.digits, "digit_error_bound": r.digit_error_bound, "digits_per_second": r.digits_per_second}
        for r in results
    ]
