"""Checkpoints without Lightning: safe loading, the adder inside one, and where runs keep them.

Needs torch and :mod:`adder.models` only, like nanoGPT's ``GPT(GPTConfig(**checkpoint["model_args"]))``:
``adder add`` and ``adder evaluate`` start without importing Lightning.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import torch

from adder.errors import InputError, first_line
from adder.models import Adder, AdderNet, ModelConfig, build_model, network_from_spec

#: Where a run keeps its latest checkpoint, relative to the run directory.
LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"
#: The checkpoint key under which fit records its last validation (adder.training.callbacks.validation_record).
VALIDATION_KEY = "last_validation"
#: A run's record of ``adder fit --verify_after_fit``: the verdict and the step of the checkpoint it verified.
VERIFY_RECORD = "verify.json"


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
    if not _is_torch_file(path):
        # torch.load reads any other file as a legacy pickle, and its error then advises loading
        # with weights_only=False, which would run code: advice not to give about a YAML file.
        raise CheckpointError(f"{path} is not a checkpoint (a .ckpt file that adder fit writes)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(f"refusing to load {path}: not plain weights ({first_line(error)})") from error
    except Exception as error:  # torch raises many types for a damaged file (KeyError for some text)
        raise CheckpointError(f"cannot read checkpoint {path}: the file is truncated or not a checkpoint") from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no state_dict)")
    return checkpoint


def _is_torch_file(path: Path) -> bool:
    """Whether ``path`` starts as torch.save writes: a zip archive, or a pickle (protocol 2+,
    torch's legacy format)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def load_adder(path: str | Path) -> Adder:
    """The trained network of an AdderModule checkpoint, in eval mode on the CPU, its
    hyperparameters in ``model.config``. Needs neither Lightning nor the training data."""
    return adder_from(load_checkpoint(path), path)


def adder_from(checkpoint: dict[str, Any], path: str | Path) -> Adder:
    """The adder in a loaded checkpoint (``path`` names it in errors), as :func:`load_adder`."""
    model = network_of(checkpoint.get("hyper_parameters") or {}, path)
    try:
        prefix = "model."
        state = {k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
        model.load_state_dict(state)
    except RuntimeError as error:
        raise CheckpointError(
            f"{path}: the weights do not fit the model they claim to be ({first_line(error)})"
        ) from error
    return model.eval()  # type: ignore[return-value]


def network_of(hparams: dict[str, Any], path: str | Path) -> AdderNet:
    """The untrained network a checkpoint's hyperparameters describe: its ``net`` (class path and
    init arguments), or, in checkpoints written before networks were passed in, the flat
    ModelConfig keys (``cell``, ``hidden_size``, ...)."""
    missing = [key for key in ModelConfig.required_keys() if key not in hparams]
    if missing and not isinstance(hparams.get("net"), dict):
        raise CheckpointError(f"{path} is not an adder checkpoint (missing hyperparameters: {', '.join(missing)})")
    try:
        if isinstance(hparams.get("net"), dict):
            return network_from_spec(hparams["net"])
        return build_model(ModelConfig.from_hparams(hparams))
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: the network it names cannot be built ({first_line(error)})") from error


def checkpoint_config(hparams: dict[str, Any], path: str | Path) -> ModelConfig:
    """The ModelConfig of a checkpoint's network, in either form (see ``network_of``)."""
    return network_of(hparams, path).config


def run_dir_of(ckpt_path: str | Path) -> Path | None:
    """The run directory (``.../<name>/version_N``) whose ``checkpoints/`` holds ``ckpt_path``."""
    path = Path(ckpt_path).resolve()
    run_dir = path.parent.parent
    if path.parent.name == LAST_CHECKPOINT.parent.name and (run_dir / "config.yaml").is_file():
        return run_dir
    return None


def newest_last_checkpoint(root: str | Path = "lightning_logs", flag: str = "--ckpt") -> Path:
    """The most recently written ``<root>/*/checkpoints/last.ckpt``: the run a user just trained.
    Every command that reads a trained model without being told which uses this one."""
    found = [path for path in Path(root).glob(f"*/{LAST_CHECKPOINT}") if path.is_file()]
    if not found:
        raise CheckpointError(
            f"no {flag} given and no run here ({root}/*/{LAST_CHECKPOINT}); train one with `adder fit`, or pass {flag}"
        )
    return max(found, key=lambda path: path.stat().st_mtime)


def doubts(checkpoint: dict[str, Any], path: str | Path) -> str | None:
    """One line when the checkpoint's own record shows a model that is not right: its last
    validation below 100% (or none made), or ``adder fit --verify_after_fit`` finding anything but
    a proof for this step. None when the record shows nothing wrong, or there is no record (older
    checkpoints, checkpoints from elsewhere)."""
    step = int(checkpoint.get("global_step", 0))
    verdict = _verify_verdict(path, step)
    if verdict is not None and verdict != "proved":
        return f"note: adder verify's verdict on this model (step {step}) was {verdict}, not proved; sums may be wrong"
    if VALIDATION_KEY not in checkpoint:
        return None
    record = checkpoint[VALIDATION_KEY]
    if record is None:
        return f"note: {path} was never validated (step {step}); its sums may be wrong (adder evaluate measures it)"
    share = float(record.get("val/exact_match", 0.0))
    if share < 1.0:
        return (
            f"note: {path} got {100 * share:.2f}% of its last validation's sums right (step {record.get('step')}); "
            "its sums may be wrong"
        )
    return None


def _verify_verdict(path: str | Path, step: int) -> str | None:
    """The status --verify_after_fit recorded in the run of ``path`` for a checkpoint of ``step``."""
    run_dir = run_dir_of(path)
    record_path = run_dir / VERIFY_RECORD if run_dir is not None else None
    if record_path is None or not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        return None
    return record.get("status") if isinstance(record, dict) and record.get("step") == step else None
