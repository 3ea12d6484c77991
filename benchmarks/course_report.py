"""A plain-PyTorch reproduction of the course report's pipeline, the baseline of the benchmarks.

Data: numbers drawn with ``np.random.randint`` in [0, 1e10), turned into strings, reversed into
digit lists and zero-padded to 11 positions, for both operands and the sum. Model: a shared digit
embedding of 32 per operand, a 2-layer RNN of 64, a linear layer to 10 classes. Adam 1e-3, batches
of 200, accuracy on 2000 fresh problems every 100 steps; it stops at the first 100%.

``python benchmarks/course_report.py [SEED [DEVICE]]`` prints one JSON line: steps and seconds to 100% (seconds
counted from ``BENCH_PROCESS_START`` when set, so that the interpreter's start-up counts).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def string_batch(batch_size: int, rng: np.random.Generator, start: int = 0, end: int = 10**10, length: int = 11):
    """Operands and sums as (batch, length) int64 tensors, LSB first, the string way."""
    a = rng.integers(start, end, size=batch_size)
    b = rng.integers(start, end, size=batch_size)

    def digits(numbers: np.ndarray) -> list[list[int]]:
        rows = []
        for number in numbers:
            row = [int(c) for c in reversed(str(int(number)))]
            rows.append(row + [0] * (length - len(row)))
        return rows

    return (torch.tensor(digits(a)), torch.tensor(digits(b)), torch.tensor(digits(a + b)))


class CourseReportRNN(nn.Module):
    def __init__(self, embedding: int = 32, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, embedding)
        self.rnn = nn.RNN(2 * embedding, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        features = torch.cat([self.embed(a), self.embed(b)], dim=-1)
        return self.head(self.rnn(features)[0])


def main(
    seed: int = 0, device: str = "cpu", max_steps: int = 20000, eval_every: int = 100
) -> dict[str, float | int | None]:
    process_start = float(os.environ.get("BENCH_PROCESS_START", time.time()))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = CourseReportRNN().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(1, max_steps + 1):
        a, b, target = (t.to(device) for t in string_batch(200, rng))
        loss = loss_fn(model(a, b).reshape(-1, 10), target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % eval_every == 0:
            with torch.no_grad():
                a, b, target = (t.to(device) for t in string_batch(2000, rng))
                accuracy = (model(a, b).argmax(-1) == target).all(-1).float().mean().item()
            if accuracy == 1.0:
                return {"steps": step, "first_perfect_seconds": time.time() - process_start}
    return {"steps": max_steps, "first_perfect_seconds": None}


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    print(json.dumps(main(seed, sys.argv[2] if len(sys.argv) > 2 else "cpu")))
