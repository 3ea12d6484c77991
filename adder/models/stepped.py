"""The recurrence of ``nn.RNN``/``LSTM``/``GRU`` stepped one position at a time, in Python.

The fused kernels cannot change a gate's squashing or touch the state between two positions, so
this loop runs the same parameters (the same ``state_dict``) when a model needs either: hard gates,
which can be exactly 0 or 1 and so hold a carry unchanged along any run of digits, or training
noise added to the state after every position. With sigmoid gates and no noise it computes what
the fused module does (up to float rounding).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from adder.models.config import Gates

State = Tensor | tuple[Tensor, Tensor]


def hard_sigmoid(x: Tensor) -> Tensor:
    """The Neural GPU's cut-off sigmoid (Kaiser & Sutskever 2016): ``1.2 sigmoid(x) - 0.1`` clipped
    to [0, 1]. Exactly 0 below x = -ln 11 and exactly 1 above ln 11, sigmoid-like between."""
    return (1.2 * torch.sigmoid(x) - 0.1).clamp(0.0, 1.0)


def gate_function(gates: Gates) -> Callable[[Tensor], Tensor]:
    return hard_sigmoid if gates == "hard" else torch.sigmoid


def run_stepped(
    rnn: nn.RNNBase,
    inputs: Tensor,
    state: State | None = None,
    gates: Gates = "sigmoid",
    step_noise: float = 0.0,
    generator: torch.Generator | None = None,
    all_layers: bool = False,
) -> tuple[Tensor | list[Tensor], State]:
    """What ``rnn(inputs, state)`` returns (``batch_first`` inputs (batch, length, features)), computed
    a position at a time with ``gates`` squashing the gates and Gaussian noise of std ``step_noise``
    added to each layer's state after every position. ``all_layers``: return every layer's outputs
    (a list of (batch, length, hidden)) instead of the top layer's."""
    if rnn.mode not in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU"):
        raise ValueError(f"cannot step a {rnn.mode} recurrence")
    lstm = rnn.mode == "LSTM"
    batch, hidden = inputs.shape[0], rnn.hidden_size
    if state is None:
        zeros = inputs.new_zeros(rnn.num_layers, batch, hidden)
        state = (zeros, zeros) if lstm else zeros
    h0, c0 = state if lstm else (state, None)
    outputs, last_h, last_c = [], [], []
    sigma = gate_function(gates)
    for layer in range(rnn.num_layers):
        weights = [getattr(rnn, f"{name}_l{layer}") if rnn.bias or "weight" in name else None for name in _NAMES]
        w_ih, w_hh, b_ih, b_hh = weights
        drive = nn.functional.linear(inputs, w_ih, b_ih)  # (batch, length, gates x hidden): all positions at once
        h, c = h0[layer], (c0[layer] if lstm else None)
        steps = []
        for t in range(inputs.shape[1]):
            recurrent = nn.functional.linear(h, w_hh, b_hh)
            if rnn.mode == "GRU":
                x_r, x_z, x_n = drive[:, t].chunk(3, -1)
                h_r, h_z, h_n = recurrent.chunk(3, -1)
                reset, update = sigma(x_r + h_r), sigma(x_z + h_z)
                h = torch.lerp(torch.tanh(x_n + reset * h_n), h, update)  # (1 - z) n + z h
            elif lstm:
                x_i, x_f, x_g, x_o = (drive[:, t] + recurrent).chunk(4, -1)
                c = sigma(x_f) * c + sigma(x_i) * torch.tanh(x_g)
                h = sigma(x_o) * torch.tanh(c)
            else:
                pre = drive[:, t] + recurrent
                h = torch.relu(pre) if rnn.mode == "RNN_RELU" else torch.tanh(pre)
            if step_noise:
                h = h + step_noise * torch.randn(h.shape, generator=generator, device=h.device)
                if lstm:
                    c = c + step_noise * torch.randn(c.shape, generator=generator, device=c.device)
            steps.append(h)
        inputs = torch.stack(steps, 1)  # (batch, length, hidden): the next layer's input
        outputs.append(inputs)
        last_h.append(h)
        last_c.append(c)
    final = (torch.stack(last_h), torch.stack(last_c)) if lstm else torch.stack(last_h)
    return (outputs if all_layers else outputs[-1]), final


_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
