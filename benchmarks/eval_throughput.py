"""``python benchmarks/eval_throughput.py LENGTH SIZE [DEVICE]``: one JSON line with the digits/s of
the chunked evaluation of SIZE random LENGTH-digit sums by the default model, and the process's
peak memory (one process per length, so each peak is that length's own), and on a GPU the device's
peak allocation."""

from __future__ import annotations

import json
import sys

import torch

from adder.evaluate import evaluate_suite, peak_memory_mb
from adder.models import RecurrentAdder


def main(length: int, size: int, device: str = "cpu") -> dict[str, float]:
    torch.manual_seed(0)
    model = RecurrentAdder("rnn", "embedding", input_size=64, hidden_size=64, num_layers=2, base=10).eval().to(device)
    evaluate_suite(model, 10, "random", 100, size=10, seed=1, device=device)  # warm-up: first calls pay one-off setup
    result = evaluate_suite(model, 10, "random", length, size=size, seed=0, device=device)
    record = {
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
    device = sys.argv[3] if len(sys.argv) > 3 else "cpu"
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]), device)))
