"""The callbacks the CLI adds to every run, one per file.

Their names stay importable from here (``adder.training.callbacks.AdderCheckpoint``), as the
class paths of earlier run configs and commands spell them.
"""

from adder.training.callbacks.carry_probe import CarryProbe
from adder.training.callbacks.checkpoint import AdderCheckpoint
from adder.training.callbacks.interruptible import Interruptible, interrupt_signal
from adder.training.callbacks.prediction_writer import PredictionWriter
from adder.training.callbacks.progress_bar import PROGRESS_BAR_REFRESH_RATE, AdderProgressBar, use_step_progress_bar
from adder.training.callbacks.scalar_layout import SCALAR_LAYOUT, ScalarLayout
from adder.training.callbacks.stop_at_target import StopAtTarget

__all__ = [
    "PROGRESS_BAR_REFRESH_RATE",
    "SCALAR_LAYOUT",
    "AdderCheckpoint",
    "AdderProgressBar",
    "CarryProbe",
    "Interruptible",
    "PredictionWriter",
    "ScalarLayout",
    "StopAtTarget",
    "interrupt_signal",
    "use_step_progress_bar",
]
