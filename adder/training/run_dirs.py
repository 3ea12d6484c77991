"""Which run directory a command writes into: a resumed fit, or a later validate/test/predict of a
run's checkpoint, keeps logging into that run (same ``version_N``) instead of starting a new one.
"""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from lightning.fabric.plugins.environments import SLURMEnvironment

from adder.models.checkpoints import VERIFY_RECORD, load_checkpoint, newest_last_checkpoint, run_dir_of
from adder.training.loggers import absolute_sqlite_uri, is_logger, logger_configs, mlflow_run_of

#: The default logger's directory: ``<save_dir>/<name>/version_N``.
LOGGER_DEFAULTS = {"save_dir": ".", "name": "lightning_logs"}
#: --ckpt_path values Lightning resolves itself; anything else is a file.
CKPT_ALIASES = ("last", "best", "hpc", "registry")
#: The checkpoint Lightning saves on SLURM's requeue signal, in default_root_dir.
HPC_CHECKPOINT = re.compile(r"hpc_ckpt_(\d+)\.ckpt")


def same_path(a: Any, b: Any) -> bool:
    """True if ``a`` and ``b`` name the same file or directory, however they are spelled."""
    try:
        return os.path.samefile(str(a), str(b))
    except OSError:
        return Path(str(a)).resolve() == Path(str(b)).resolve()


def log_into_resumed_run(logger_args: Any, ckpt_path: str | None, root: str | None, fitting: bool) -> None:
    """A checkpoint of a run (--ckpt_path in its checkpoints/, or SLURM's requeue checkpoint when
    fitting): point the TensorBoard logger's arguments at its directory. A version, name or
    save_dir the user gave is used as given."""
    run_dir = resumed_run_dir(ckpt_path, root or ".", fitting)
    if run_dir is None or logger_args.get("version") is not None:
        return
    if logger_args.name != LOGGER_DEFAULTS["name"] and logger_args.name != run_dir.parent.name:
        return
    if str(logger_args.save_dir) not in (LOGGER_DEFAULTS["save_dir"], root) and not same_path(
        logger_args.save_dir, run_dir.parent.parent
    ):
        return
    logger_args.save_dir = as_given(run_dir.parent.parent)
    logger_args.name = run_dir.parent.name
    logger_args.version = run_dir.name


def as_given(path: Path) -> str:
    """``path`` spelled as a first fit spells its runs: relative (``./...``) when it lies under the
    working directory, so that resumed and new runs print alike; absolute elsewhere."""
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(path)
    return os.path.join(".", str(relative)) if relative.parts else "."


def checkpoint_step(ckpt_path: str) -> int:
    """The optimizer step a checkpoint was saved at."""
    return int(load_checkpoint(ckpt_path).get("global_step", 0))


def resumed_run_dir(ckpt_path: str | None, root: str, fitting: bool) -> Path | None:
    """The run directory that ``ckpt_path`` (or, fitting under SLURM, the requeue checkpoint) belongs to."""
    if ckpt_path and ckpt_path not in CKPT_ALIASES:
        return run_dir_of(ckpt_path)
    if fitting and (ckpt_path == "hpc" or (ckpt_path is None and SLURMEnvironment.detect())):
        # Lightning resumes a requeued SLURM job from the newest hpc_ckpt_N.ckpt in
        # default_root_dir; its run is the one whose checkpoints/ the checkpoint callback wrote.
        saved = [
            (int(m.group(1)), p) for p in Path(root).glob("hpc_ckpt_*.ckpt") if (m := HPC_CHECKPOINT.fullmatch(p.name))
        ]
        if saved:
            states = load_checkpoint(max(saved)[1]).get("callbacks") or {}
            for state in states.values():
                dirpath = state.get("dirpath") if isinstance(state, dict) else None
                if dirpath and (run_dir := run_dir_of(Path(dirpath) / "last.ckpt")) is not None:
                    return run_dir
    return None


def with_newest_run(args: list[str], subcommand: str, config: Any) -> list[str]:
    """``adder validate|test|predict`` without --ckpt_path: ``args`` with the newest run's
    ``last.ckpt`` (under the root's ``lightning_logs/``, as ``adder add`` finds it) and, unless a
    config was given, that run's ``config.yaml``, so that a run trained on other data (another
    base, length or logger) is evaluated as it was trained. Says which on stderr."""
    root = Path(str(config.trainer.get("default_root_dir") or "."))
    last = newest_last_checkpoint(root / LOGGER_DEFAULTS["name"], flag="--ckpt_path")
    run_config = last.parent.parent / "config.yaml"
    use_config = not config.get("config") and run_config.is_file()
    print(
        f"using {last}{' and its config.yaml' if use_config else ''} (the newest run's last checkpoint; "
        "--ckpt_path picks another)",
        file=sys.stderr,
    )
    at = args.index(subcommand) + 1 if subcommand in args else 0
    return [*args[:at], *(["--config", str(run_config)] if use_config else []), *args[at:], "--ckpt_path", str(last)]


def record_verdict(ckpt_path: str, status: str) -> None:
    """Keep --verify_after_fit's verdict on ``ckpt_path`` in its run (VERIFY_RECORD), with the
    checkpoint's step: any checkpoint of that run at that step holds the same weights."""
    run_dir = run_dir_of(ckpt_path)
    if run_dir is not None:
        record = {"checkpoint": os.path.basename(ckpt_path), "step": checkpoint_step(ckpt_path), "status": status}
        (run_dir / VERIFY_RECORD).write_text(json.dumps(record) + "\n")


def run_dir_without_logger(root: str | None, ckpt_path: str | None, fitting: bool) -> str:
    """The run directory of a command with no logger (``--trainer.logger false``), to be its
    ``default_root_dir``: the run of ``ckpt_path`` if it has one, else a new ``version_N`` under
    ``<root>/lightning_logs`` as the default logger would make. Lightning itself would write
    ``checkpoints/`` and ``config.yaml`` straight into the root, so that a second run's checkpoint
    lands beside the first's (``last-v1.ckpt``)."""
    run_dir = resumed_run_dir(ckpt_path, root or ".", fitting)
    if run_dir is not None:
        return as_given(run_dir)
    runs = Path(root or ".") / LOGGER_DEFAULTS["name"]
    versions = [int(p.name.split("_", 1)[1]) for p in runs.glob("version_*") if p.name.split("_", 1)[1].isdigit()]
    return as_given(runs / f"version_{max(versions, default=-1) + 1}")


def route_run(config: Any, fitting: bool, resuming: bool) -> None:
    """Point the run's loggers (or, with none, ``default_root_dir``) at the directory the command
    writes into: the logger's ``save_dir`` "." follows --trainer.default_root_dir, a checkpoint's
    run is logged into again, an MLflow run is the one the checkpoint names."""
    root, ckpt_path = config.trainer.default_root_dir, config.get("ckpt_path")
    if config.trainer.logger is False or config.trainer.logger == []:  # no logger: still a run directory
        config.trainer.default_root_dir = run_dir_without_logger(root, ckpt_path, fitting)
        if resuming:
            quiet_own_checkpoint_dir(config.trainer.default_root_dir)
    for logger in logger_configs(config.trainer.logger):
        init_args = logger.init_args
        if root and str(init_args.get("save_dir")) == LOGGER_DEFAULTS["save_dir"]:
            init_args.save_dir = root
        if is_logger(logger, "MLFlowLogger"):
            init_args.tracking_uri = absolute_sqlite_uri(init_args.get("tracking_uri"))
            if init_args.get("run_id") is None:
                init_args.run_id = mlflow_run_of(ckpt_path)  # the run the checkpoint was logged to
        # Only TensorBoard's run directories take more writers: a reused one gains an event
        # file, where Lightning's CSVLogger deletes the metrics.csv it finds (a CSV gets a new run).
        if is_logger(logger, "TensorBoardLogger"):
            # fit resumes the run; validate, test and predict of a run's checkpoint add to it.
            log_into_resumed_run(init_args, ckpt_path, root, fitting)
            if resuming and init_args.get("version") is not None:
                quiet_own_checkpoint_dir(
                    os.path.join(str(init_args.save_dir), str(init_args.name), str(init_args.version))
                )


def quiet_own_checkpoint_dir(run_dir: str) -> None:
    """A resumed run's own checkpoints/ is not empty, of course: Lightning's warning is for new runs."""
    own = os.path.join(run_dir, "checkpoints")
    warnings.filterwarnings(
        "ignore", message=rf"Checkpoint directory ({re.escape(own)}|{re.escape(os.path.abspath(own))}) exists"
    )
