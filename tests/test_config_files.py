"""Shipped configs found by name from any directory; a path to an existing file is used as given."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from adder.config_files import CONFIG_DIR, LOGGER_DIR, RECIPE_DIR, STUDY_DIR, resolve, resolve_config_flags, shipped
from adder.errors import InputError
from adder.models import RecurrentAdder
from adder.training import objectives


def test_names_resolve_to_the_shipped_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert {"rnn", "lstm", "gru", "binary", "mlp", "course_report"} <= set(shipped())
    assert resolve("lstm") == str(RECIPE_DIR / "lstm.yaml") == resolve("lstm.yaml")
    assert resolve("mlflow") == str(LOGGER_DIR / "mlflow.yaml")
    assert resolve("hidden_size", (STUDY_DIR,)) == str(STUDY_DIR / "hidden_size.yaml")
    assert resolve("hidden_size") == "hidden_size"  # a study is not a config of adder fit
    assert resolve("no_such_config") == "no_such_config"  # left for the caller to report
    assert resolve("sub/lstm") == "sub/lstm"  # a path is never taken for a name


def test_a_file_of_that_name_wins_over_the_shipped_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("lstm").write_text("model: {cell: gru}\n")
    assert resolve("lstm") == "lstm"


def test_config_flags_are_resolved_in_both_spellings() -> None:
    args = ["fit", "--config", "gru", "--config=binary", "--model.cell", "lstm"]
    assert resolve_config_flags(args) == [
        "fit",
        "--config",
        str(RECIPE_DIR / "gru.yaml"),
        f"--config={RECIPE_DIR / 'binary.yaml'}",
        "--model.cell",
        "lstm",
    ]


def test_short_and_long_config_flags_resolve_alike() -> None:
    long = resolve_config_flags(["fit", "--config", "gru", "--config=lstm"])
    short = resolve_config_flags(["fit", "-c", "gru", "-c=lstm"])
    assert [arg.replace("--config", "-c") for arg in long] == short
    assert short[2] == str(RECIPE_DIR / "gru.yaml")


@pytest.mark.parametrize("flag", ["-c", "--config"])
def test_fit_takes_a_shipped_config_by_name_with_either_flag(
    flag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from adder.__main__ import main

    monkeypatch.chdir(tmp_path)  # no gru file here: the shipped config
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", flag, "gru", "--print_config"])
    assert exit_info.value.code == 0
    assert "cell: gru" in capsys.readouterr().out


def test_the_shipped_configs_live_at_the_top_of_the_checkout() -> None:
    repo = Path(__file__).resolve().parents[1]
    assert CONFIG_DIR == repo / "configs" and not (repo / "adder" / "configs").exists()


def test_a_missing_config_name_lists_the_shipped_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"no config file lsmt and no shipped config of that name \(shipped: .*lstm"):
        resolve_config_flags(["fit", "--config", "lsmt"])
    with pytest.raises(InputError, match="no config file sub/x.yaml"):
        resolve_config_flags(["fit", "-c=sub/x.yaml"])
    inline = "{trainer: {max_steps: 3}}"  # jsonargparse takes a config's YAML text too
    assert resolve_config_flags(["fit", "--config", inline]) == ["fit", "--config", inline]


def test_configs_are_in_folders_by_concern_with_unique_names() -> None:
    folders = sorted(d.name for d in CONFIG_DIR.iterdir() if d.is_dir())
    assert folders == ["loggers", "recipes", "studies"] and not list(CONFIG_DIR.glob("*.yaml"))
    names = [p.stem for folder in (RECIPE_DIR, LOGGER_DIR) for p in folder.glob("*.yaml")]
    assert len(names) == len(set(names))  # --config NAME names one file


def test_paths_of_the_flat_layout_still_name_the_moved_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # older notes and commands say configs/lstm.yaml, configs/experiments/cell.yaml
    assert resolve("configs/lstm.yaml") == str(RECIPE_DIR / "lstm.yaml")
    assert resolve("configs/experiments/cell.yaml", (STUDY_DIR,)) == str(STUDY_DIR / "cell.yaml")
    assert resolve("elsewhere/lstm.yaml") == "elsewhere/lstm.yaml"


def test_the_default_recipe_file_is_what_adder_fit_trains_with_no_config() -> None:
    recipe = yaml.safe_load((RECIPE_DIR / "rnn.yaml").read_text())["model"]
    assert recipe["net"] == {"class_path": "adder.models.RecurrentAdder", "init_args": {"cell": "rnn"}}
    listed = [
        getattr(objectives, spec["class_path"].rsplit(".", 1)[1])(**spec["init_args"]) for spec in recipe["objectives"]
    ]
    assert [o.spec() for o in listed] == [o.spec() for o in objectives.default_objectives(RecurrentAdder())]
