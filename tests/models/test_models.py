"""Backbone shapes, chunked evaluation and parameter counts."""

import dataclasses
import inspect

import pytest
import torch

from adder.models import MLPAdder, ModelConfig, RecurrentAdder, build_model, count_parameters, network_from_spec


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("encoding", ["embedding", "onehot", "scalar"])
def test_recurrent_shapes(cell: str, encoding: str) -> None:
    model = build_model(ModelConfig(cell, encoding, input_size=8, hidden_size=16, num_layers=2, base=7))
    a = torch.randint(0, 7, (5, 11))
    b = torch.randint(0, 7, (5, 11))
    logits, state = model(a, b)
    assert logits.shape == (5, 11, 7)
    assert model.predict(a, b).shape == (5, 11)
    hidden = state[0] if cell == "lstm" else state
    assert hidden.shape == (2, 5, 16)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_chunked_prediction_equals_whole_prediction(cell: str) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(cell, hidden_size=12, base=10))
    a = torch.randint(0, 10, (3, 103))
    b = torch.randint(0, 10, (3, 103))
    whole_logits, _ = model(a, b)
    chunked = model.predict(a, b, chunk_size=10)
    assert torch.equal(chunked, whole_logits.argmax(-1))


def test_mlp_shapes_and_fixed_length() -> None:
    model = build_model(ModelConfig("mlp", num_digits=3, hidden_size=32, num_layers=2, base=10))
    a = torch.randint(0, 10, (6, 4))
    logits, state = model(a, a)
    assert logits.shape == (6, 4, 10) and state is None
    with pytest.raises(ValueError, match="exactly 3 digits"):
        model(torch.zeros(1, 5, dtype=torch.long), torch.zeros(1, 5, dtype=torch.long))


def test_blog_parameter_budgets() -> None:
    # The blog post's 3-digit models: raw digit values in, an Elman layer of 21 -> 745 weights,
    # and an MLP 6 -> 20 -> 30 -> 770 weights.
    rnn = build_model(ModelConfig("rnn", "scalar", hidden_size=21, num_layers=1, base=10))
    mlp = build_model(ModelConfig("mlp", "scalar", hidden_size=20, num_layers=1, base=10, num_digits=2))
    assert count_parameters(rnn) == 745
    assert count_parameters(mlp) == 770


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell": "transformer"}, "unknown cell"),
        ({"encoding": "binary"}, "unknown encoding"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"num_layers": -1}, "num_layers"),
        ({"input_size": 0}, "input_size"),
        ({"base": 37}, "base"),
    ],
)
def test_bad_model_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_model(ModelConfig(**kwargs))


def test_a_model_says_what_it_is() -> None:
    rnn, mlp = build_model(ModelConfig("lstm", num_digits=4)), build_model(ModelConfig("mlp", num_digits=4))
    assert isinstance(rnn, RecurrentAdder) and rnn.config.recurrent and rnn.config.fixed_num_digits is None
    assert isinstance(mlp, MLPAdder) and not mlp.config.recurrent and mlp.config.fixed_num_digits == 4


@pytest.mark.parametrize("cls", [RecurrentAdder, MLPAdder])
def test_a_networks_arguments_are_its_config(cls: type) -> None:
    # A network's init arguments are ModelConfig's fields with ModelConfig's defaults: one source.
    parameters = inspect.signature(cls).parameters
    for field in dataclasses.fields(ModelConfig):
        if field.name in parameters and field.name != "cell":
            assert parameters[field.name].default == field.default, field.name
    net = cls(hidden_size=5, num_digits=3)
    assert net.config.hidden_size == 5 and network_from_spec(net.spec()).config == net.config


def test_only_adder_networks_are_built_from_a_spec() -> None:
    for path in ("os.system", "adder.models.config.ModelConfig", "adder.models.Missing"):
        with pytest.raises(ValueError):
            network_from_spec({"class_path": path, "init_args": {}})
    with pytest.raises(ValueError, match="unexpected keyword"):
        network_from_spec({"class_path": "adder.models.MLPAdder", "init_args": {"cell": "rnn"}})


def test_a_stateful_network_owns_its_initial_state() -> None:
    lstm, gru = RecurrentAdder("lstm", hidden_size=3, num_layers=2), RecurrentAdder("gru", hidden_size=3)
    h, c = lstm.initial_state(4, torch.device("cpu"))
    assert h.shape == c.shape == (2, 4, 3) and not h.any() and h is not c
    assert gru.initial_state(4, torch.device("cpu")).shape == (1, 4, 3)
    assert RecurrentAdder(nonlinearity="relu").state_floor == 0.0 and gru.state_floor == -1.0
    assert not MLPAdder().has_state and MLPAdder().fixed_length and gru.has_state
