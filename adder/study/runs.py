"""One trial of a study: ``adder fit`` then ``adder test`` in the trial's own run directory.

The run directory is named after the point and seed, so a trial that a killed worker left behind
is resumed from its ``last.ckpt`` (exact resume) by whichever worker takes it up next. A seed that
finished keeps its record in ``record.json`` beside it, so a resumed trial does not train it again
(a fit that stopped early would otherwise go on from its last checkpoint).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from adder.models import count_parameters
from adder.models.checkpoints import LAST_CHECKPOINT
from adder.study.pruning import TrialReporter
from adder.study.spec import Experiment, command_line

QUIET = {"trainer.enable_progress_bar": False, "trainer.enable_model_summary": False}
#: A finished seed's record, in its run directory.
RECORD = "record.json"


class TrialFailed(RuntimeError):
    """A trial's fit or test stopped with an error (its one-line message)."""


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """Keep a run's console output (summaries, tables) out of the study's progress lines; the
    captured error stream names what went wrong when a run fails."""
    errors = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
        yield errors


@contextlib.contextmanager
def ctrl_c_deferred() -> Iterator[list[bool]]:
    """Notes a Ctrl-C instead of raising it, for the short test after a fit: Lightning would turn
    the KeyboardInterrupt into exit status 1 (a failed trial) and ignore every later Ctrl-C. The
    caller stops once the seed's record is safe."""
    pressed = [False]
    if threading.current_thread() is not threading.main_thread():  # handlers need the main thread
        yield pressed
        return

    def note(signum: int, frame: Any) -> None:
        pressed[0] = True

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def config_args(experiment: Experiment, flags: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The ``--config`` arguments of a run (the study's config, then a point's own, so that each
    point can train on its recipe) and its other flags, which come after them and so win."""
    configs = [experiment.config, flags.get("config")]
    base = [arg for config in configs if config for arg in ("--config", str(config))]  # the CLI resolves shipped names
    return base, {key: value for key, value in flags.items() if key != "config"}


def _write_record(run_dir: Path, record: dict[str, Any]) -> None:
    partial = run_dir / (RECORD + ".partial")
    partial.write_text(json.dumps(record))
    os.replace(partial, run_dir / RECORD)  # atomic: a record is whole or absent


def _error_line(errors: io.StringIO, fallback: str) -> str:
    lines = [line for line in errors.getvalue().splitlines() if line.startswith("error:")]
    return lines[-1].removeprefix("error:").strip() if lines else fallback


def run_trial(
    experiment: Experiment,
    flags: Mapping[str, Any],
    seed: int,
    run_dir: Path,
    quick: bool,
    reporter: TrialReporter | None = None,
) -> dict[str, Any]:
    """fit (or resume) and test one trial, its validations told to ``reporter``; returns its
    record. Raises TrialFailed with the run's one-line error, TrialPruned when the study's pruner
    stopped the fit (not tested then), or SystemExit(130/143) when the run was interrupted."""
    from adder.training.cli import main

    base, flags = config_args(experiment, flags)
    if (run_dir / RECORD).is_file():  # this seed finished before its trial was interrupted
        return json.loads((run_dir / RECORD).read_text())
    last = run_dir / LAST_CHECKPOINT
    if last.is_file():  # a worker stopped during this trial: carry on from where it saved
        fit_args = ["--config", str(run_dir / "config.yaml"), "--ckpt_path", str(last)]
    else:
        # The run is the trial's directory itself, so that TensorBoard names it after the point.
        run_name = [
            "--trainer.logger.init_args.save_dir",
            str(run_dir.parent),
            "--trainer.logger.init_args.name",
            "",
            "--trainer.logger.init_args.version",
            run_dir.name,
        ]
        all_flags = {**flags, **QUIET, "seed_everything": seed, "trainer.default_root_dir": str(run_dir)}
        fit_args = [*base, *command_line(all_flags), *run_name]
    start = time.perf_counter()
    with captured() as errors:
        try:
            fit = main(["fit", *fit_args], callbacks=[reporter] if reporter else [])
        except SystemExit as stop:
            if stop.code in (130, 143):
                raise
            raise TrialFailed(_error_line(errors, f"fit exited with status {stop.code}")) from None
    seconds = time.perf_counter() - start
    if reporter is not None and reporter.pruned is not None:
        raise reporter.pruned
    with ctrl_c_deferred() as pressed:
        record = _test_and_record(experiment, fit, flags, seed, run_dir, seconds, base, quick)
        _write_record(run_dir, record)
    if pressed[0]:
        raise SystemExit(130)
    return record


def _test_and_record(
    experiment: Experiment,
    fit: Any,
    flags: Mapping[str, Any],
    seed: int,
    run_dir: Path,
    seconds: float,
    base: list[str],
    quick: bool,
) -> dict[str, Any]:
    from adder.training.cli import main
    from adder.training.tracking import FitSummary

    last = run_dir / LAST_CHECKPOINT
    with captured() as errors:
        try:
            test = main(["test", "--config", str(run_dir / "config.yaml"), "--ckpt_path", str(last)])
        except SystemExit as stop:
            raise TrialFailed(_error_line(errors, f"test exited with status {stop.code}")) from None
    # FitSummary sums the fit time over every part of a resumed trial; the clock only this part.
    summaries = [c for c in fit.trainer.callbacks if isinstance(c, FitSummary)]
    fit_seconds = summaries[0].seconds_before + seconds if summaries else seconds
    record: dict[str, Any] = {
        "seed": seed,
        "flags": dict(flags),
        "quick": quick,
        "steps": int(fit.trainer.global_step),
        "fit_seconds": round(fit_seconds, 1),
        "num_parameters": count_parameters(fit.model.model),
        "metrics": {k: float(v) for k, v in test.trainer.callback_metrics.items() if k.startswith("test/")},
        "curves": _curves(run_dir),
        "run_dir": str(run_dir),
        "command": "adder fit "
        + " ".join(_quote(a) for a in [*base, *command_line({**flags, "seed_everything": seed})]),
    }
    if experiment.samples:
        record["samples"] = _samples(fit, last)
    return record


def _quote(arg: str) -> str:
    return f"'{arg}'" if re.search(r"[\s{}\[\]]", arg) else arg


def _curves(run_dir: Path) -> dict[str, list[list[float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    events.Reload()
    tags = set(events.Tags()["scalars"])
    return {
        tag: [[e.step, e.value] for e in events.Scalars(tag)]
        for tag in ("train/loss", "val/exact_match")
        if tag in tags
    }


def _samples(fit: Any, checkpoint: Path, count: int = 6) -> list[dict[str, str]]:
    """Test problems with this model's answers, for a table like the blog's."""
    from adder.evaluation.reporting import sample_rows
    from adder.models.checkpoints import load_adder

    model = load_adder(checkpoint)
    datamodule = fit.datamodule
    datamodule.setup("test")
    a, b, target = next(iter(datamodule.test_dataloader()[0]))
    a, b, target = a[:count], b[:count], target[:count]
    return sample_rows(a, b, model.predict(a, b), target, model.config.base, count=count)
