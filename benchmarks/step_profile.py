"""Where a training step's time goes, in ``train.py fit`` and in the plain loop.

``python benchmarks/step_profile.py STEPS WARMUP [DEVICE]`` prints one JSON line: milliseconds per
step by part (data, forward and loss, backward, optimizer, hooks and callbacks, the rest of the
loop) for both. Lightning's side is read from its own SimpleProfiler (``--trainer.profiler
simple``), which times every hook; the plain loop is timed around the same parts. Both with the
default model and batches, replay, initial-state noise and validation off; the profiler's own clock reads are part of
Lightning's figures.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import torch
from lightning.pytorch.cli import instantiate_class
from torch import nn

from adder.training.cli import main as fit
from adder.training.data import AdditionDataModule, BatchStream
from adder.training.module import DEFAULT_OPTIMIZER, AdderModule
from adder.training.schedules import CosineDecay
from benchmarks.common import PLAIN_LOOP_FLAGS, synchronize

INSIDE_OPTIMIZER_STEP = (
    ".on_before_backward",
    ".on_after_backward",
    ".on_before_optimizer_step",
    ".on_before_zero_grad",
    ".optimizer_zero_grad",
    ".configure_gradient_clipping",
)


def lightning_parts(steps: int, warmup: int, device: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as root:
        args = ["fit", "--trainer.default_root_dir", root, "--trainer.max_steps", str(warmup + steps)]
        args += ["--trainer.accelerator", device, *PLAIN_LOOP_FLAGS, "--trainer.profiler", "simple"]
        args += ["--trainer.limit_val_batches", "0", "--trainer.num_sanity_val_steps", "0"]
        cli = fit(args)
    durations = cli.trainer.profiler.recorded_durations  # type: ignore[attr-defined]

    def per_step(name: str) -> float:
        values = durations.get(name, [])
        return 1000 * sum(values[warmup:]) / steps if len(values) > warmup else 0.0

    strategy = type(cli.trainer.strategy).__name__
    step_hook = f"[LightningModule]{type(cli.model).__name__}.optimizer_step"
    data = per_step("[_TrainingEpochLoop].train_dataloader_next") + per_step(f"[Strategy]{strategy}.batch_to_device")
    forward = per_step(f"[Strategy]{strategy}.training_step")
    backward = per_step(f"[Strategy]{strategy}.backward")
    hook_names = [
        name
        for name, values in durations.items()
        if name.startswith(("[Callback]", "[LightningModule]")) and name != step_hook and len(values) > warmup
    ]
    hooks = sum(per_step(name) for name in hook_names)
    # Hooks Lightning calls inside optimizer_step (its closure runs forward and backward there too).
    inside = sum(per_step(name) for name in hook_names if name.endswith(INSIDE_OPTIMIZER_STEP))
    optimizer = per_step(step_hook) - forward - backward - inside
    total = 1000 * durations["run_training_epoch"][0] / (warmup + steps)  # the whole loop, per step
    return {
        "data": data,
        "forward and loss": forward,
        "backward": backward,
        "optimizer step": optimizer,
        "hooks and callbacks": hooks,
        "rest of the loop": total - data - forward - backward - optimizer - hooks,
        "total": total,
    }


def plain_parts(steps: int, warmup: int, device: str) -> dict[str, float]:
    torch.manual_seed(0)
    data = AdditionDataModule()
    stream = BatchStream(data.sampler, data.batch_size, 0)
    model = AdderModule().model.to(device)
    optimizer = instantiate_class(model.parameters(), DEFAULT_OPTIMIZER)
    schedule = CosineDecay(optimizer, warmup + steps)
    parts = dict.fromkeys(("data", "forward and loss", "backward", "optimizer step"), 0.0)
    clock = time.perf_counter
    for step in range(warmup + steps):
        synchronize(device)
        t0 = clock()
        a, b, target = (t.to(device) for t in stream.batch(step))
        synchronize(device)
        t1 = clock()
        logits, _ = model(a, b)
        loss = nn.functional.cross_entropy(logits.reshape(-1, data.base), target.reshape(-1))
        synchronize(device)
        t2 = clock()
        optimizer.zero_grad()
        loss.backward()
        synchronize(device)
        t3 = clock()
        optimizer.step()
        schedule.step()
        synchronize(device)
        t4 = clock()
        if step >= warmup:
            for name, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                parts[name] += 1000 * seconds / steps
    parts["total"] = sum(parts.values())
    return parts


if __name__ == "__main__":
    steps, warmup = (int(x) for x in sys.argv[1:3])
    device = sys.argv[3] if len(sys.argv) > 3 else "cpu"
    print(
        json.dumps({"lightning": lightning_parts(steps, warmup, device), "plain": plain_parts(steps, warmup, device)})
    )
