"""Which run directory a command writes into: a resumed fit, or a later validate/test/predict of a
run's checkpoint, keeps logging into that run (same ``version_N``) instead of starting a new one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from lightning.fabric.plugins.environments import SLURMEnvironment

from adder.models.checkpoints import load_checkpoint, run_dir_of

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
