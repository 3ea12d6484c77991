"""adder.study.spec: study files read from YAML, checked before anything runs (no training here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from adder import config_files
from adder.config_files import STUDY_DIR
from adder.study.runs import config_args
from adder.study.spec import SweepError, load_experiment, metric_value
from adder.training.api import command_line
from tests.helpers.study import study_file

EXPERIMENTS = sorted(STUDY_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiments_load(path: Path) -> None:
    experiment = load_experiment(path)
    assert experiment.name == path.stem
    assert (experiment.points or experiment.search) and experiment.quick  # every study has a smoke-test budget
    assert set(experiment.reference) <= {p.label for p in experiment.points}


def test_grid_expands_to_one_point_per_value(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: x\ngrid: {model.hidden_size: [8, 16], model.cell: [rnn, gru]}\n")
    labels = [p.label for p in load_experiment(path).points]
    assert labels == [
        "hidden_size=8, cell=rnn",
        "hidden_size=8, cell=gru",
        "hidden_size=16, cell=rnn",
        "hidden_size=16, cell=gru",
    ]


@pytest.mark.parametrize("text", ["grid: {}", "name: x", "name: x\ngrid: {a: [1]}\nbogus: 1", "name: [x"])
def test_bad_experiment_files(text: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SweepError):
        load_experiment(path)


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ([{"model.depth": 2}], "search.start sets model.depth, which is not in search.params"),
        ([{"model.hidden_size": 99}], "search.start's model.hidden_size: 99 is outside"),
        ([{"model.cell": "transformer"}], "search.start's model.cell: 'transformer' is outside"),
        ({"model.cell": "rnn"}, "search.start must be a list"),
    ],
)
def test_a_start_point_outside_the_search_is_refused(tmp_path: Path, start: object, message: str) -> None:
    search: dict[str, object] = {
        "trials": 2,
        "params": {"model.hidden_size": {"low": 4, "high": 12}, "model.cell": ["rnn", "gru"]},
        "objectives": [{"minimize": "num_parameters"}],
        "start": start,
    }
    with pytest.raises(SweepError, match=re.escape(message)):
        load_experiment(study_file(tmp_path, "bad_start", search=search))
    search["begin"] = search.pop("start")  # a misspelt key is refused, not ignored
    with pytest.raises(SweepError, match=re.escape("unknown key 'begin' in search (known: params, trials,")):
        load_experiment(study_file(tmp_path, "bad_start", search=search))


def test_shipped_smallest_adder_study_is_a_constrained_search() -> None:
    study = load_experiment("smallest_adder")
    assert study.search is not None and study.search.objectives == [("minimize", "num_parameters")]
    assert {pattern for pattern, _, _ in study.search.constraints} == {
        "test/exact_match/random/1000",
        "test/exact_match/carry/1000",
        "test/exact_match/edge/1000",
    }
    assert study.search.params["model.cell"] == ["rnn", "lstm", "gru"]
    # It starts from the shipped smallest adder, on that config's recipe.
    assert study.config == "smallest"
    smallest = yaml.safe_load(Path(config_files.resolve("smallest")).read_text())
    net = smallest["model"]["net"]["init_args"]
    assert study.search.start[0] == {
        "model.cell": "rnn",
        "model.hidden_size": net["hidden_size"],
        "model.input_size": net["input_size"],
        "optimizer.lr": smallest["optimizer"]["init_args"]["lr"],
        "model.encoding": "embedding",
        "model.carry_hint": 0.0,
        "trainer.max_steps": smallest["trainer"]["max_steps"],
        "data.block_batches": None,
    }
    # ... and tries the smallest one-hot adder: each of that config's settings the space names.
    onehot = yaml.safe_load(Path(config_files.resolve("smallest_onehot")).read_text())
    net = onehot["model"]["net"]["init_args"]
    (hint,) = [o["init_args"]["weight"] for o in onehot["model"]["objectives"] if o["class_path"].endswith("CarryHint")]
    assert {
        "model.cell": "rnn",
        "model.hidden_size": net["hidden_size"],
        "model.encoding": net["encoding"],
        "model.carry_hint": hint,
        "optimizer.lr": onehot["optimizer"]["init_args"]["lr"],
        "trainer.max_steps": onehot["trainer"]["max_steps"],
        "data.block_batches": onehot["data"]["block_batches"],
    }.items() <= study.search.start[-1].items()
    # Every start lies in the space: categorical choices among the choices, ranges within bounds.
    for start in study.search.start:
        assert start.keys() == study.search.params.keys()
        for key, value in start.items():
            space = study.search.params[key]
            assert value in space if isinstance(space, list) else space["low"] <= value <= space["high"]


def test_flags_become_a_command_line_and_metrics_are_found_by_pattern() -> None:
    assert command_line({"model.hidden_size": 8, "early_stopping.target": None, "data.test_lengths": [3, 30]}) == [
        "--model.hidden_size",
        "8",
        "--early_stopping.target",
        "null",
        "--data.test_lengths",
        "[3, 30]",
    ]
    record = {"metrics": {"test/exact_match/random/10": 0.5, "test/exact_match/carry/10": 1.0}, "num_parameters": 7}
    assert metric_value(record, "test/exact_match/carry/10") == 1.0
    assert metric_value(record, "num_parameters") == 7
    assert metric_value(record, "test/exact_match/edge/10") is None


def test_a_point_trains_on_its_own_config_after_the_study_s(tmp_path: Path) -> None:
    path = study_file(
        tmp_path, "own", config="binary", points=[{"label": "G", "config": "gru", "model.hidden_size": 8}]
    )
    experiment = load_experiment(path)
    configs, flags = config_args(experiment, experiment.flags(experiment.points[0], quick=False))
    assert configs == ["binary", "gru"]  # the point's config wins over the study's
    assert "config" not in flags and flags["model.hidden_size"] == 8  # flags come after both
    bad = study_file(tmp_path, "bad", points=[{"label": "X", "config": "no_such_recipe"}])
    with pytest.raises(SweepError, match="point X's config 'no_such_recipe'"):
        load_experiment(bad)


@pytest.mark.parametrize("columns", ["test/exact_match/*/10", [3], [""]])
def test_columns_are_a_list_of_metric_names(tmp_path: Path, columns: object) -> None:
    with pytest.raises(SweepError, match=re.escape("columns must be a list of metric names (with * for any part)")):
        load_experiment(study_file(tmp_path, "cols", grid={"model.hidden_size": [8]}, columns=columns))


def test_a_misspelt_key_is_refused_naming_the_key_and_the_file(tmp_path: Path) -> None:
    path = study_file(tmp_path, "typo", grid={"model.hidden_size": [8]}, sedes=[0, 1])
    with pytest.raises(SweepError) as raised:
        load_experiment(path)
    assert str(raised.value) == f"{path}: unknown key 'sedes' (did you mean 'seeds'?)"
    path = study_file(tmp_path, "typo", search={"params": {"model.hidden_size": {"low": 4, "hihg": 8}}, "trials": 2})
    with pytest.raises(SweepError, match=re.escape("unknown key 'hihg' in search.params.model.hidden_size")):
        load_experiment(path)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"seeds": [0, "one"]}, "seeds must be a list of integers >= 0, got [0, 'one']"),
        ({"seeds": [-1]}, "seeds must be a list of integers >= 0, got [-1]"),
        ({"samples": "yes"}, "samples must be true or false, got 'yes'"),
        ({"points": [{"model.hidden_size": 8}]}, "points[0] needs a label"),
        ({"grid": {"model.hidden_size": 8}}, "grid.model.hidden_size must be a list of (anything), got 8"),
        ({"title": 2}, "title must be a string or null, got 2"),
    ],
)
def test_each_value_is_checked_against_its_field_s_type(tmp_path: Path, fields: dict, message: str) -> None:
    path = study_file(tmp_path, "typed", **{"grid": {"model.hidden_size": [8]}, **fields})
    with pytest.raises(SweepError) as raised:
        load_experiment(path)
    assert str(raised.value) == f"{path}: {message}"
