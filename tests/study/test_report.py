"""adder.study.report: summaries over seeds and the link to a study file, without running a study."""

from __future__ import annotations

from adder.config_files import EXPERIMENT_DIR
from adder.study.report import study_link, summary
from adder.study.spec import load_experiment


def test_a_summary_is_the_mean_and_the_range_over_seeds() -> None:
    assert summary([]) == "—"
    assert summary([0.5], scale=100, unit="%") == "50.00%"
    assert summary([0.5, 1.0, 0.75], scale=100, digits=1) == "75.0 (50.0-100.0)"


def test_a_shipped_study_is_linked_from_docs_experiments() -> None:
    experiment = load_experiment(EXPERIMENT_DIR / "hidden_size.yaml")
    assert study_link(experiment) == "../../configs/experiments/hidden_size.yaml"
