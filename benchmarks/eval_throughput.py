"""``python benchmarks/eval_throughput.py LENGTH SIZE [DEVICE] [--fixed]``: one JSON line with the
digits/s of the chunked evaluation of SIZE random LENGTH-digit sums by ``BENCHMARK_MODEL``, and the
process's peak memory (one process per length, so each peak is that length's own), and on a GPU the
device's peak allocation. The problems run as ``adder evaluate`` runs them (a plan from free
memory, :mod:`adder.evaluation.plan`, in chunks of 64 positions), or with ``--fixed`` as before the plan
existed: one block of 100 at a time (torch's own threads inside each op), in chunks of 1024."""

from __future__ import annotations

import argparse
import json

import torch

from adder.evaluation.plan import EvalPlan
from adder.evaluation.runner import evaluate_suite, peak_memory_mb
from adder.models import DEFAULT_CHUNK_SIZE, build_model
from benchmarks.common import BENCHMARK_MODEL

#: How every evaluation ran before adder.evaluation.plan: one block of 100 problems at a time, chunks of 1024.
FIXED_PLAN = EvalPlan(problems_per_batch=100, workers=1)
FIXED_CHUNK_SIZE = 1024


def main(length: int, size: int, device: str = "cpu", fixed: bool = False) -> dict[str, float]:
    torch.manual_seed(0)
    model = build_model(BENCHMARK_MODEL).eval().to(device)
    evaluate_suite(model, 10, "random", 100, size=10, seed=1, device=device)  # warm-up: first calls pay one-off setup
    plan, chunk_size = (FIXED_PLAN, FIXED_CHUNK_SIZE) if fixed else (None, DEFAULT_CHUNK_SIZE)
    result = evaluate_suite(model, 10, "random", length, size, 0, chunk_size, device, plan)
    record = {
        "problems_per_batch": result.problems_per_batch,
        "workers": result.workers,
        "length": length,
        "problems": result.problems,
        "seconds": result.seconds,
        "digits_per_second": result.digits_per_second,
        "peak_memory_mb": peak_memory_mb(),
    }
    if torch.device(device).type == "cuda":
        record["device_peak_memory_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return record


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("length", type=int)
    parser.add_argument("size", type=int)
    parser.add_argument("device", nargs="?", default="cpu")
    parser.add_argument("--fixed", action="store_true")
    args = parser.parse_args()
    print(json.dumps(main(args.length, args.size, args.device, args.fixed)))
