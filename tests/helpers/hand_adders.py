"""Binary adders with weights set by hand, as checkpoints ``adder add`` and ``adder verify`` read.

Three tanh units ``u_k = tanh(K (a + b + c - k + 1/4))``, k = 1, 2, 3, the carry read as
``c = (u_2 + 1) / 2`` and the sum bit as ``u_1 - u_2 + u_3 > 0``: an exact adder, since each unit
says whether a + b + c reaches k. Variants break it on purpose.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from adder.models import MLPAdder, ModelConfig, RecurrentAdder, build_model

GAIN = 20.0
CONFIG = ModelConfig(cell="rnn", encoding="scalar", hidden_size=3, base=2, num_digits=8)


def exact_adder(thresholds: tuple[float, float, float] = (1, 2, 3)) -> RecurrentAdder:
    """The exact adder; other ``thresholds`` (k above) give one that adds some digits wrong."""
    model = build_model(CONFIG)
    with torch.no_grad():
        rnn = model.rnn
        rnn.weight_ih_l0.fill_(GAIN)
        recurrent = torch.zeros(3, 3)
        recurrent[:, 1] = GAIN / 2  # every unit reads the carry c = (u_2 + 1) / 2
        rnn.weight_hh_l0.copy_(recurrent)
        rnn.bias_ih_l0.copy_(torch.tensor([GAIN * (0.75 - k) for k in thresholds]))
        rnn.bias_hh_l0.zero_()
        model.head.weight.copy_(torch.tensor([[0.0, 0.0, 0.0], [1.0, -1.0, 1.0]]))
        model.head.bias.zero_()
    return model.eval()


def leaky_adder(delta: float = 0.002) -> RecurrentAdder:
    """The exact adder with a carry that leaks along a run of 1 + 0 pairs: there the carry unit
    follows ``u -> tanh(2 u - theta)``, just past the saddle-node bifurcation (theta*) at which
    a fixed point near 1 would hold it. With no fixed point the carry drifts slowly through the
    bottleneck, right for many positions, then falls to 0."""
    model = exact_adder()
    slope = 2.0
    fixed = math.sqrt(1 - 1 / slope)  # where tanh(slope u - theta*) touches u
    theta = slope * fixed - math.atanh(fixed) + delta
    with torch.no_grad():
        rnn = model.rnn
        rnn.weight_hh_l0[1, 1] = slope
        rnn.weight_ih_l0[1] = GAIN
        rnn.bias_ih_l0[1] = -GAIN - theta  # a + b = 1: -theta; 0: far below; 2: far above
    return model.eval()


def save(model: RecurrentAdder, path: Path) -> Path:
    """``model`` as a checkpoint of the shape Lightning writes (the weights under ``model.``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    hparams = {key: getattr(model.config, key) for key in ModelConfig.keys()}
    state = {f"model.{key}": value for key, value in model.state_dict().items()}
    torch.save({"state_dict": state, "hyper_parameters": hparams}, path)
    return path


def _with_constant_unit(model: RecurrentAdder, nonlinearity: str = "tanh") -> RecurrentAdder:
    """``model``'s weights in a network with a fourth unit that is always 1 (``tanh(GAIN)``)."""
    config = ModelConfig(**{**vars(CONFIG), "hidden_size": 4, "nonlinearity": nonlinearity})
    wider = build_model(config)
    with torch.no_grad():
        for name, value in wider.state_dict().items():
            value.zero_()
            old = model.state_dict()[name]
            value[tuple(slice(0, n) for n in old.shape)] = old
        wider.rnn.bias_ih_l0[3] = GAIN
    return wider.eval()


def overflowing_adder() -> RecurrentAdder:
    """The exact adder with finite logits so large that float32 overflows both to inf: in real
    numbers the right logit wins by 5e37, in float32 the two tie and argmax takes digit 0."""
    model = _with_constant_unit(exact_adder())
    with torch.no_grad():
        sum_bit = torch.tensor([1.0, -1.0, 1.0]) * 0.25e38  # u_1 - u_2 + u_3, scaled
        model.head.weight.copy_(
            torch.stack([torch.cat([-sum_bit, torch.tensor([1e38])]), torch.cat([sum_bit, torch.tensor([1e38])])])
        )
        model.head.bias.fill_(3e38)
    return model


def infinite_adder() -> RecurrentAdder:
    """The exact adder whose logits both read the constant unit with weight inf: float32 makes
    both logits inf (a tie, so digit 0); a real-number analysis sees inf - inf = NaN margins."""
    model = _with_constant_unit(exact_adder())
    with torch.no_grad():
        model.head.weight[:, 3] = torch.inf
    return model


def relu_adder() -> RecurrentAdder:
    """The exact adder's weights in a ReLU Elman cell (``nonlinearity: relu``): the same numbers,
    another network, which adds wrong (a tanh-only analysis would prove the tanh one)."""
    model = build_model(ModelConfig(**{**vars(CONFIG), "nonlinearity": "relu"}))
    model.load_state_dict(exact_adder().state_dict())
    return model.eval()


def one_bit_mlp(carry_threshold: float = 0.5) -> MLPAdder:
    """A ReLU MLP that adds two 1-bit numbers: ``s = relu(a + b)``, ``c = relu(a + b - 1)``, the sum
    bit ``s - 2c > 1/2`` and the carry ``c > carry_threshold`` (above 1: never a carry, wrong on
    1 + 1; just below 1: right, by a margin float32 rounding could close)."""
    model = build_model(ModelConfig(cell="mlp", encoding="onehot", hidden_size=2, num_layers=1, base=2, num_digits=1))
    first, last = model.net[0], model.net[2]
    with torch.no_grad():
        for layer in (first, last):
            layer.weight.zero_()
            layer.bias.zero_()
        first.weight[:, [1, 3]] = 1.0  # inputs: position 0's one-hot a (0, 1) and b (2, 3)
        first.bias[1] = -1.0
        last.weight[1] = torch.tensor([1.0, -2.0])  # position 0, digit 1
        last.bias[1] = -0.5
        last.weight[3, 1] = 1.0  # position 1 (the final carry), digit 1
        last.bias[3] = -carry_threshold
    return model.eval()
