"""The project's callbacks, one per file: those every run gets (cli.run_callbacks) and those
its flags configure (--checkpoint, --early_stopping, --prediction_writer, --carry_probe).

Their names stay importable from here (``adder.training.callbacks.AdderCheckpoint``), as the
class paths of earlier run configs and commands spell them.
"""

from adder.training.callbacks.carry_probe import CarryProbe
from adder.training.callbacks.checkpoint import AdderCheckpoint
from adder.training.callbacks.fit_summary import FitSummary
from adder.training.callbacks.interruptible import Interruptible, interrupt_signal
from adder.training.callbacks.logger_runs import LoggerRuns
from adder.training.callbacks.prediction_writer import PredictionWriter
from adder.training.callbacks.progress_bar import PROGRESS_BAR_REFRESH_RATE, AdderProgressBar, use_step_progress_bar
from adder.training.callbacks.scalar_layout import SCALAR_LAYOUT, ScalarLayout
from adder.training.callbacks.stop_at_target import StopAtTarget
from adder.training.callbacks.validation_record import ValidationRecord

__all__ = [
    "PROGRESS_BAR_REFRESH_RATE",
    "SCALAR_LAYOUT",
    "AdderCheckpoint",
    "AdderProgressBar",
    "CarryProbe",
    "FitSummary",
    "Interruptible",
    "LoggerRuns",
    "PredictionWriter",
    "ScalarLayout",
    "StopAtTarget",
    "ValidationRecord",
    "interrupt_signal",
    "use_step_progress_bar",
]
