"""Training from Python: ``fit(config) -> FitRecord`` and ``test(ckpt_path) -> metrics``.

Both run the training command line (``adder.training.cli``) in-process, so a config, a flag and a
checkpoint mean what they mean to ``adder fit`` and ``adder test``; where the command would print
one ``error:`` line and exit, they raise:

- ``InputError`` (adder.errors): bad input, with the command's one-line message (status 2);
- ``NonFiniteLossError``, ``CheckpointWriteError`` or ``OSError``: the run failed (status 1);
- ``Interrupted``: SIGTERM or Ctrl-C stopped the run, after it saved ``last.ckpt``.

``failure`` gives any of them as the command's message and exit status. This module imports
Lightning only when it trains, so ``adder.training`` can export it cheaply.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from adder.errors import InputError, first_line

if TYPE_CHECKING:
    from lightning.pytorch.callbacks import Callback

#: A config: a shipped config's name, a YAML file, or the config itself as a mapping.
ConfigLike = str | Path | Mapping[str, Any]


class Interrupted(Exception):
    """SIGTERM or Ctrl-C stopped a run; the checkpoint callback has saved its ``last.ckpt``."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum

    @property
    def status(self) -> int:
        """The exit status of a process the signal would have killed."""
        return 128 + self.signum


@dataclass(frozen=True)
class FitRecord:
    """What a fit left: where, how far, and its last logged values."""

    run_dir: Path  # config.yaml, the logs and checkpoints/
    best_checkpoint: Path | None  # the best validation's checkpoint, if one was validated
    last_checkpoint: Path | None  # last.ckpt: where a resumed fit goes on from
    step: int  # optimizer steps done, over every part of a resumed run
    seconds: float  # time spent fitting, over every part of a resumed run
    num_parameters: int
    metrics: dict[str, float] = field(default_factory=dict)  # val/..., train/... (train/fit_seconds, ...)
    verdict: str | None = None  # --verify_after_fit's last: "proved", "counterexample" or "undecided"


def fit(
    config: ConfigLike | Sequence[ConfigLike] | None = None,
    *,
    callbacks: Sequence[Callback] = (),
    **overrides: Any,
) -> FitRecord:
    """Train as ``adder fit`` does: ``config`` (several are read in order, later ones winning),
    then ``overrides`` as flags by their dotted names, e.g. ``fit("lstm", **{"trainer.max_steps":
    100})`` or ``fit(ckpt_path="run/checkpoints/last.ckpt")``; ``callbacks`` join the trainer's."""
    from adder.models import count_parameters
    from adder.training.callbacks import FitSummary
    from adder.training.cli import run

    start, started = time.perf_counter(), time.time()
    cli = run(["fit", *arguments(config, overrides)], callbacks)
    trainer = cli.trainer
    summaries = [c for c in trainer.callbacks if isinstance(c, FitSummary)]
    # FitSummary's clock runs on past fit (through a test after it): count this call's time instead.
    seconds = time.perf_counter() - start + (summaries[0].seconds_before if summaries else 0.0)
    metrics = {**_floats(trainer.callback_metrics), **(summaries[0].summary() if summaries else {})}
    checkpoint = trainer.checkpoint_callback
    best, last = (getattr(checkpoint, name, "") for name in ("best_model_path", "last_model_path"))
    run_dir = Path(trainer.log_dir or trainer.default_root_dir)
    verdict = _verdict_since(run_dir, started)
    if verdict is not None:
        metrics["verify/proved"] = float(verdict == "proved")
    return FitRecord(
        run_dir=run_dir,
        best_checkpoint=Path(best) if best else None,
        last_checkpoint=Path(last) if last else None,
        step=int(trainer.global_step),
        seconds=seconds,
        num_parameters=count_parameters(cli.model.model),
        metrics={**metrics, "train/fit_seconds": round(seconds, 1)},
        verdict=verdict,
    )


def _verdict_since(run_dir: Path, started: float) -> str | None:
    """The verdict --verify_after_fit recorded in ``run_dir`` since ``started`` (an earlier part of
    a resumed run may have left one), or None."""
    from adder.models.checkpoints import VERIFY_RECORD

    path = run_dir / VERIFY_RECORD
    try:
        if path.stat().st_mtime < started:
            return None
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record.get("status") if isinstance(record, dict) else None


def test(
    ckpt_path: str | Path,
    config: ConfigLike | Sequence[ConfigLike] | None = None,
    *,
    callbacks: Sequence[Callback] = (),
    **overrides: Any,
) -> dict[str, float]:
    """Test a checkpoint as ``adder test --ckpt_path`` does (with ``config``, such as its run's
    ``config.yaml``, and ``overrides`` as in ``fit``); returns the test metrics."""
    from adder.training.cli import run

    cli = run(["test", *arguments(config, {**overrides, "ckpt_path": str(ckpt_path)})], callbacks)
    return _floats(cli.trainer.callback_metrics)


def arguments(config: ConfigLike | Sequence[ConfigLike] | None, flags: Mapping[str, Any]) -> list[str]:
    """The command line of ``config`` and ``flags`` (after the configs, so they win)."""
    configs = [] if config is None else [config] if isinstance(config, (str, Path, Mapping)) else list(config)
    args = [arg for one in configs for arg in ("--config", _config_text(one))]
    return args + command_line(flags)


def command_line(flags: Mapping[str, Any]) -> list[str]:
    """``--KEY VALUE`` for each flag, values as the command line takes them (YAML; None as null)."""
    return [arg for key, value in flags.items() for arg in (f"--{key}", "null" if value is None else flag_text(value))]


def flag_text(value: Any) -> str:
    """A flag value as the command line takes it."""
    if isinstance(value, (str, Path)):
        return str(value)
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def _config_text(config: ConfigLike) -> str:
    if isinstance(config, Mapping):  # inline YAML, which --config reads like a file
        return yaml.safe_dump(dict(config), default_flow_style=True, width=10**6).strip()
    return str(config)


def _floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items()}


def failure(error: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit status of a run that raised ``error`` (what the command
    prints after ``error:``), or None for an error that is not a run's failure (a bug)."""
    from adder.training.checkpoint_io import CheckpointWriteError
    from adder.training.module import NonFiniteLossError

    if isinstance(error, InputError):
        return str(error), 2
    if isinstance(error, (NonFiniteLossError, CheckpointWriteError)):
        return str(error), 1
    if isinstance(error, OSError):  # a directory or file a run must write that the system refuses
        return f"cannot write {error.filename or 'a run file'}: {error.strerror or first_line(error)}", 1
    return None
