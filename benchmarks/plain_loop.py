"""The same model and data as ``train.py fit``'s default, trained by a bare PyTorch loop.

``python benchmarks/plain_loop.py STEPS WARMUP [DEVICE]`` prints one JSON line with the wall time of
steps ``WARMUP+1 .. WARMUP+STEPS``: the yardstick for Lightning's overhead. Batches are made on the
CPU and copied to DEVICE each step, as Lightning does; the clock waits for the device at both ends.
"""

from __future__ import annotations

import json
import sys
import time

import torch
from lightning.pytorch.cli import instantiate_class
from torch import nn

from adder.training.data import AdditionDataModule, BatchStream
from adder.training.module import DEFAULT_OPTIMIZER, AdderModule
from adder.training.schedules import CosineDecay
from benchmarks.common import synchronize


def main(steps: int = 1000, warmup: int = 50, seed: int = 0, device: str = "cpu") -> dict[str, float]:
    torch.manual_seed(seed)
    data = AdditionDataModule()  # the default batches: size, mixture and stream of `adder fit`
    stream = BatchStream(data.sampler, data.batch_size, seed)
    model = AdderModule().model.to(device)  # the default backbone, without Lightning around it
    optimizer = instantiate_class(model.parameters(), DEFAULT_OPTIMIZER)
    schedule = CosineDecay(optimizer, warmup + steps)  # the default's schedule, stepped every step as fit does
    start = 0.0
    for step in range(warmup + steps):
        if step == warmup:
            synchronize(device)
            start = time.perf_counter()
        a, b, target = (t.to(device) for t in stream.batch(step))
        logits, _ = model(a, b)
        loss = nn.functional.cross_entropy(logits.reshape(-1, data.base), target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    synchronize(device)
    return {"steps": steps, "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    steps, warmup = (int(x) for x in sys.argv[1:3])
    print(json.dumps(main(steps, warmup, device=sys.argv[3] if len(sys.argv) > 3 else "cpu")))
