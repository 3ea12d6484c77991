"""The stepped recurrence: torch's cells computed a position at a time, hard gates, per-step noise."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from adder.models import ModelConfig, build_model
from adder.models.checkpoints import load_adder
from adder.models.stepped import hard_sigmoid, run_stepped
from tests.models.test_checkpoints import save_adder


@pytest.mark.parametrize(
    ("cell", "nonlinearity"), [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
)
def test_stepping_computes_what_the_fused_cell_does(cell: str, nonlinearity: str) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(cell, input_size=6, hidden_size=10, num_layers=2, nonlinearity=nonlinearity))
    inputs = model.encoder(torch.randint(0, 10, (4, 17)), torch.randint(0, 10, (4, 17)))
    start = torch.randn(2, 4, 10)
    state = (start, torch.randn(2, 4, 10)) if cell == "lstm" else start
    fused, fused_last = model.rnn(inputs, state)
    stepped, stepped_last = run_stepped(model.rnn, inputs, state)
    torch.testing.assert_close(stepped, fused)
    for mine, theirs in zip(torch.utils._pytree.tree_leaves(stepped_last), torch.utils._pytree.tree_leaves(fused_last)):
        torch.testing.assert_close(mine, theirs)


def test_stepping_returns_every_layer_on_request() -> None:
    model = build_model(ModelConfig("gru", input_size=4, hidden_size=5, num_layers=3))
    inputs = model.encoder(torch.randint(0, 10, (2, 7)), torch.randint(0, 10, (2, 7)))
    layers, _ = run_stepped(model.rnn, inputs, all_layers=True)
    assert [tuple(layer.shape) for layer in layers] == [(2, 7, 5)] * 3
    torch.testing.assert_close(layers[-1], model.rnn(inputs)[0])


def test_the_hard_sigmoid_reaches_zero_and_one_and_is_monotone() -> None:
    x = torch.linspace(-6, 6, 1001)
    y = hard_sigmoid(x)
    assert y[x < -2.4].eq(0).all() and y[x > 2.4].eq(1).all()
    assert (y.diff() >= 0).all() and 0 < float(hard_sigmoid(torch.tensor(0.0))) < 1


def test_a_saturated_hard_update_gate_holds_the_state_exactly() -> None:
    # A GRU whose update gate is pushed past the cut-off keeps its state bit for bit over any
    # number of positions; with sigmoid gates the same weights let it decay.
    torch.manual_seed(0)
    results = {}
    for gates in ("hard", "sigmoid"):
        model = build_model(ModelConfig("gru", input_size=4, hidden_size=6, gates=gates))
        with torch.no_grad():
            model.rnn.bias_hh_l0[6:12] = 10.0  # the update gate's bias (r, z, n order)
        start = torch.randn(1, 3, 6)
        with torch.no_grad():
            _, last = model.states(torch.randint(0, 10, (3, 5000)), torch.randint(0, 10, (3, 5000)), start)
        results[gates] = (last - start).abs().max().item()
    assert results["hard"] == 0.0
    assert results["sigmoid"] > 1e-3


def test_step_noise_is_drawn_from_the_generator() -> None:
    model = build_model(ModelConfig("lstm", input_size=4, hidden_size=6))
    a, b = torch.randint(0, 10, (3, 9)), torch.randint(0, 10, (3, 9))
    clean = model.states(a, b)[0]

    def noisy(seed: int) -> torch.Tensor:
        return model.states(a, b, step_noise=0.1, generator=torch.Generator().manual_seed(seed))[0]

    assert torch.equal(noisy(1), noisy(1))
    assert not torch.equal(noisy(1), noisy(2))
    assert 0.01 < (noisy(1) - clean).abs().mean() < 1.0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"cell": "rnn", "gates": "hard"}, "gates 'hard' applies to the gated cells"),
        ({"cell": "lstm", "nonlinearity": "relu"}, "nonlinearity 'relu' applies to the Elman cell"),
        ({"cell": "gru", "gates": "soft"}, "unknown gates"),
        ({"cell": "rnn", "nonlinearity": "sigmoid"}, "unknown nonlinearity"),
    ],
)
def test_options_for_another_cell_are_refused(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_model(ModelConfig(**config))


@pytest.mark.parametrize(("cell", "option"), [("gru", {"gates": "hard"}), ("rnn", {"nonlinearity": "relu"})])
def test_a_checkpoint_keeps_the_cell_options_and_loading_honours_them(tmp_path: Path, cell: str, option: dict) -> None:
    save_adder(tmp_path / "a.ckpt", cell=cell, **option)
    model = load_adder(tmp_path / "a.ckpt")
    assert model.config == ModelConfig(cell, "embedding", 4, 8, 1, 10, 3, **option)
    plain = build_model(ModelConfig(cell, "embedding", 4, 8, 1, 10, 3))
    plain.load_state_dict(model.state_dict())
    a, b = torch.randint(0, 10, (50, 30)), torch.randint(0, 10, (50, 30))
    assert not torch.allclose(model(a, b)[0], plain(a, b)[0])  # the option changes what the same weights compute
