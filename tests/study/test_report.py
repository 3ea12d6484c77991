"""adder.study.report: summaries over seeds, the link to a study file and a search's plots, without running a study."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml

from adder.config_files import EXPERIMENT_DIR
from adder.study.report import study_link, summary, write_report
from adder.study.spec import load_experiment


def test_a_summary_is_the_mean_and_the_range_over_seeds() -> None:
    assert summary([]) == "—"
    assert summary([0.5], scale=100, unit="%") == "50.00%"
    assert summary([0.5, 1.0, 0.75], scale=100, digits=1) == "75.0 (50.0-100.0)"


def test_a_shipped_study_is_linked_from_docs_experiments() -> None:
    experiment = load_experiment(EXPERIMENT_DIR / "hidden_size.yaml")
    assert study_link(experiment) == "../../configs/experiments/hidden_size.yaml"


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
