"""Studies in Optuna's own terms: a grid point's values are its trial's params, every trial reports
its validations, and a study's pruner stops trials that trail (recorded PRUNED, runs kept)."""

from __future__ import annotations

import re
from pathlib import Path

import optuna
import pytest

from adder.__main__ import main
from adder.study.spec import SweepError, load_experiment
from tests.helpers.study import study_file, trials

pytestmark = pytest.mark.slow


def sweep(study: Path, tmp_path: Path) -> int:
    return main(["sweep", str(study), "--runs-dir", str(tmp_path / "runs"), "--docs-dir", str(tmp_path / "docs")])


def test_grid_points_are_trial_params_with_learning_curves(tmp_path: Path) -> None:
    grid = {"optimizer.lr": [0.01, 0.003], "model.cell": ["rnn", "gru"]}
    study = study_file(tmp_path, "grid", grid=grid, seeds=[0, 1])
    assert sweep(study, tmp_path) == 0
    done = trials(tmp_path / "runs", "grid")
    assert len(done) == 8 and all(t.state == optuna.trial.TrialState.COMPLETE for t in done)
    assert sorted((t.params["optimizer.lr"], t.params["model.cell"], t.params["seed"]) for t in done) == sorted(
        (lr, cell, seed) for lr in grid["optimizer.lr"] for cell in grid["model.cell"] for seed in (0, 1)
    )
    distribution = done[0].distributions["model.cell"]
    assert isinstance(distribution, optuna.distributions.CategoricalDistribution)
    assert distribution.choices == ("rnn", "gru")
    assert all(sorted(t.intermediate_values) == [3, 6] for t in done)  # val/exact_match at each validation
    frame = optuna.load_study(
        study_name="grid",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(tmp_path / "runs" / "grid.journal"))
        ),
    ).trials_dataframe()
    assert {"params_optimizer.lr", "params_model.cell", "params_seed"} <= set(frame.columns)


def test_a_pruner_stops_trailing_trials_and_keeps_their_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first trial learns (lr 0.01); the rest cannot (lr ~0): the median pruner stops them at
    # their first validation after its warm-up.
    points = [{"label": "good", "optimizer.lr": 0.01}] + [
        {"label": f"frozen{k}", "optimizer.lr": 1e-9} for k in range(3)
    ]
    args = {"trainer.max_steps": 24, "trainer.val_check_interval": 4, "data.val_size": 40}
    pruner = {"median": {"n_startup_trials": 1, "n_warmup_steps": 4}}
    study = study_file(tmp_path, "pruned", points=points, pruner=pruner, args={**_tiny(), **args})
    assert sweep(study, tmp_path) == 0
    by_point = {t.user_attrs["point"]: t for t in trials(tmp_path / "runs", "pruned")}
    assert by_point["good"].state == optuna.trial.TrialState.COMPLETE
    stopped = [t for t in by_point.values() if t.state == optuna.trial.TrialState.PRUNED]
    assert stopped, {p: t.state for p, t in by_point.items()}
    for trial in stopped:
        step = trial.user_attrs["pruned_at"]
        assert 4 <= step < 24 and max(trial.intermediate_values) == step
        run = tmp_path / "runs" / "pruned" / trial.user_attrs["point"] / "seed0"
        assert (run / "checkpoints" / "last.ckpt").is_file()  # its run is kept
    assert f"{len(stopped)} pruned" in capsys.readouterr().out
    report = (tmp_path / "docs" / "pruned.md").read_text()
    assert "pruner (median) stopped" in report


def _tiny() -> dict:
    from tests.helpers.study import TINY

    return dict(TINY)


@pytest.mark.parametrize(
    ("pruner", "message"),
    [
        ("never", "not one of"),
        ({"median": {"n_warmup_steps": -1}}, "pruner median"),
        ([1], "pruner must be a name or {name: {arguments}}, got [1]"),
    ],
)
def test_a_bad_pruner_is_refused(tmp_path: Path, pruner: object, message: str) -> None:
    study = study_file(tmp_path, "bad", grid={"optimizer.lr": [0.01]}, pruner=pruner)
    with pytest.raises(SweepError, match=re.escape(message)):
        load_experiment(study)
