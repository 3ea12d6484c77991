"""Checkpoints without Lightning: safe loading, the adder inside one, and where runs keep them.

Needs torch and :mod:`adder.models` only, like nanoGPT's ``GPT(GPTConfig(**checkpoint["model_args"]))``:
``adder add`` and ``adder evaluate`` start without importing Lightning.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from adder.errors import InputError, first_line
from adder.models import Adder, ModelConfig, build_model

#: Where a run keeps its latest checkpoint, relative to the run directory.
LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


class CheckpointError(InputError):
    """A checkpoint is missing, unreadable, or not an adder checkpoint."""


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a Lightning checkpoint with ``weights_only=True`` and check that it holds weights.

    Raises a one-line :class:`CheckpointError` for a missing, truncated, non-checkpoint, or
    code-carrying file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(f"refusing to load {path}: not plain weights ({first_line(error)})") from error
    except Exception as error:  # torch raises many types for a damaged file (KeyError for some text)
        raise CheckpointError(f"cannot read checkpoint {path}: the file is truncated or not a checkpoint") from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no state_dict)")
    return checkpoint


def load_adder(path: str | Path) -> Adder:
    """The trained backbone of an AdderModule checkpoint, in eval mode on the CPU, its
    hyperparameters in ``model.config``. Needs neither Lightning nor the training data."""
    checkpoint = load_checkpoint(path)
    hparams = checkpoint.get("hyper_parameters") or {}
    missing = [key for key in ModelConfig.required_keys() if key not in hparams]
    if missing:
        raise CheckpointError(f"{path} is not an adder checkpoint (missing hyperparameters: {', '.join(missing)})")
    try:
        model = build_model(ModelConfig.from_hparams(hparams))
        prefix = "model."
        state = {k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
        model.load_state_dict(state)
    except (ValueError, RuntimeError) as error:
        raise CheckpointError(
            f"{path}: the weights do not fit the model they claim to be ({first_line(error)})"
        ) from error
    return model.eval()


def run_dir_of(ckpt_path: str | Path) -> Path | None:
    """The run directory (``.../<name>/version_N``) whose ``checkpoints/`` holds ``ckpt_path``."""
    path = Path(ckpt_path).resolve()
    run_dir = path.parent.parent
    if path.parent.name == LAST_CHECKPOINT.parent.name and (run_dir / "config.yaml").is_file():
        return run_dir
    return None


def newest_last_checkpoint(root: str | Path = "lightning_logs") -> Path:
    """The most recently written ``<root>/*/checkpoints/last.ckpt``: the run a user just trained."""
    found = [path for path in Path(root).glob(f"*/{LAST_CHECKPOINT}") if path.is_file()]
    if not found:
        raise CheckpointError(
            f"no --ckpt given and no {root}/*/{LAST_CHECKPOINT} here; train with `adder fit` or pass --ckpt"
        )
    return max(found, key=lambda path: path.stat().st_mtime)
