"""StopAtTarget: stops at the target, not before min_steps, never during sanity checks."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from lightning.pytorch.callbacks import EarlyStopping

from adder.training.callbacks import StopAtTarget
from tests.helpers.scripted import fit_scripted


def fake_trainer(value: float, step: int) -> SimpleNamespace:
    return SimpleNamespace(
        sanity_checking=False,
        state=SimpleNamespace(fn="fit"),
        global_step=step,
        callback_metrics={"val/exact_match": value},
        should_stop=False,
    )


@pytest.mark.parametrize(
    ("value", "step", "target", "min_steps", "stops"),
    [
        (1.0, 100, 1.0, 0, True),  # reaching the target counts (EarlyStopping's threshold would not)
        (0.9995, 100, 1.0, 0, False),
        (1.0, 100, 1.0, 3000, False),  # too early
        (1.0, 3000, 1.0, 3000, True),
        (1.0, 100, None, 0, False),  # disabled
        (0.9, 100, 0.8, 0, True),
    ],
)
def test_stop_at_target(value: float, step: int, target: float | None, min_steps: int, stops: bool) -> None:
    trainer = fake_trainer(value, step)
    StopAtTarget(target=target, min_steps=min_steps).on_validation_end(trainer, None)
    assert trainer.should_stop is stops


def test_why_not_lightnings_early_stopping_the_target_itself_stops(tmp_path: Path) -> None:
    """why not Lightning's EarlyStopping(stopping_threshold=1.0): its threshold must be passed (>),
    and exact match cannot exceed 1.0, so it never stops at a perfect validation (it also stops on
    a metric that stopped improving, which a decaying learning rate is meant to ride out, and has
    no step before which it does not stop: StopAtTarget's min_steps)."""
    scores = [0.5, 1.0]  # validations at steps 2, 4, 6, 8: perfect from step 4 on
    early = EarlyStopping("val/exact_match", mode="max", stopping_threshold=1.0, patience=100)
    assert fit_scripted(tmp_path / "lightning", [early], scores, 8).final_step == 8
    assert fit_scripted(tmp_path / "adder", [StopAtTarget(target=1.0)], scores, 8).final_step == 4
    assert fit_scripted(tmp_path / "later", [StopAtTarget(target=1.0, min_steps=5)], scores, 8).final_step == 6
