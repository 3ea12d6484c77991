"""Run the benchmarks; write their results where asked, and docs/performance.md only when asked.

    python benchmarks/run.py                 # 5 paired repeats of each, into ./benchmark-results/
    python benchmarks/run.py --repeats 1 --only generation eval --out /tmp/bench
    python benchmarks/run.py --only threads --update-docs   # also benchmarks/results/ and docs/performance.md
    python benchmarks/run.py --device cuda   # the same on a GPU, plus the host-sync count

Each figure is the median of the repeats with the min-max range. "Paired" means the two sides
of a comparison run back to back within a repeat, alternating which goes first, so that a slow
spell of the machine hits both.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python benchmarks/run.py` from anywhere
from benchmarks.common import BENCHMARK_MODEL, PLAIN_LOOP_FLAGS, REPO, describe_model, machine, run_python, summary

Section = Callable[[int, str], list[str]]  # (repeats, device) -> markdown lines
SECTIONS: dict[str, Section] = {}
GPU_ONLY = ("syncs",)


def section(name: str) -> Callable[[Section], Section]:
    def register(function: Section) -> Section:
        SECTIONS[name] = function
        return function

    return register


def default_model() -> str:
    """The default backbone in words, read from AdderModule's own defaults."""
    from adder.training.module import AdderModule

    return describe_model(AdderModule().config)


def default_batch() -> int:
    """Problems per training batch by default, read from AdditionDataModule."""
    from adder.training.data import AdditionDataModule

    return AdditionDataModule().batch_size


def fit_with_clock(device: str, *args: str, callback: str = "benchmarks.clock.StepClock") -> tuple[dict, float]:
    """``python train.py fit ARGS`` on DEVICE with a recording callback; its record and the whole process's seconds."""
    with tempfile.TemporaryDirectory() as root:
        record = str(Path(root) / "record.json")
        start = time.time()
        run_python(
            [
                "train.py",
                "fit",
                "--trainer.default_root_dir",
                root,
                "--trainer.accelerator",
                device,
                f"--trainer.callbacks+={callback}",
                "--trainer.callbacks.path",
                record,
                *args,
            ],
            env={"BENCH_PROCESS_START": repr(start)},
        )
        seconds = time.time() - start
        return json.loads(Path(record).read_text()), seconds


@section("throughput")
def training_throughput(repeats: int, device: str, steps: int = 1000, warmup: int = 50) -> list[str]:
    lightning, lightning_all, plain, ratios = [], [], [], []
    for repeat in range(repeats):
        order = ["lightning", "plain"] if repeat % 2 == 0 else ["plain", "lightning"]
        for side in order:
            if side == "lightning":
                # Replay off: the plain loop has none, and it would make Lightning's steps 20% bigger.
                record, _ = fit_with_clock(
                    device,
                    "--trainer.max_steps",
                    str(warmup + steps),
                    "--early_stopping.target",
                    "null",
                    *PLAIN_LOOP_FLAGS,
                )
                lightning.append(record["steps"] / (record["seconds"] - record["validation_seconds"]))
                lightning_all.append(record["steps"] / record["seconds"])
            else:
                record = json.loads(run_python(["benchmarks/plain_loop.py", str(steps), str(warmup), device]).stdout)
                plain.append(record["steps"] / record["seconds"])
        ratios.append(lightning[-1] / plain[-1])
    return [
        "## 1. Training steps/s: `train.py fit` against a plain PyTorch loop",
        "",
        f"Default config with replay and initial-state noise off (progress bar and TensorBoard on, validation every 250 steps), steps {warmup + 1}-{warmup + steps} "
        f"of a run, against a bare loop over the same model, {default_model()}, the same batches ({default_batch()} "
        "problems of the default 1-10 digit mixture), Adam and its cosine decay stepped every step. Target: Lightning/plain >= 0.95 (training steps; "
        "each validation, until the next training step (so with the checkpoints it writes), is taken out of the Lightning figure and shown separately).",
        "",
        "| measure | steps/s, median (min-max) |",
        "| --- | --- |",
        f"| `train.py fit`, training steps only | {summary(lightning)} |",
        f"| `train.py fit`, validation time included | {summary(lightning_all)} |",
        f"| plain PyTorch loop | {summary(plain)} |",
        f"| **ratio Lightning / plain** (per pair) | **{summary(ratios, 3)}** |",
        "",
    ]


@section("generation")
def batch_generation(repeats: int, device: str, batches: int = 200) -> list[str]:
    import numpy as np

    from adder.problems.samplers import ProblemSampler, make_generator
    from adder.training.data import AdditionDataModule, BatchStream
    from benchmarks.course_report import string_batch
    from benchmarks.plain_loop import main as plain_loop

    data = AdditionDataModule()  # the default mixture and batch size, as `adder fit` draws them
    default, size = data.sampler, data.batch_size
    uniform = ProblemSampler(num_digits=10, min_digits=None, weights={"range": 1.0}, range_end=10**10)

    def per_batch_ms(make: Callable[[int], object]) -> float:
        start = time.perf_counter()
        for k in range(batches):
            make(k)
        return 1000 * (time.perf_counter() - start) / batches

    ours, ours_uniform, single, strings, steps, ratios = [], [], [], [], [], []
    for repeat in range(repeats):
        rng = np.random.default_rng(repeat)
        report = per_batch_ms(lambda k, rng=rng: string_batch(size, rng))
        stream, uniform_stream = BatchStream(default, size, repeat), BatchStream(uniform, size, repeat)
        mixture = per_batch_ms(stream.batch)  # as train.py draws them: one sampler call per block
        ours_uniform.append(per_batch_ms(uniform_stream.batch))
        single.append(per_batch_ms(lambda k, repeat=repeat: default.sample(size, make_generator(repeat, 0, 0, k))))
        strings.append(report)
        ours.append(mixture)
        ratios.append(report / mixture)
        record = plain_loop(steps=100, warmup=10, device=device)
        steps.append(1000 * record["seconds"] / record["steps"])
    share = [100 * o / s for o, s in zip(ours, steps)]
    return [
        "## 2. Batch generation: vectorised sampler against the course report's string generator",
        "",
        f"Time to make one batch of {size} problems (mean over {batches} batches), in this process. The report's "
        "way: `randint` numbers, `str`, reversed digit lists, padding, `torch.tensor`. Ours: the training "
        "stream (`BatchStream`, which draws 16 batches per sampler call) of the default mixture and of the "
        "uniform 10-digit sampler (the report's distribution), and for reference one sampler call per batch. "
        "Targets: >= 20x faster, and under 5% of a training step (the plain loop's step, data included).",
        "",
        "| measure | median (min-max) |",
        "| --- | --- |",
        f"| course report's generator, ms/batch | {summary(strings, 3)} |",
        f"| ours, default mixture, ms/batch | {summary(ours, 3)} |",
        f"| ours, uniform 10-digit (`range`), ms/batch | {summary(ours_uniform, 3)} |",
        f"| ours, default mixture, one sampler call per batch, ms/batch | {summary(single, 3)} |",
        f"| **speed-up, default mixture** | **{summary(ratios, 1)}x** |",
        f"| training step (plain loop), ms | {summary(steps, 2)} |",
        f"| **batch generation / step** | **{summary(share, 2)}%** |",
        "",
    ]


@section("solution")
def time_to_solution(repeats: int, device: str) -> list[str]:
    seconds: dict[str, list[float]] = {"default": [], "constant_lr": []}
    steps: dict[str, list[float]] = {"default": [], "constant_lr": []}
    solved: dict[str, int] = {"default": 0, "constant_lr": 0}
    ratios: list[float] = []
    for repeat in range(repeats):
        order = ["default", "constant_lr"] if repeat % 2 == 0 else ["constant_lr", "default"]
        for side in order:
            config = [] if side == "default" else ["--config", "constant_lr"]
            run_seconds, run_steps, right = fit_and_check(device, repeat, config)
            seconds[side].append(run_seconds)
            steps[side].append(run_steps)
            solved[side] += right
        ratios.append(seconds["default"][-1] / seconds["constant_lr"][-1])
    return [
        "## 3. Time to a solution: the default `train.py fit` against the previous recipe",
        "",
        "Whole processes, interpreter start-up included, paired and alternated, seed k in repeat k: "
        f"`python train.py fit` (the default: {default_model()}, batches of {default_batch()}, Adam 3e-3 decayed "
        "to 0 over 1250 steps) against `python train.py fit --config constant_lr` (the default until 2026-11-23: "
        "two layers, batches of 200, Adam 1e-3, stop at the first perfect validation after 3000 steps, at most "
        "5000). After each run, and not timed, `python -m adder "
        "evaluate --lengths 1000 --kinds random carry edge` on its last checkpoint: a run is a solution when "
        "every one of the 2000 random, 2000 full-ripple and 8 edge 1000-digit sums is right. Target: default / "
        "previous <= 0.5, every run a solution.",
        "",
        "| measure | default | `--config constant_lr` |",
        "| --- | --- | --- |",
        f"| whole `train.py fit` process, seconds | {summary(seconds['default'])} | {summary(seconds['constant_lr'])} |",
        f"| steps trained | {summary(steps['default'], 0)} | {summary(steps['constant_lr'], 0)} |",
        f"| runs right on every 1000-digit suite | {solved['default']} of {repeats} | "
        f"{solved['constant_lr']} of {repeats} |",
        f"| **ratio default / previous** (per pair) | **{summary(ratios, 3)}** | |",
        "",
    ]


def fit_and_check(device: str, seed: int, config: list[str]) -> tuple[float, int, bool]:
    """Seconds and steps of one whole ``train.py fit`` process, and whether its last checkpoint gets
    every random, full-ripple and edge 1000-digit sum right (``adder evaluate``, not timed)."""
    with tempfile.TemporaryDirectory() as root:
        start = time.time()
        run_python(
            [
                "train.py",
                "fit",
                *config,
                "--seed_everything",
                str(seed),
                "--trainer.default_root_dir",
                root,
                "--trainer.accelerator",
                device,
            ]
        )
        seconds = time.time() - start
        (checkpoint,) = Path(root).glob("lightning_logs/version_*/checkpoints/last.ckpt")
        evaluate = ["-m", "adder", "evaluate", "--ckpt", str(checkpoint), "--json", "--lengths", "1000"]
        evaluate += ["--kinds", "random", "carry", "edge", "--device", "cuda" if device == "cuda" else "cpu"]
        report = json.loads(run_python(evaluate).stdout)
        import torch  # here only: the other sections time processes without it loaded in this one

        step = int(torch.load(checkpoint, map_location="cpu", weights_only=True)["global_step"])
        return seconds, step, all(r["exact_match"] == 1.0 for r in report["results"])


@section("eval")
def evaluation_throughput(
    repeats: int, device: str, lengths: tuple[int, ...] = (1000, 10000, 100000), digits: int = 10**7
) -> list[str]:
    rates: dict[int, list[float]] = {n: [] for n in lengths}
    memory: dict[int, list[float]] = {n: [] for n in lengths}
    device_memory: dict[int, list[float]] = {n: [] for n in lengths}
    for _ in range(repeats):
        for n in lengths:
            size = digits // n  # the same 10M digits at every length, in blocks of 100 problems
            record = json.loads(run_python(["benchmarks/eval_throughput.py", str(n), str(size), device]).stdout)
            rates[n].append(record["digits_per_second"] / 1e6)
            memory[n].append(record["peak_memory_mb"])
            device_memory[n].append(record.get("device_peak_memory_mb", 0.0))
    medians = {n: sorted(v)[len(v) // 2] for n, v in rates.items()}
    spread = 100 * (max(medians.values()) / min(medians.values()) - 1)
    lines = [
        "## 4. Evaluation throughput against length",
        "",
        f"`evaluate_suite` (what `python -m adder evaluate` runs) on {digits:,} digits of random sums per length "
        f"(10,000 problems of 1,000 digits, 1,000 of 10,000, 100 of 100,000) with {describe_model(BENCHMARK_MODEL)}, run as "
        "`python -m adder evaluate` plans it from free memory (`adder.evaluation.plan`; on a CPU one batch of up to 100 "
        "problems per torch thread), chunks of 64 positions carrying the hidden state; one process per measurement "
        "after a short warm-up, so the peak memory is that length's own. Target: digits/s within 20% across "
        "lengths (linear cost).",
        "",
    ]
    if device == "cpu":
        lines += ["| digits per operand | million digits/s | peak memory (MiB) |", "| --- | --- | --- |"]
        lines += [f"| {n:,} | {summary(rates[n], 2)} | {summary(memory[n], 0)} |" for n in lengths]
    else:
        lines += [
            "| digits per operand | million digits/s | peak host memory (MiB) | peak GPU allocation (MiB) |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {n:,} | {summary(rates[n], 2)} | {summary(memory[n], 0)} | {summary(device_memory[n], 0)} |"
            for n in lengths
        ]
    lines += ["", f"Largest median / smallest median: +{spread:.1f}%.", ""]
    return lines


@section("evalplan")
def evaluation_plan(repeats: int, device: str, length: int = 100_000, size: int = 2000) -> list[str]:
    rates: dict[str, list[float]] = {"fixed": [], "plan": []}
    memory: dict[str, list[float]] = {"fixed": [], "plan": []}
    device_memory: dict[str, list[float]] = {"fixed": [], "plan": []}
    ratios: list[float] = []
    shape = ""
    for repeat in range(repeats):
        order = ["fixed", "plan"] if repeat % 2 == 0 else ["plan", "fixed"]
        pair = {}
        for side in order:
            flags = ["--fixed"] if side == "fixed" else []
            command = ["benchmarks/eval_throughput.py", str(length), str(size), device, *flags]
            record = json.loads(run_python(command).stdout)
            pair[side] = record["digits_per_second"] / 1e6
            rates[side].append(pair[side])
            memory[side].append(record["peak_memory_mb"])
            device_memory[side].append(record.get("device_peak_memory_mb", 0.0))
            if side == "plan":
                shape = f"{record['problems_per_batch']} problems per batch, {record['workers']} worker thread(s)"
        ratios.append(pair["plan"] / pair["fixed"])
    gpu = device != "cpu"
    target = "10x" if gpu else "1.5x"
    lines = [
        "## 7. Evaluation: problems per batch from free memory",
        "",
        f"`evaluate_suite` on {size:,} random sums of {length:,} digits with {describe_model(BENCHMARK_MODEL)} (untrained: the "
        "time does not depend on the weights), one process per measurement, paired and alternated: one block of "
        "100 problems at a time with torch's own threads inside each op, in chunks of 1024 positions (as before) "
        "against the plan `adder evaluate` now makes from free memory (`adder.evaluation.plan`; here: "
        f"{shape}), in chunks of 64. Target: at least {target} the digits/s, memory bounded.",
        "",
        "| measure | fixed blocks of 100 | plan from free memory |",
        "| --- | --- | --- |",
        f"| million digits/s | {summary(rates['fixed'], 2)} | {summary(rates['plan'], 2)} |",
        f"| peak host memory (MiB) | {summary(memory['fixed'], 0)} | {summary(memory['plan'], 0)} |",
    ]
    if gpu:
        lines.append(
            f"| peak GPU allocation (MiB) | {summary(device_memory['fixed'], 0)} | {summary(device_memory['plan'], 0)} |"
        )
    lines += [f"| **speed-up** (per pair) | | **{summary(ratios, 2)}x** |", ""]
    return lines


@section("profile")
def step_profile(repeats: int, device: str, steps: int = 1000, warmup: int = 50) -> list[str]:
    parts: dict[str, dict[str, list[float]]] = {"lightning": {}, "plain": {}}
    for _ in range(repeats):
        output = run_python(["benchmarks/step_profile.py", str(steps), str(warmup), device]).stdout
        record = json.loads(output.strip().splitlines()[-1])  # after the fit's own printing
        for side, values in record.items():
            for name, value in values.items():
                parts[side].setdefault(name, []).append(value)
    names = list(parts["lightning"])
    lines = [
        "## 8. Where a training step's time goes",
        "",
        f"`benchmarks/step_profile.py`: steps {warmup + 1}-{warmup + steps} of `train.py fit` (default model and "
        "batches, replay, initial-state noise and validation off) timed part by part by Lightning's own `SimpleProfiler` "
        "(`--trainer.profiler simple`, whose clock reads are in its figures), and the plain loop timed around the "
        "same parts; milliseconds per step. `hooks and callbacks` sums every LightningModule and callback hook "
        "the profiler timed (the progress bar, logging, checkpointing, the learning-rate scheduler's step, the "
        "project's callbacks); Lightning's `optimizer step` holds the plumbing of its closure around forward "
        "and backward, the plain loop's the scheduler's step; `rest of the loop` is Lightning's loop around "
        "all of them.",
        "",
        "| part | `train.py fit`, ms/step | plain loop, ms/step |",
        "| --- | --- | --- |",
    ]
    for name in names:
        plain = summary(parts["plain"][name], 3) if name in parts["plain"] else "-"
        lines.append(f"| {name} | {summary(parts['lightning'][name], 3)} | {plain} |")
    lines.append("")
    return lines


@section("syncs")
def host_syncs(repeats: int, device: str, steps: int = 500, warmup: int = 50) -> list[str]:
    per_step: list[float] = []
    sources: dict[str, int] = {}
    for _ in range(repeats):
        record, _ = fit_with_clock(
            device,
            "--trainer.max_steps",
            str(warmup + steps),
            "--early_stopping.target",
            "null",
            callback="benchmarks.host_syncs.HostSyncCounter",
        )
        per_step.append(record["syncs_per_step"])
        for where, count in record["where"]:
            sources[where] = sources.get(where, 0) + count
    lines = [
        "## 5. Host synchronisations per training step",
        "",
        f'`train.py fit` (default config) with `torch.cuda.set_sync_debug_mode("warn")` on for steps {warmup + 1}-'
        f"{warmup + steps} (off during validation, which reads its results back): every call that makes the CPU "
        "wait for the GPU is counted (`benchmarks/host_syncs.py`). Target: none per step, so that the CPU queues "
        "the next step while the GPU runs this one.",
        "",
        "| measure | median (min-max) |",
        "| --- | --- |",
        f"| synchronising calls per training step | {summary(per_step, 3)} |",
        "",
    ]
    if sources:
        lines += ["Where they came from (all repeats):", ""]
        lines += [f"- {count} x `{where}`" for where, count in sorted(sources.items(), key=lambda kv: -kv[1])]
        lines.append("")
    return lines


@section("startup")
def add_startup(repeats: int, device: str, runs: int = 10) -> list[str]:
    """Whole ``adder add`` processes against ``import torch`` alone, paired and alternated."""
    import torch

    from adder.models import build_model

    torch_import, add_process, differences = [], [], []
    with tempfile.TemporaryDirectory() as root:
        # The start-up does not depend on training: an untrained model, saved as fit saves it.
        model = build_model(BENCHMARK_MODEL)
        hparams = dataclasses.asdict(BENCHMARK_MODEL)
        checkpoint = Path(root) / "last.ckpt"
        state = {f"model.{k}": v for k, v in model.state_dict().items()}
        torch.save({"state_dict": state, "hyper_parameters": hparams}, checkpoint)
        sides = {
            "torch": ["-c", "import torch"],
            "add": ["-m", "adder", "add", "--ckpt", str(checkpoint), "123", "456"],
        }
        for run in range(repeats * runs):
            seconds = {}
            for side in ("torch", "add") if run % 2 == 0 else ("add", "torch"):
                start = time.perf_counter()
                run_python(sides[side])
                seconds[side] = time.perf_counter() - start
            torch_import.append(seconds["torch"])
            add_process.append(seconds["add"])
            differences.append(seconds["add"] - seconds["torch"])
    return [
        "## 6. Start-up of `adder add`",
        "",
        f'Whole processes, paired and alternated, {repeats * runs} pairs: `python -c "import torch"` against '
        f"`python -m adder add --ckpt CKPT 123 456` on {describe_model(BENCHMARK_MODEL)} (untrained: the time does not depend "
        "on the weights). Target: `adder add` within torch's import time + 0.5 s (it imports no Lightning).",
        "",
        "| measure | seconds, median (min-max) |",
        "| --- | --- |",
        f'| `python -c "import torch"` | {summary(torch_import, 2)} |',
        f"| `python -m adder add --ckpt CKPT 123 456` | {summary(add_process, 2)} |",
        f"| **difference per pair** | **{summary(differences, 2)}** |",
        "",
    ]


@contextmanager
def busy_cores(busy: bool) -> Iterator[None]:
    """While inside: one process per core spinning in Python (another job on the machine), if ``busy``."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range((os.cpu_count() or 1) if busy else 0)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def timed_fit(threads: int, steps: int) -> float:
    """Seconds of one whole ``adder fit`` process (the default config, ``steps`` steps) on ``threads`` torch threads."""
    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        command = ["-m", "adder", "fit", "--trainer.max_steps", str(steps), "--trainer.default_root_dir", root]
        run_python(command, env={"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)})
        return time.perf_counter() - start


@section("threads")
def training_threads(repeats: int, device: str, steps: int = 250, counts: tuple[int, ...] = (1, 2)) -> list[str]:
    from adder.training.threads import DEFAULT_TRAINING_THREADS

    seconds: dict[tuple[str, int], list[float]] = {(load, n): [] for load in ("alone", "busy") for n in counts}
    loads: list[float] = []  # the machine's own load before each measurement, other users' jobs included
    for repeat in range(repeats):
        for load in ("alone", "busy"):
            with busy_cores(load == "busy"):
                for n in counts if repeat % 2 == 0 else counts[::-1]:
                    loads.append(os.getloadavg()[0])
                    seconds[load, n].append(timed_fit(n, steps))
    best = {load: min(statistics.median(seconds[load, n]) for n in counts) for load in ("alone", "busy")}
    lines = [
        "## 9. Torch threads for `adder fit`, alone and beside a busy process",
        "",
        f"Whole `python -m adder fit --trainer.max_steps {steps}` processes (the default config, shortened from "
        f"1250 steps; one validation, at the end), with `OMP_NUM_THREADS` set to each count, alternating which goes "
        f"first: alone, and beside {os.cpu_count()} processes spinning in Python, one per core (another job on the "
        f"machine). Without `OMP_NUM_THREADS`, `adder fit` uses {DEFAULT_TRAINING_THREADS} "
        "(`adder.training.threads`). Target: the default within 20% of the best count in both conditions.",
        "",
        "| torch threads | alone, seconds | beside busy cores, seconds |",
        "| --- | --- | --- |",
    ]
    for n in counts:
        default = " (the default)" if n == DEFAULT_TRAINING_THREADS else ""
        lines.append(f"| {n}{default} | {summary(seconds['alone', n])} | {summary(seconds['busy', n])} |")
    lines.append(
        "| **default / best, median** | "
        + " | ".join(
            f"**{statistics.median(seconds[load, DEFAULT_TRAINING_THREADS]) / best[load]:.2f}**"
            for load in ("alone", "busy")
        )
        + " |"
    )
    lines += ["", f"1-minute load average before each measurement (this benchmark's own included): {summary(loads)}."]
    return [*lines, ""]


#: `adder verify`'s time limit in "Time to a proved adder" (the limit issue 45 sets for the default RNN).
VERIFY_SECONDS = 120
#: `adder fit` flags of the baseline the default's fit + verify is measured against: the default fit
#: when issue 47 set its target (2026-12-05), the default network with replay and initial-state noise
#: alone, before the default recipe took the objectives that make it provable.
BASELINE_OBJECTIVES = [
    {"class_path": "adder.training.objectives.ReplayHardest", "init_args": {"share": 0.2}},
    {"class_path": "adder.training.objectives.InitialStateNoise", "init_args": {"std": 0.3}},
]
#: `adder fit`'s own verify off: the fits are timed alone, and `adder verify` follows as its own process.
VERIFY_OFF = ["--verify_after_fit", "null"]
BASELINE_FIT: list[str] = ["--model.objectives", json.dumps(BASELINE_OBJECTIVES), *VERIFY_OFF]
#: The recipes timed to a verdict: their `adder fit` flags.
PROVED_RECIPES: dict[str, list[str]] = {"the default recipe": VERIFY_OFF}


def timed_verify(checkpoint: Path, time_limit: float) -> tuple[float, str]:
    """Seconds of one whole ``adder verify`` process and its verdict's first word (proved,
    counterexample, undecided); its exit status says the verdict, so a non-zero one is no failure."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "adder", "verify", "--ckpt", str(checkpoint), "--time-limit", str(time_limit)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=time_limit * 3 + 60,
    )
    seconds = time.perf_counter() - start
    line = (result.stdout.strip().splitlines() or [""])[-1]
    if result.returncode not in (0, 1, 3):
        raise RuntimeError(f"adder verify failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return seconds, line.split(":", 1)[0]


def timed_default_fit(seed: int, root: str, flags: list[str]) -> float:
    """Seconds of one whole ``adder fit`` process with ``flags`` and seed ``seed`` into ``root``."""
    start = time.perf_counter()
    run_python(["-m", "adder", "fit", *flags, "--seed_everything", str(seed), "--trainer.default_root_dir", root])
    return time.perf_counter() - start


def recorded_verdict(root: str) -> str:
    """The verdict ``adder fit`` recorded in its run under ``root`` (none: "no verdict")."""
    from adder.models.checkpoints import VERIFY_RECORD

    records = list(Path(root).glob(f"lightning_logs/version_*/{VERIFY_RECORD}"))
    return json.loads(records[0].read_text())["status"] if records else "no verdict"


@section("proved")
def time_to_proved(repeats: int, device: str) -> list[str]:
    fit_alone: list[float] = []
    whole, whole_ratios, whole_verdicts = [], [], []  # plain `adder fit`, its own verify inside
    fit, verify, ratios, verdicts = ({name: [] for name in PROVED_RECIPES} for _ in range(4))
    for seed in range(repeats):
        sides = ["baseline", "adder fit", *PROVED_RECIPES]
        for side in sides[seed % len(sides) :] + sides[: seed % len(sides)]:  # each goes first in turn
            with tempfile.TemporaryDirectory() as root:
                if side == "baseline":
                    fit_alone.append(timed_default_fit(seed, root, BASELINE_FIT))
                    continue
                if side == "adder fit":
                    whole.append(timed_default_fit(seed, root, []))
                    whole_verdicts.append(f"seed {seed}: {recorded_verdict(root)}")
                    continue
                fit[side].append(timed_default_fit(seed, root, PROVED_RECIPES[side]))
                (checkpoint,) = Path(root).glob("lightning_logs/version_*/checkpoints/last.ckpt")
                seconds, verdict = timed_verify(checkpoint, VERIFY_SECONDS)
                verify[side].append(seconds)
                verdicts[side].append(f"seed {seed}: {verdict}")
        for name in PROVED_RECIPES:
            ratios[name].append((fit[name][-1] + verify[name][-1]) / fit_alone[-1])
        whole_ratios.append(whole[-1] / fit_alone[-1])
    baseline = "adder fit --model.objectives '[ReplayHardest(0.2), InitialStateNoise(0.3)]'"
    lines = [
        "## 10. Time to a proved adder: a recipe's fit, then `adder verify`",
        "",
        f"Whole processes, alternated, seed k in repeat k: `adder fit` with each recipe (its own verify off) then "
        f"`adder verify --time-limit {VERIFY_SECONDS}` on its last checkpoint, against `{baseline}` alone (the "
        "default fit when the target was set: the default network without the objectives that make it provable). Target: fit + verify of the default within 2x the default fit, and every verdict `proved`.",
        "",
        "| measure | seconds |",
        "| --- | --- |",
        f"| `{baseline}` alone | {summary(fit_alone)} |",
    ]
    for name in PROVED_RECIPES:
        lines += [
            f"| `adder fit`, {name} | {summary(fit[name])} |",
            f"| `adder verify` of its last checkpoint | {summary(verify[name])} |",
            f"| **(fit + verify) / fit alone**, {name} (per pair) | **{summary(ratios[name], 2)}** |",
        ]
    lines += [
        "| `adder fit` as a user runs it, its verify inside (`--verify_after_fit auto`) | " + summary(whole) + " |",
        f"| **`adder fit` / fit alone** (per pair) | **{summary(whole_ratios, 2)}** |",
        "",
    ]
    lines += [f"Verdicts, {name}: {'; '.join(verdicts[name])}." for name in PROVED_RECIPES]
    lines.append(f"Verdicts, `adder fit`: {'; '.join(whole_verdicts)}.")
    return [*lines, ""]


#: Hand-written notes on the figures (what was changed, what is missed), appended to the page.
NOTES = REPO / "docs" / "performance_notes.md"


#: Where each section's latest measurement is kept for docs/performance.md (tracked; --update-docs).
TRACKED_RESULTS = REPO / "benchmarks" / "results"
PAGE = REPO / "docs" / "performance.md"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS))
    parser.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda"],
        help="where the models run; cuda results go beside the CPU ones, in their own sections",
    )
    parser.add_argument(
        "--out", default="benchmark-results", help="directory for each section's results (default: %(default)s)"
    )
    parser.add_argument(
        "--update-docs",
        action="store_true",
        help="also keep the results in benchmarks/results/ and rewrite the page (both tracked)",
    )
    parser.add_argument("--assemble", action="store_true", help="only rewrite the page from benchmarks/results/")
    parser.add_argument("--output", default=None, help=f"the page --update-docs and --assemble write (default: {PAGE})")
    args = parser.parse_args()
    if args.output is not None and not (args.update_docs or args.assemble):
        parser.error("--output is the page that --update-docs or --assemble writes; give one of them")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def main() -> None:
    args = parse_args()
    only = args.only or [name for name in SECTIONS if args.device == "cuda" or name not in GPU_ONLY]
    if args.assemble:
        only = []
    out = Path(args.out)
    flags = ("" if args.device == "cpu" else f" --device {args.device}") + (
        " --update-docs" if args.update_docs else ""
    )
    for name in only:
        print(f"running {name} on {args.device} ({args.repeats} repeats) ...", flush=True)
        started = time.time()
        lines = SECTIONS[name](args.repeats, args.device)
        if args.device != "cpu":
            lines[0] += " (GPU)"
        lines += [
            f"Measured by `python benchmarks/run.py{flags} --repeats {args.repeats} --only {name}` on "
            f"{time.strftime('%Y-%m-%d')} in {time.time() - started:.0f} s; {machine()}.",
            "",
        ]
        print("\n".join(lines), flush=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / result_name(name, args.device)).write_text("\n".join(lines))
        print(f"written to {out / result_name(name, args.device)}")
        if args.update_docs:
            shutil.copy(out / result_name(name, args.device), TRACKED_RESULTS / result_name(name, args.device))
    if args.update_docs or args.assemble:
        page = Path(args.output or PAGE)
        write_page(TRACKED_RESULTS, page)
        print(f"written to {page}")


def result_name(section_name: str, device: str) -> str:
    return f"{section_name}.md" if device == "cpu" else f"{section_name}-{device}.md"


def section_number(path: Path) -> int:
    """The N of a result file's "## N. ..." heading: the page lists sections in that order."""
    heading = path.read_text().split("\n", 1)[0]
    return int(heading.removeprefix("## ").split(".", 1)[0])


def write_page(results: Path, output: Path) -> None:
    """The page is every section's latest measurement, so that one section can be rerun alone."""
    cpu = [results / result_name(name, "cpu") for name in SECTIONS]
    gpu = [results / result_name(name, "cuda") for name in SECTIONS]
    cpu, gpu = [p for p in cpu if p.is_file()], [p for p in gpu if p.is_file()]
    where = (
        "The CPU sections come first, then the same benchmarks on a GPU (`--device cuda`) with the host "
        "synchronisations per step."
        if gpu
        else "No GPU was available for these runs; `python benchmarks/run.py --device cuda` runs them on one."
    )
    header = [
        "# Performance",
        "",
        "Written by `python benchmarks/run.py --update-docs` (all sections, 5 paired repeats each; `--only SECTION` "
        "reruns one; without `--update-docs` the results go to `--out` only). Every figure is the median of the repeats with the min-max range in brackets; each section "
        f"names the command, date and machine of its own measurement. {where}",
        "",
        "The targets (issues 6 and 19) and where to read each against its figure:",
        "",
        "| target | section |",
        "| --- | --- |",
        "| `train.py fit` training steps/s >= 0.95x a plain PyTorch loop | 1, ratio row; profile in 8 |",
        "| batch generation >= 20x the course report's generator, and < 5% of a step | 2, bold rows |",
        "| time to a 1000-digit solution <= 0.5x the previous default recipe, whole processes | 3, ratio row |",
        "| evaluation digits/s at 1,000-100,000 digits within 20% of each other | 4, last line |",
        "| on a GPU: the same, with no host synchronisation per training step | (GPU) sections, 5 |",
        "| `adder add` start-up within `import torch` + 0.5 s | 6, difference row |",
        "| evaluation at 100,000 digits: >= 1.5x (CPU) and >= 10x (GPU) the fixed blocks of 100 | 7, bold row |",
        "| `adder fit`'s default torch threads within 20% of the best count, alone and beside a busy process | 9, bold row |",
        "| the default fit + `adder verify` within 2x the default fit, every verdict proved | 10, bold row |",
        "",
    ]
    body = [p.read_text() for p in sorted(cpu, key=section_number) + sorted(gpu, key=section_number)]
    body.append(NOTES.read_text())
    output.write_text("\n".join(header) + "\n" + "\n".join(body))


if __name__ == "__main__":
    main()
