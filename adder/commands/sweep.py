"""``adder sweep STUDY ...``: run studies on Optuna, then write their reports.

    adder sweep hidden_size                          # a shipped study (or a path to a study file)
    adder sweep hidden_size --jobs 2                 # two worker processes on this machine
    adder sweep hidden_size --storage postgresql://user@db/adder   # join workers on other machines
    adder sweep report hidden_size                   # only rewrite the report from the storage

Each trial trains and tests in-process (``adder.training.fit`` and ``test``, what ``adder fit`` and
``adder test`` run) in ``<runs-dir>/<study>/<point>/seed<k>/``; the
study itself lives in an Optuna storage (by default ``<runs-dir>/<study>.journal``), so an
interrupted study carries on where it stopped, and ``optuna-dashboard`` can watch it.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from adder.commands.arguments import non_negative_int, plain_text, positive_int
from adder.study.spec import DEFAULT_GRACE, DEFAULT_RETRIES, PRUNERS, Experiment, SweepError, load_experiment

__all__ = ["SweepError", "add_parser", "load_experiment", "run_command"]


def add_parser(commands: Any) -> None:
    from adder import config_files

    shipped = ", ".join(config_files.shipped(config_files.STUDY_DIR))
    sweep = commands.add_parser(
        "sweep",
        help="run studies on Optuna, then write their reports",
        description=plain_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.add_argument(
        "experiments",
        nargs="+",
        metavar="STUDY",
        help=f"shipped studies ({shipped}) or files; 'report STUDY ...' only reports",
    )
    sweep.add_argument("--quick", action="store_true", help="a few steps per run: a smoke test of the whole pipeline")
    sweep.add_argument(
        "--runs-dir", default=None, help="where runs go (default: sweeps/, or sweeps/quick/ with --quick)"
    )
    sweep.add_argument(
        "--docs-dir",
        default=None,
        help="where reports and plots go (default: docs/experiments/, or the runs dir with --quick)",
    )
    sweep.add_argument(
        "--storage", default=None, help="an Optuna storage URL (default: a journal file in the runs dir)"
    )
    sweep.add_argument("--jobs", type=positive_int, default=1, help="worker processes on this machine (default: 1)")
    sweep.add_argument(
        "--grace",
        type=positive_int,
        default=DEFAULT_GRACE,
        help=f"seconds without a heartbeat before a running trial counts as abandoned (default: {DEFAULT_GRACE})",
    )
    sweep.add_argument(
        "--retries",
        type=non_negative_int,
        default=DEFAULT_RETRIES,
        help=f"times a trial whose worker died is run again before it is recorded as failed (default: {DEFAULT_RETRIES})",
    )
    sweep.add_argument(
        "--pruner",
        choices=["none", *PRUNERS],
        default=None,
        help="the pruner, with its default arguments, in place of the study's own (none: no pruning)",
    )
    sweep.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one of --jobs' processes
    sweep.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> None:
    report_only = args.experiments[0] == "report"
    names = args.experiments[1:] if report_only else args.experiments
    if not names:
        raise SweepError("give the studies to report on: adder sweep report STUDY ...")
    experiments = [load_experiment(name, pruner=args.pruner) for name in names]
    # Optuna and Lightning are imported here, not at the top: `adder add` starts without them.
    from adder.study.queue import StudyQueue, open_storage, study_name
    from adder.study.report import write_report
    from adder.training import Interrupted

    runs_dir = Path(args.runs_dir or ("sweeps/quick" if args.quick else "sweeps"))
    docs_dir = Path(args.docs_dir or (runs_dir if args.quick else "docs/experiments"))
    import adder.training.cli  # noqa: F401  (imports Lightning, which sets its loggers' levels)

    # The runs' own INFO lines would drown the one progress line per trial.
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    started = time.perf_counter()
    try:
        for experiment in experiments:
            journal = runs_dir / f"{study_name(experiment, args.quick)}.journal"
            if report_only:  # a report from an empty storage would overwrite the committed one
                hint = f"adder sweep {experiment.name}" + (" --quick" if args.quick else "")
                _check_stored(args.storage, journal, study_name(experiment, args.quick), hint)
            storage = open_storage(args.storage, journal, args.grace, args.retries)
            queue = StudyQueue(experiment, storage, runs_dir, args.quick)
            if not report_only:
                queue.enqueue_grid()  # a grid's points; none for a search
                queue.enqueue_start()  # a search's start points; none for a grid
                if args.jobs == 1 or args.worker:
                    queue.work(out=lambda line, name=experiment.name: print(line, flush=True))
                else:
                    _run_workers(experiment, args, runs_dir)
            if args.worker:
                continue  # the process that started the workers writes the report
            trials = queue.trials()
            done = sum(1 for t in trials if t.state.name == "COMPLETE")
            pruned = sum(1 for t in trials if t.state.name == "PRUNED" and "pruned_at" in t.user_attrs)
            command = f"adder sweep {experiment.path}" + (" --quick" if args.quick else "")
            report = write_report(experiment, trials, docs_dir, command)
            stopped = f" ({pruned} pruned)" if pruned else ""
            print(f"{experiment.name}: {done} of {queue.total()} trials done{stopped}; report written to {report}")
    except (KeyboardInterrupt, Interrupted) as stop:
        print("interrupted: finished trials are kept, unfinished ones resume from their last checkpoint next time")
        raise SystemExit(stop.status if isinstance(stop, Interrupted) else 130) from None
    if not args.worker:
        print(f"sweep finished in {time.perf_counter() - started:.0f} s")


def _check_stored(url: str | None, journal: Path, name: str, hint: str) -> None:
    """Refuse to report on a storage that holds no trial of study ``name``, creating nothing."""
    from adder.study.queue import open_storage

    where = url or str(journal)
    sqlite_file = url[len("sqlite:///") :] if url and url.startswith("sqlite:///") else None
    missing = journal if url is None else Path(sqlite_file) if sqlite_file else None
    if missing is not None and not missing.is_file():
        raise SweepError(f"no study storage at {missing}: nothing to report; run `{hint}` first")
    storage = open_storage(url, journal)
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        raise SweepError(f"{where} holds no study {name}: nothing to report; run `{hint}` first") from None
    if not storage.get_all_trials(study_id, deepcopy=False):
        raise SweepError(f"{where} holds no trial of study {name}: nothing to report; run `{hint}` first")


def _run_workers(experiment: Experiment, args: argparse.Namespace, runs_dir: Path) -> None:
    """``--jobs`` worker processes on this study, sharing the CPU threads (or the GPU)."""
    command = [
        sys.executable,
        "-m",
        "adder",
        "sweep",
        experiment.source,
        "--worker",
        "--runs-dir",
        str(runs_dir),
        "--grace",
        str(args.grace),
        "--retries",
        str(args.retries),
    ]
    if args.storage:
        command += ["--storage", args.storage]
    if args.quick:
        command.append("--quick")
    if args.pruner:
        command += ["--pruner", args.pruner]
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    workers = [subprocess.Popen(command, env=env) for _ in range(args.jobs)]
    try:
        codes = [worker.wait() for worker in workers]
    except KeyboardInterrupt:  # Ctrl-C reached the workers too: let them save and stop
        for worker in workers:
            worker.wait()
        raise
    failed = [code for code in codes if code != 0]
    if failed:
        raise SweepError(f"{len(failed)} of {args.jobs} workers exited with status {failed[0]}; rerun to carry on")
