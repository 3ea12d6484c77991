"""The same model and data as ``train.py fit``'s default, trained by a bare PyTorch loop.

``python benchmarks/plain_loop.py STEPS WARMUP`` prints one JSON line with the wall time of steps
``WARMUP+1 .. WARMUP+STEPS``: the yardstick for Lightning's overhead.
"""

from __future__ import annotations

import json
import sys
import time

import torch
from torch import nn

from adder.data import AdditionDataModule, BatchStream
from adder.models import RecurrentAdder


def main(steps: int = 1000, warmup: int = 50, seed: int = 0) -> dict[str, float]:
    torch.manual_seed(seed)
    stream = BatchStream(AdditionDataModule().sampler, 200, seed)  # train.py's batches, default mixture
    model = RecurrentAdder("rnn", "embedding", input_size=64, hidden_size=64, num_layers=2, base=10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = 0.0
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        a, b, target = stream.batch(step)
        logits, _ = model(a, b)
        loss = nn.functional.cross_entropy(logits.reshape(-1, 10), target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"steps": steps, "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    print(json.dumps(main(*(int(x) for x in sys.argv[1:3]))))
