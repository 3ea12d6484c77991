"""Loading checkpoints safely: tensors and plain data only, never pickled code."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch


class CheckpointError(ValueError):
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
        reason = str(error).splitlines()[0] if str(error) else "unpickling failed"
        raise CheckpointError(f"refusing to load {path}: not plain weights ({reason})") from error
    except Exception as error:  # torch raises many types for a damaged file (KeyError for some text)
        raise CheckpointError(f"cannot read checkpoint {path}: the file is truncated or not a checkpoint") from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no state_dict)")
    return checkpoint


#: AdderModule hyperparameters that define the backbone's shape.
_MODEL_KEYS = ("cell", "encoding", "input_size", "hidden_size", "num_layers", "base", "num_digits")


def load_adder(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The trained backbone from an AdderModule checkpoint, in eval mode on the CPU, plus its
    hyperparameters. Needs neither Lightning nor the training data."""
    from adder.module import build_model  # late import: the module imports Lightning

    checkpoint = load_checkpoint(path)
    hparams = checkpoint.get("hyper_parameters") or {}
    missing = [key for key in _MODEL_KEYS if key not in hparams]
    if missing:
        raise CheckpointError(f"{path} is not an adder checkpoint (missing hyperparameters: {', '.join(missing)})")
    try:
        model = build_model(**{key: hparams[key] for key in _MODEL_KEYS})
        prefix = "model."
        state = {k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
        model.load_state_dict(state)
    except (ValueError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: the weights do not fit the model they claim to be ({first})") from error
    return model.eval(), dict(hparams)
