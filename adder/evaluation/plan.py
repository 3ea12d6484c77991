"""How an evaluation runs its problems: how many at once, and in how many threads, from free memory.

A suite's problems are drawn in blocks of EVAL_BLOCK (that fixes which problems it holds); how
they are computed is a separate choice that must not change any answer. On a GPU a wider batch
keeps the device busy, so a batch takes as many blocks as half the free device memory holds. On
a CPU a wider batch is slower per digit (its working set leaves the caches), while one recurrent
step of one block is too small to spread over several cores; so the CPU runs one block per
thread, in as many threads as torch may use, each op on one core, as far as a quarter of the
available memory holds them (a suite of fewer blocks than threads is cut into smaller batches).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from adder.problems.checks import MAX_BASE
from adder.problems.suites import EVAL_BLOCK

#: Bytes per digit position of a problem held for evaluation: operands, target and prediction
#: (int64) and the exact adder's intermediates; an estimate with room to spare.
DIGIT_BYTES = 80
#: Share of the free memory an evaluation may plan to use.
GPU_SHARE, CPU_SHARE = 0.5, 0.25
#: Memory assumed free where the OS does not say.
UNKNOWN_FREE_BYTES = 2**30
_GATES = {"rnn": 1, "gru": 3, "lstm": 4}


@dataclass(frozen=True)
class EvalPlan:
    problems_per_batch: int  # GPU: a multiple of EVAL_BLOCK; CPU: at most EVAL_BLOCK
    workers: int  # batches computed at once, one thread each


def available_bytes(device: torch.device) -> int:
    """Free memory on ``device``: the CUDA allocator's view, or the OS's MemAvailable."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return UNKNOWN_FREE_BYTES


def bytes_per_problem(model: nn.Module, num_digits: int, chunk_size: int | None) -> int:
    """Estimated memory of one problem of ``num_digits`` during evaluation: its digits, and the
    activations of one chunk of positions (float32, twice over for the temporaries)."""
    positions = num_digits + 1
    chunk = positions if chunk_size is None else min(chunk_size, positions)
    base = int(getattr(model, "base", MAX_BASE))  # a model that does not say: the widest output
    floats_per_position = 2 * base  # the logits, and room for the argmax
    rnn = getattr(model, "rnn", None)
    if isinstance(rnn, nn.RNNBase):
        gates = _GATES.get(getattr(model, "cell", "lstm"), 4)
        floats_per_position += rnn.input_size + rnn.num_layers * rnn.hidden_size * (gates + 1)
    else:  # the MLP sees every position at once: its layer outputs, spread over the positions
        widths = sum(layer.out_features for layer in model.modules() if isinstance(layer, nn.Linear))
        floats_per_position += -(-widths // positions)
    return positions * DIGIT_BYTES + chunk * floats_per_position * 4 * 2


def plan_evaluation(
    model: nn.Module,
    num_digits: int,
    size: int,
    chunk_size: int | None,
    device: torch.device | str,
    free_bytes: int | None = None,
) -> EvalPlan:
    """Problems per batch and worker threads for a suite of ``size`` problems of ``num_digits``."""
    device = torch.device(device)
    free = available_bytes(device) if free_bytes is None else free_bytes
    per_problem = bytes_per_problem(model, num_digits, chunk_size)
    blocks = max(1, -(-size // EVAL_BLOCK))
    if device.type == "cuda":
        budget = int(free * GPU_SHARE)
        fit = max(1, budget // (per_problem * EVAL_BLOCK))
        return EvalPlan(EVAL_BLOCK * min(fit, blocks), 1)
    budget = int(free * CPU_SHARE)
    threads = torch.get_num_threads()
    # A suite of fewer blocks than threads is cut finer, so that every thread gets a share.
    per_batch = max(1, min(EVAL_BLOCK, -(-size // threads)))
    fit = max(1, budget // (per_problem * per_batch))
    return EvalPlan(per_batch, max(1, min(threads, -(-size // per_batch), fit)))


@contextmanager
def single_threaded_ops(active: bool) -> Iterator[None]:
    """Each torch op on one core while ``active`` (the workers are the parallelism), then back."""
    if not active:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
