"""One trial of a study: ``adder.training.fit`` then ``test`` in the trial's own run directory.

The run directory is named after the point and seed, so a trial that a killed worker left behind
is resumed from its ``last.ckpt`` (exact resume) by whichever worker takes it up next. A seed that
finished keeps its record in ``record.json`` beside it, so a resumed trial does not train it again
(a fit that stopped early would otherwise go on from its last checkpoint). Errors are the
training API's exceptions (adder.training.api), not text: the queue stores their messages.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from adder.models.checkpoints import LAST_CHECKPOINT
from adder.study.pruning import TrialReporter
from adder.study.spec import Experiment
from adder.training import Interrupted, fit, test
from adder.training.api import ConfigLike, arguments

QUIET = {"trainer.enable_progress_bar": False, "trainer.enable_model_summary": False}
#: A finished seed's record, in its run directory.
RECORD = "record.json"


@contextlib.contextmanager
def captured() -> Iterator[None]:
    """Keep a run's console output (summaries, tables) out of the study's progress lines."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


@contextlib.contextmanager
def ctrl_c_deferred() -> Iterator[list[bool]]:
    """Notes a Ctrl-C instead of raising it, for the short test after a fit: Lightning would turn
    the KeyboardInterrupt into a failed test and ignore every later Ctrl-C. The caller stops once
    the seed's record is safe."""
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
    """The configs of a run (the study's, then a point's own, so that each point can train on its
    recipe) and its other flags, which come after them and so win."""
    configs = [str(config) for config in (experiment.config, flags.get("config")) if config]
    return configs, {key: value for key, value in flags.items() if key != "config"}


def _write_record(run_dir: Path, record: dict[str, Any]) -> None:
    partial = run_dir / (RECORD + ".partial")
    partial.write_text(json.dumps(record))
    os.replace(partial, run_dir / RECORD)  # atomic: a record is whole or absent


def run_trial(
    experiment: Experiment,
    flags: Mapping[str, Any],
    seed: int,
    run_dir: Path,
    quick: bool,
    reporter: TrialReporter | None = None,
) -> dict[str, Any]:
    """fit (or resume) and test one trial, its validations told to ``reporter``; returns its
    record. Raises what ``adder.training.fit`` and ``test`` raise (a bad flag, a NaN loss,
    Interrupted), or TrialPruned when the study's pruner stopped the fit (not tested then)."""
    configs, flags = config_args(experiment, flags)
    if (run_dir / RECORD).is_file():  # this seed finished before its trial was interrupted
        return json.loads((run_dir / RECORD).read_text())
    last = run_dir / LAST_CHECKPOINT
    if last.is_file():  # a worker stopped during this trial: carry on from where it saved
        fit_configs: list[ConfigLike] = [run_dir / "config.yaml"]
        fit_flags: dict[str, Any] = {"ckpt_path": last}
    else:
        # A trial is verified only where the study's config or args ask (adder fit's default verifies).
        fit_configs = [{"verify_after_fit": None}, *configs]
        fit_flags = {**flags, **QUIET, "seed_everything": seed, "trainer.default_root_dir": run_dir}
        # The run is the trial's directory itself, so that TensorBoard names it after the point.
        logger = "trainer.logger.init_args."
        fit_flags.update({logger + "save_dir": run_dir.parent, logger + "name": "", logger + "version": run_dir.name})
    with captured():
        fitted = fit(fit_configs, callbacks=[reporter] if reporter else [], **fit_flags)
    if reporter is not None and reporter.pruned is not None:
        raise reporter.pruned
    with ctrl_c_deferred() as pressed:
        record = {
            "seed": seed,
            "flags": dict(flags),
            "quick": quick,
            "steps": fitted.step,
            "fit_seconds": round(fitted.seconds, 1),
            "num_parameters": fitted.num_parameters,
            **({"verdict": fitted.verdict} if fitted.verdict is not None else {}),
            **_tested(experiment, run_dir),
            "run_dir": str(run_dir),
            "command": "adder fit "
            + " ".join(_quote(a) for a in arguments(configs, {**flags, "seed_everything": seed})),
        }
        _write_record(run_dir, record)
    if pressed[0]:
        raise Interrupted(signal.SIGINT)
    return record


def _tested(experiment: Experiment, run_dir: Path) -> dict[str, Any]:
    """The test metrics of the run's last checkpoint, its curves, and sample answers if asked."""
    last = run_dir / LAST_CHECKPOINT
    first = FirstTestBatch()
    with captured():
        metrics = test(last, run_dir / "config.yaml", callbacks=[first])
    tested: dict[str, Any] = {
        "metrics": {k: v for k, v in metrics.items() if k.startswith("test/")},
        "curves": _curves(run_dir),
    }
    if experiment.samples and first.batch is not None:
        tested["samples"] = _samples(first.batch, last)
    return tested


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


class FirstTestBatch(Callback):
    """Keeps the first test batch ``(a, b, target)``, for sample answers."""

    def __init__(self) -> None:
        self.batch: Any = None

    def on_test_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, *rest: Any) -> None:
        if self.batch is None:
            self.batch = batch


def _samples(batch: Any, checkpoint: Path, count: int = 6) -> list[dict[str, str]]:
    """Test problems with this model's answers, for a table like the blog's."""
    from adder.evaluation.reporting import sample_rows
    from adder.models.checkpoints import load_adder

    model = load_adder(checkpoint)
    a, b, target = (tensor[:count] for tensor in batch)
    return sample_rows(a, b, model.predict(a, b), target, model.config.base, count=count)
