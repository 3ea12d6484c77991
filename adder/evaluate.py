"""Length-generalisation suites: exact match and per-digit accuracy by problem kind and length.

``python -m adder evaluate --ckpt PATH`` runs them on a checkpoint; the problems are the same as
``python train.py test`` draws for the same seed. Long numbers are streamed: problems come in
blocks of EVAL_BLOCK and the recurrent model runs ``chunk_size`` positions at a time with its
hidden state carried over, so memory grows with block x chunk, not with the length.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from adder.digits import eval_blocks, make_problems

DEFAULT_LENGTHS = (10, 100, 1000)
DEFAULT_KINDS = ("random", "carry", "mixed", "edge")
DEFAULT_CHUNK_SIZE = 1024


@dataclass
class SuiteResult:
    kind: str
    num_digits: int
    problems: int
    exact_match: float
    digit_acc: float
    seconds: float

    @property
    def digits_per_second(self) -> float:
        return self.problems * (self.num_digits + 1) / max(self.seconds, 1e-9)


@torch.no_grad()
def evaluate_suite(
    model: nn.Module,
    base: int,
    kind: str,
    num_digits: int,
    size: int = 2000,
    seed: int = 0,
    chunk_size: int | None = DEFAULT_CHUNK_SIZE,
    device: torch.device | str = "cpu",
) -> SuiteResult:
    """Exact match and digit accuracy of ``model`` on one suite."""
    start = time.perf_counter()
    problems = right_sums = right_digits = 0
    for a, b in eval_blocks(kind, size, num_digits, base, seed):
        a, b, target = (t.to(device) for t in make_problems(a, b, base))
        correct = model.predict(a, b, chunk_size) == target
        problems += a.shape[0]
        right_sums += int(correct.all(-1).sum())
        right_digits += int(correct.sum())
    seconds = time.perf_counter() - start
    return SuiteResult(
        kind, num_digits, problems, right_sums / problems, right_digits / (problems * (num_digits + 1)), seconds
    )


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def format_table(results: list[SuiteResult]) -> str:
    """A plain-text table, one row per suite."""
    header = f"{'kind':<8} {'digits':>8} {'problems':>9} {'exact_match':>12} {'digit_acc':>10} {'digits/s':>11}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.kind:<8} {r.num_digits:>8} {r.problems:>9} {100 * r.exact_match:>11.2f}% "
            f"{100 * r.digit_acc:>9.3f}% {r.digits_per_second:>11.3g}"
        )
    return "\n".join(lines)


def as_records(results: list[SuiteResult]) -> list[dict]:
    return [asdict(r) | {"digits_per_second": r.digits_per_second} for r in results]
