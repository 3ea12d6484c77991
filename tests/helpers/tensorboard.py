"""Read what a run wrote for TensorBoard, from its event files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata


def events(run_dir: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "tensors": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar tag of the run with its (step, value) points in step order, all event files
    together. The reader takes the files in name order, and a name ends in a per-process counter
    that sorts as text (.10 before .9), so a resumed run's file can be read first."""
    run = events(run_dir)
    return {
        tag: sorted(((e.step, e.value) for e in run.Scalars(tag)), key=lambda point: point[0])
        for tag in run.Tags()["scalars"]
    }


def hparams(run_dir: Path) -> dict[str, Any]:
    """The hyperparameters of the run's (last) HParams session, as Python values."""
    run = events(run_dir)
    found: dict[str, Any] = {}
    for content in run.PluginTagToContent(hparams_metadata.PLUGIN_NAME).get(
        hparams_metadata.SESSION_START_INFO_TAG, []
    ) and [run.SummaryMetadata(hparams_metadata.SESSION_START_INFO_TAG).plugin_data.content]:
        info = hparams_metadata.parse_session_start_info_plugin_data(content)
        for name, value in info.hparams.items():
            kind = value.WhichOneof("kind")
            found[name] = getattr(value, kind)
    return found
