"""Flags and argument types the inference and study commands share."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adder.errors import InputError
from adder.models import DEFAULT_CHUNK_SIZE, Adder
from adder.models.checkpoints import adder_from, doubts, load_checkpoint, newest_last_checkpoint


def plain_text(docstring: str | None) -> str:
    """A module docstring as --help shows it: reStructuredText's ``code`` marks taken out."""
    return (docstring or "").replace("``", "")


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return _int_at_least(text, 0, "an integer >= 0")


def _int_at_least(text: str, lowest: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < lowest:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
    return value


def add_ckpt_argument(parser: argparse.ArgumentParser) -> None:
    """--ckpt, as every command that reads a trained model takes it."""
    parser.add_argument(
        "--ckpt", help="checkpoint file (default: the newest lightning_logs/*/checkpoints/last.ckpt here)"
    )


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """--ckpt and --chunk-size, as ``add`` and ``evaluate`` both take them."""
    add_ckpt_argument(parser)
    parser.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help=f"positions per recurrent chunk; bounds memory on long numbers (default: {DEFAULT_CHUNK_SIZE})",
    )


def checkpoint_to_use(ckpt: str | None) -> Path:
    """``--ckpt`` if given, else the newest run's last checkpoint (named on stderr)."""
    path, note = _checkpoint_and_note(ckpt)
    say(note)
    return path


def _checkpoint_and_note(ckpt: str | None) -> tuple[Path, str | None]:
    if ckpt is not None:
        return Path(ckpt), None
    newest = newest_last_checkpoint()
    return newest, f"using {newest} (the newest run's last checkpoint; --ckpt picks another)"


def model_to_use(ckpt: str | None) -> tuple[Adder, Path, list[str]]:
    """The adder in ``--ckpt`` (or the newest run's), its file, and the lines to say about it: which
    checkpoint was found, and a note when the checkpoint's own record shows a model that is not
    right (a wrong sum prints like a right one, so the user must hear it). The caller says them
    once the rest of its input is checked: bad input is one ``error:`` line alone."""
    path, found = _checkpoint_and_note(ckpt)
    checkpoint = load_checkpoint(path)
    notes = [found, doubts(checkpoint, path)]
    return adder_from(checkpoint, path), path, [note for note in notes if note is not None]


def say(*notes: str | None) -> None:
    """Print each note on stderr (None: nothing)."""
    for note in notes:
        if note is not None:
            print(note, file=sys.stderr)


def chunk_size_for(model: Adder, chunk_size: int | None) -> int:
    """The chunk size to predict with; refuses one given for a model that reads whole numbers at once."""
    if chunk_size is None:
        return DEFAULT_CHUNK_SIZE
    if not model.config.recurrent:
        raise InputError("--chunk-size applies to recurrent models; this one reads whole numbers at once")
    return chunk_size
