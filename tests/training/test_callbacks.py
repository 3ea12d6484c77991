"""StopAtTarget: stops at the target, not before min_steps, never during sanity checks."""

from types import SimpleNamespace

import pytest

from adder.training.callbacks import StopAtTarget


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
