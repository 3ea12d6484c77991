"""AdderProgressBar beside Lightning's TQDMProgressBar: what it shows that Lightning's does not
(each test's docstring says why); the one bar over a test's suites is test_console's."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from adder.training.callbacks import AdderProgressBar
from tests.helpers.scripted import RaiseAtStep, ScriptedModule, fit_scripted


def test_why_not_lightnings_bar_metrics_the_loss_without_a_device_read_every_step(tmp_path: Path) -> None:
    """why not Lightning's TQDMProgressBar.get_metrics: it shows the metrics logged with
    prog_bar=True, which Lightning reads back from the device at the end of every training step
    (on a GPU the CPU then waits for it each step), and the logger's version (v_num). AdderModule
    keeps its loss as a float read on logging steps only (progress_bar_values), and this bar shows
    that instead, without v_num (the run is printed when fit ends)."""
    module = ScriptedModule([0.5])
    module.progress_bar_values = {"train/loss": 0.25}
    trainer = L.Trainer(default_root_dir=tmp_path, logger=CSVLogger(tmp_path))
    shown = TQDMProgressBar().get_metrics(trainer, module)
    assert "v_num" in shown and "train/loss" not in shown
    assert AdderProgressBar().get_metrics(trainer, module) == {"train/loss": 0.25}


@pytest.mark.parametrize("bar_class", [TQDMProgressBar, AdderProgressBar])
def test_why_not_lightnings_bar_steps_of_an_endless_stream(tmp_path: Path, bar_class: type) -> None:
    """why not Lightning's TQDMProgressBar: on a training loader without a length (the endless
    stream) it counts the batches of an "Epoch 0" that never ends against the optimizer steps
    left, which differ once a step takes several batches (--trainer.accumulate_grad_batches);
    AdderProgressBar counts optimizer steps up to max_steps ("step 6/6"), on a resumed fit from
    the step it resumed at (test_run_dirs)."""
    bar = bar_class(refresh_rate=1)
    fit_scripted(tmp_path, [bar], [0.5], max_steps=6, progress_bar=True, accumulate_grad_batches=2)
    train = bar.train_progress_bar
    if bar_class is TQDMProgressBar:
        assert (train.total, train.n) == (6, 12) and train.desc.startswith("Epoch 0")
    else:
        assert (train.total, train.n) == (6, 6) and train.desc.startswith("step")


@pytest.mark.parametrize("bar_class", [TQDMProgressBar, AdderProgressBar])
def test_why_not_lightnings_bar_an_error_closes_the_bar(tmp_path: Path, bar_class: type) -> None:
    """why not Lightning's TQDMProgressBar: an error that stops fit (a NaN loss) leaves its bar's
    line unfinished, and the error line printed next runs on after it; AdderProgressBar closes its
    bars on an exception."""
    bar = bar_class(refresh_rate=1)
    with pytest.raises(RuntimeError):
        fit_scripted(tmp_path, [bar, RaiseAtStep(3, RuntimeError("nan"))], [0.5], progress_bar=True)
    assert bar.train_progress_bar.disable is (bar_class is AdderProgressBar)  # tqdm's close() disables it
