"""Train the default recipe for each cell and seed, then measure exact match far beyond the
training length. Writes a markdown table (`--out docs/generated/NAME.md`; the results pages include or cite it).

    python scripts/length_generalisation.py                       # decimal: rnn/lstm/gru x seeds 0-2
    python scripts/length_generalisation.py --config binary --lengths 20 200 2000
    python scripts/length_generalisation.py --threads 1 --keep runs/threads1   # one torch thread

Each run is a real `adder fit` process (timed whole, startup included) followed by
`python -m adder evaluate --json` on its last checkpoint; runs go one after another so that the
timings are not disturbed by each other. A second table gives, per cell and length, the wrong
digits over every suite and seed and a 95% upper bound on the per-digit error rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from adder.evaluation.bounds import error_rate_upper_bound


def train(cell: str, seed: int, config: str | None, root: Path, extra: list[str]) -> tuple[float, Path]:
    command = [
        sys.executable,
        "-m",
        "adder",
        "fit",
        "--model.cell",
        cell,
        "--seed_everything",
        str(seed),
        "--trainer.default_root_dir",
        str(root),
        "--trainer.enable_progress_bar",
        "false",
        *extra,
    ]
    if config:
        command[4:4] = ["--config", config]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:  # train.py's own one-line error says what was wrong
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        sys.exit(f"adder fit failed for {cell} seed {seed}: {lines[-1]}")
    (run,) = sorted((root / "lightning_logs").glob("version_*"))
    return seconds, run / "checkpoints" / "last.ckpt"


def evaluate(checkpoint: Path, lengths: list[int], kinds: list[str], size: int) -> dict:
    command = [
        sys.executable,
        "-m",
        "adder",
        "evaluate",
        "--ckpt",
        str(checkpoint),
        "--json",
        "--size",
        str(size),
        "--lengths",
        *map(str, lengths),
        "--kinds",
        *kinds,
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo on Linux), else the architecture: timings vary by CPU."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def table_header(lengths: list[int], kinds: list[str]) -> list[str]:
    """The first two lines of the results table: one column per kind and length."""
    header = ["cell", "seed", "params", "steps", "fit s"] + [f"{k} {n}" for n in lengths for k in kinds]
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]


def suites_note(size: int, kinds: list[str]) -> str:
    """The sentence under the results table that says how large each suite is."""
    sized = ", ".join(k for k in kinds if k != "edge")
    suites = "; ".join(part for part in (sized, "8 edge" if "edge" in kinds else "") if part)
    return f"Exact match in %, {size} problems per suite ({suites})."


def bounds_table(wrong: dict[tuple[str, int], list[int]]) -> list[str]:
    """Per cell and length: the digits checked over every suite and seed, the wrong ones, and the
    95% upper bound on the per-digit error rate they give."""
    lines = [
        "| cell | digits | digits checked | wrong digits | per-digit error, 95% upper bound |",
        "|---|---|---|---|---|",
    ]
    for (cell, length), (errors, digits) in wrong.items():
        bound = error_rate_upper_bound(errors, digits)
        lines.append(f"| {cell} | {length:,} | {digits:,} | {errors:,} | {bound:.2g} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="config on top of the defaults: a shipped name (binary) or a file")
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--lengths", nargs="+", type=int, default=[10, 100, 1000])
    parser.add_argument("--kinds", nargs="+", default=["random", "carry", "mixed", "edge"])
    parser.add_argument("--size", type=int, default=2000, help="problems per suite")
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    parser.add_argument("--threads", type=int, help="torch threads for fit and evaluate (default: torch's own)")
    parser.add_argument("--keep", type=Path, help="keep each run's last.ckpt as DIR/<cell>-seed<k>.ckpt")
    parser.add_argument("extra", nargs="*", help="more `adder fit` flags, after --")
    args = parser.parse_args()
    if args.threads:  # the fit and evaluate processes inherit it; torch reads it at start-up
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
        torch.set_num_threads(args.threads)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    wrong: dict[tuple[str, int], list[int]] = {}  # (cell, length) -> [wrong digits, digits]

    lines = table_header(args.lengths, args.kinds)
    for cell in args.cells:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                seconds, checkpoint = train(cell, seed, args.config, Path(tmp), args.extra)
                saved = torch.load(checkpoint, weights_only=True)
                params = sum(v.numel() for k, v in saved["state_dict"].items() if k.startswith("model."))
                report = evaluate(checkpoint, args.lengths, args.kinds, args.size)
                if args.keep:
                    shutil.copy(checkpoint, args.keep / f"{cell}-seed{seed}.ckpt")
            scores = {(r["kind"], r["num_digits"]): r["exact_match"] for r in report["results"]}
            for r in report["results"]:
                counts = wrong.setdefault((cell, r["num_digits"]), [0, 0])
                counts[0] += r["wrong_digits"]
                counts[1] += r["digits"]
            row = [cell, str(seed), f"{params:,}", str(saved["global_step"]), f"{seconds:.0f}"]
            row += [f"{100 * scores[(k, n)]:.2f}" for n in args.lengths for k in args.kinds]
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
    table = "\n".join(lines)
    machine = f"{cpu_name()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    text = f"{table}\n\n{suites_note(args.size, args.kinds)} {machine}.\n"
    seeds = ", ".join(map(str, args.seeds))
    text += (
        f"\n{chr(10).join(bounds_table(wrong))}\n\nEvery suite above of seeds {seeds} together, per cell and length.\n"
    )
    print("\n" + text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
