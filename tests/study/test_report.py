"""adder.study.report: summaries over seeds, the link to a study file and a search's plots, without running a study."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml

from adder.config_files import STUDY_DIR
from adder.study.report import study_link, summary, write_report
from adder.study.spec import load_experiment


def test_a_summary_is_the_mean_and_the_range_over_seeds() -> None:
    assert summary([]) == "—"
    assert summary([0.5], scale=100, unit="%") == "50.00%"
    assert summary([0.5, 1.0, 0.75], scale=100, digits=1) == "75.0 (50.0-100.0)"


def test_a_shipped_study_is_linked_from_docs_experiments() -> None:
    experiment = load_experiment(STUDY_DIR / "hidden_size.yaml")
    assert study_link(experiment) == "../../configs/studies/hidden_size.yaml"


def _trial(number: int, params: dict, values: list[float]) -> optuna.trial.FrozenTrial:
    distributions = {
        "model.hidden_size": optuna.distributions.IntDistribution(4, 64),
        "optimizer.lr": optuna.distributions.FloatDistribution(1e-4, 0.1, log=True),
    }
    record = {"seed": 0, "command": f"adder fit # {number}", "metrics": {}, "curves": {}}
    trial = optuna.trial.create_trial(
        params=params,
        distributions=distributions,
        values=values,
        user_attrs={"point": f"trial-{number}", "flags": params, "records": [record]},
    )
    trial.number = number
    return trial


@pytest.mark.parametrize("objectives", [1, 2])
def test_a_search_report_draws_optuna_s_plots(tmp_path: Path, objectives: int) -> None:
    spec = {
        "name": "searched",
        "search": {
            "trials": 6,
            "params": {"model.hidden_size": {"low": 4, "high": 64}, "optimizer.lr": {"low": 1e-4, "high": 0.1}},
            "objectives": [{"maximize": "test/exact_match/random/3"}, {"minimize": "num_parameters"}][:objectives],
        },
    }
    (tmp_path / "searched.yaml").write_text(yaml.safe_dump(spec))
    experiment = load_experiment(tmp_path / "searched.yaml")
    done = [
        _trial(k, {"model.hidden_size": 4 + 10 * k, "optimizer.lr": 0.001 * (k + 1)}, [k / 6, 100.0 * k][:objectives])
        for k in range(6)
    ]
    report = write_report(experiment, done, tmp_path / "docs", "adder sweep searched").read_text()
    wanted = ["history", "importances"] + (["pareto"] if objectives == 2 else [])
    for suffix in wanted:
        png = tmp_path / "docs" / f"searched_{suffix}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({png.name})" in report
    assert (tmp_path / "docs" / "searched_pareto.png").exists() == (objectives == 2)


def test_a_grid_report_shows_each_column_s_worst_suite_per_seed(tmp_path: Path) -> None:
    spec = {
        "name": "cols",
        "points": [{"label": "A", "model.hidden_size": 8}],
        "seeds": [0, 1],
        "metric": "test/exact_match/random/10",
        "columns": ["test/exact_match/*/10"],
    }
    (tmp_path / "cols.yaml").write_text(yaml.safe_dump(spec))
    experiment = load_experiment(tmp_path / "cols.yaml")
    records = [
        {"seed": 0, "steps": 5, "fit_seconds": 3.0, "num_parameters": 99, "command": "adder fit # 0", "curves": {},
         "metrics": {"test/exact_match/random/10": 1.0, "test/exact_match/edge/10": 0.5}},
        {"seed": 1, "steps": 5, "fit_seconds": 5.0, "num_parameters": 99, "command": "adder fit # 1", "curves": {},
         "metrics": {"test/exact_match/random/10": 0.9, "test/exact_match/edge/10": 1.0}},
    ]  # fmt: skip
    trial = point_a_trial(records)
    report = write_report(experiment, [trial], tmp_path / "docs", "adder sweep cols").read_text()
    header = next(line for line in report.splitlines() if line.startswith("| point"))
    row = next(line for line in report.splitlines() if line.startswith("| A "))
    assert header.endswith("| `test/exact_match/random/10` | `test/exact_match/*/10` (worst) |")
    # fit time 4 (3-5) s; random 95.00% (90-100); worst per seed 50% and 90%: 70.00% (50.00-90.00)
    assert row.endswith("| 4 (3-5) | 95.00% (90.00-100.00) | 70.00% (50.00-90.00) |")


def test_a_grid_report_says_how_many_seeds_verify_proved_when_its_runs_were_verified(tmp_path: Path) -> None:
    spec = {"name": "proofs", "points": [{"label": "A", "model.hidden_size": 8}], "seeds": [0, 1]}
    spec["metric"] = "test/exact_match/random/10"
    (tmp_path / "proofs.yaml").write_text(yaml.safe_dump(spec))
    experiment = load_experiment(tmp_path / "proofs.yaml")
    base = {"steps": 5, "fit_seconds": 3.0, "num_parameters": 99, "curves": {}, "metrics": {}}
    records = [
        {**base, "seed": 0, "command": "adder fit # 0", "verdict": "proved"},
        {**base, "seed": 1, "command": "adder fit # 1", "verdict": "undecided"},
    ]
    trial = point_a_trial(records)
    report = write_report(experiment, [trial], tmp_path / "docs", "adder sweep proofs").read_text()
    header = next(line for line in report.splitlines() if line.startswith("| point"))
    row = next(line for line in report.splitlines() if line.startswith("| A "))
    assert header.endswith("| proved |") and row.endswith("| 1/2 (undecided) |")
    # Runs without a verdict (no verify_after_fit in the study's args): no such column.
    for record in records:
        del record["verdict"]
    report = write_report(experiment, [trial], tmp_path / "docs", "adder sweep proofs").read_text()
    assert "proved" not in next(line for line in report.splitlines() if line.startswith("| point"))


def point_a_trial(records: list[dict[str, object]]) -> optuna.trial.FrozenTrial:
    """A finished trial of point "A" over seeds 0 and 1, holding ``records``."""
    return optuna.trial.create_trial(
        params={"point": "A", "seed": 0},
        distributions={
            "point": optuna.distributions.CategoricalDistribution(["A"]),
            "seed": optuna.distributions.CategoricalDistribution([0, 1]),
        },
        value=1.0,
        user_attrs={"point": "A", "records": records},
    )
