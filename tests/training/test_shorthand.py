"""The model's flat flags of earlier versions fold into the network and objectives they set."""

from __future__ import annotations

import pytest
import yaml
from jsonargparse import Namespace

from adder.errors import InputError
from adder.models import MLPAdder, ModelConfig, RecurrentAdder
from adder.training.cli import main as cli_main
from adder.training.objectives import CarryHint, InitialStateNoise, ReplayHardest, StateSpread
from adder.training.shorthand import cell_of, flat_view, model_config_of, resolve_shorthand

RNN = {"class_path": "adder.models.RecurrentAdder", "init_args": {"cell": "rnn", "hidden_size": 64, "base": 10}}


def model(objectives: list[dict] | None = None, **flags: object) -> Namespace:
    """A parsed ``model`` section: the default network, ``objectives`` and shorthand ``flags``."""
    net = Namespace(class_path=RNN["class_path"], init_args=Namespace(**RNN["init_args"]))
    return Namespace(net=net, objectives=objectives, **flags)


def objectives_of(section: Namespace) -> list[tuple[str, dict]]:
    return [(o.class_path.rsplit(".", 1)[1], o.init_args.as_dict()) for o in section.objectives]


def test_network_flags_set_its_arguments_and_leave_the_section() -> None:
    section = model(cell="lstm", hidden_size=8, base=10, replay_hardest=None)
    resolve_shorthand(section)
    assert section.net.init_args.as_dict() == {"cell": "lstm", "hidden_size": 8, "base": 10}
    assert "cell" not in section and "hidden_size" not in section and "replay_hardest" not in section
    assert section.objectives is None  # no objective flag: the module's defaults


def test_cell_mlp_switches_the_network_and_its_state_objectives_are_refused() -> None:
    section = model(cell="mlp", state_spread=0.0)
    resolve_shorthand(section)
    assert section.net.class_path.endswith("MLPAdder") and "cell" not in section.net.init_args
    assert objectives_of(section) == [("ReplayHardest", {"share": 0.2})]  # the MLP's defaults
    assert cell_of(section) == "mlp"
    with pytest.raises(InputError, match="model.state_spread applies to recurrent cells; MLPAdder has no state"):
        resolve_shorthand(model(cell="mlp", state_spread=1.0))
    with pytest.raises(InputError, match="model.gates hard does not apply to MLPAdder"):
        resolve_shorthand(model(cell="mlp", gates="hard"))


def test_objective_flags_replace_add_and_remove_in_the_old_order() -> None:
    section = model(state_spread=3.0, replay_hardest=0.0, carry_hint=0.5)
    resolve_shorthand(section)
    assert objectives_of(section) == [  # the default RNN's objectives, less replay, then the two added
        ("InitialStateNoise", {"std": 0.3}),
        ("StepContraction", {"weight": 3.5, "std": 1.0, "steps": 256}),
        (
            "IntervalStep",
            {"weight": 0.3, "kappa": 0.5, "margin_weight": 1.0, "exact_match": 0.99, "grow": 1.0, "classes": 16},
        ),
        ("StateSpread", {"weight": 3.0}),
        ("CarryHint", {"weight": 0.5}),
    ]
    named = [{"class_path": "adder.training.objectives.StateSpread", "init_args": {"weight": 1.0}}]
    section = model(objectives=named, state_spread=2.0)
    resolve_shorthand(section)
    assert objectives_of(section) == [("StateSpread", {"weight": 2.0})]  # a config's list, its weight replaced


@pytest.mark.parametrize(("flag", "value"), [("replay_hardest", 1.5), ("state_noise", -0.5), ("carry_hint", -1.0)])
def test_bad_objective_values_name_the_flag(flag: str, value: float) -> None:
    with pytest.raises(InputError, match=f"model.{flag} {value}: "):
        resolve_shorthand(model(**{flag: value}))


def test_the_flat_view_is_the_old_flat_keys() -> None:
    net = RecurrentAdder("gru", hidden_size=8)
    view = flat_view(net, [ReplayHardest(0.1), InitialStateNoise(0.2), StateSpread(3.0), CarryHint(0.5)])
    assert view["cell"] == "gru" and view["hidden_size"] == 8 and view["base"] == 10
    assert (view["replay_hardest"], view["state_noise"], view["step_noise"]) == (0.1, 0.2, 0.0)
    assert (view["state_spread"], view["carry_hint"]) == (3.0, 0.5)
    assert flat_view(MLPAdder(), [])["cell"] == "mlp"


def test_the_model_config_of_a_section_reads_its_network_under_its_shorthand() -> None:
    section = model(hidden_size=12)
    section.net.init_args.cell = "lstm"
    assert model_config_of(section) == ModelConfig("lstm", hidden_size=12)
    mlp = Namespace(net=Namespace(class_path="adder.models.MLPAdder", init_args=Namespace(num_digits=3)))
    assert model_config_of(mlp) == ModelConfig("mlp", num_digits=3)


def test_print_config_shows_the_shorthand_folded_in(capsys: pytest.CaptureFixture[str]) -> None:
    """why not Lightning's LightningArgumentParser.dump: --print_config dumps as soon as it is
    parsed, before any hook of the CLI folds the shorthand flags into the network and objectives,
    so it would print flags that are not what runs."""
    with pytest.raises(SystemExit):
        cli_main(
            ["fit", "--config", "lstm", "--model.hidden_size", "16", "--model.state_spread", "0", "--print_config"]
        )
    printed = yaml.safe_load(capsys.readouterr().out)["model"]
    assert printed["net"]["init_args"]["cell"] == "lstm" and printed["net"]["init_args"]["hidden_size"] == 16
    assert "hidden_size" not in printed and "state_spread" not in printed
    assert [o["class_path"].rsplit(".", 1)[1] for o in printed["objectives"]] == [
        "ReplayHardest",
        "InitialStateNoise",
        "StepNoise",
    ]
