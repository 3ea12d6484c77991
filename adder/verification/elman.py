"""An Elman RNN adder as plain float64 matrices, with bounds on the float32 rounding of ``add``.

The verifier reasons about the network ``adder add`` runs: a :class:`RecurrentAdder` with
``cell="rnn"`` evaluated in float32 from the zero state. Its weights are float32 numbers, exact in
float64, so the only gap between the network and these matrices is float32 rounding, bounded here
per neuron (:mod:`adder.verification.rounding`). Only networks ``accepted`` admits are built:
tanh cells, finite weights, no float32 overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from adder.models import Adder, RecurrentAdder
from adder.verification.accepted import UnsupportedModel, check_finite, check_modelled, check_no_overflow
from adder.verification.rounding import SQUASH_ERROR, sum_error
from adder.verification.zonotope import Zonotope

#: What a float32 tanh may be off by (absolute).
TANH_ERROR = SQUASH_ERROR


@dataclass
class ElmanAdder:
    """``h_l' = tanh(W_ih_l x_l + W_hh_l h_l + bias_l)`` per layer, ``x_1`` the digit pair's code,
    ``x_l = h_{l-1}'``; logits ``head_weight @ h_L' + head_bias``. The state is the layers' states
    side by side, (N, layers * hidden)."""

    base: int
    hidden_size: int
    pair_inputs: Tensor  # (base, base, hidden): W_ih_1 x + bias_1 for digit pair (a, b)
    input_weights: list[Tensor]  # layers 2..L: (hidden, hidden)
    recurrent_weights: list[Tensor]  # (hidden, hidden) per layer
    biases: list[Tensor]  # layers 2..L: (hidden,)
    head_weight: Tensor  # (base, hidden)
    head_bias: Tensor  # (base,)
    pre_error: list[Tensor]  # per layer (hidden,): float32 rounding of the pre-activation
    logit_error: Tensor  # (base,): float32 rounding of each logit

    @property
    def num_layers(self) -> int:
        return len(self.recurrent_weights)

    @property
    def state_size(self) -> int:
        return self.num_layers * self.hidden_size

    @staticmethod
    def from_model(model: Adder) -> ElmanAdder:
        """The model's matrices; refuses (UnsupportedModel) any model this analysis does not model."""
        if not isinstance(model, RecurrentAdder) or model.cell != "rnn":
            raise UnsupportedModel(f"this analysis is for the Elman RNN (cell rnn), not {model.config.cell}")
        check_modelled(model.config)
        check_finite(model)
        rnn = model.rnn
        if rnn.mode != "RNN_TANH" or rnn.bidirectional or rnn.proj_size:
            raise UnsupportedModel(f"adder verify models a one-way tanh RNN; this one is {rnn}")
        base, hidden = model.base, model.config.hidden_size
        codes = pair_codes(model)  # (base^2, 2F)
        weight = lambda name: getattr(rnn, name).detach().double()  # noqa: E731
        layers = range(model.config.num_layers)
        w_ih = [weight(f"weight_ih_l{k}") for k in layers]
        w_hh = [weight(f"weight_hh_l{k}") for k in layers]
        bias_ih = [weight(f"bias_ih_l{k}") if rnn.bias else torch.zeros(hidden, dtype=torch.float64) for k in layers]
        bias_hh = [weight(f"bias_hh_l{k}") if rnn.bias else torch.zeros(hidden, dtype=torch.float64) for k in layers]
        pair_inputs = (codes @ w_ih[0].T + bias_ih[0] + bias_hh[0]).reshape(base, base, hidden)
        pre_error = []
        for k in layers:
            # Per neuron: the input's terms (a lower layer's state lies within [-1, 1]), the state's, two biases.
            inputs = (codes.abs() @ w_ih[0].abs().T).max(0).values if k == 0 else w_ih[k].abs().sum(1)
            magnitude = inputs + w_hh[k].abs().sum(1) + bias_ih[k].abs() + bias_hh[k].abs()
            check_no_overflow(f"layer {k} pre-activation", magnitude)
            pre_error.append(sum_error((codes.shape[1] if k == 0 else hidden) + hidden + 2, magnitude))
        head_w, head_b = model.head.weight.detach().double(), model.head.bias.detach().double()
        logit_magnitude = head_w.abs().sum(1) + head_b.abs()
        check_no_overflow("logit", logit_magnitude)
        logit_error = sum_error(hidden + 1, logit_magnitude)
        biases = [bias_ih[k] + bias_hh[k] for k in layers][1:]
        return ElmanAdder(base, hidden, pair_inputs, w_ih[1:], w_hh, biases, head_w, head_b, pre_error, logit_error)

    # ------------------------------------------------------------------ concrete states
    def step(self, state: Tensor, a: Tensor, b: Tensor) -> Tensor:
        """States (N, D) after reading digit pairs (N,) ``a``, ``b``, in float64."""
        h, out = self.split(state), []
        below = None
        for k in range(self.num_layers):
            drive = self.pair_inputs[a, b] if k == 0 else below @ self.input_weights[k - 1].T + self.biases[k - 1]
            below = torch.tanh(drive + h[k] @ self.recurrent_weights[k].T)
            out.append(below)
        return torch.cat(out, -1)

    def logits(self, state: Tensor) -> Tensor:
        return self.split(state)[-1] @ self.head_weight.T + self.head_bias

    def split(self, state: Tensor) -> list[Tensor]:
        return list(state.split(self.hidden_size, -1))

    def zero_state(self) -> Tensor:
        return torch.zeros(1, self.state_size, dtype=torch.float64)

    # ------------------------------------------------------------------ sets of states
    def step_set(self, states: Zonotope, drive_center: Tensor, drive_radius: Tensor) -> Zonotope:
        """Zonotopes holding every float32 state the network can reach from a state in ``states``
        (N sets) by reading a digit pair whose first layer drive ``W_ih x + bias`` lies in the box
        ``drive_center[j] +- drive_radius[j]`` ((S, hidden) each): N * S sets, set ``n * S + j``
        from set n and box j."""
        hidden, branches = self.hidden_size, len(drive_center)
        for k in range(self.num_layers):
            own = slice(k * hidden, (k + 1) * hidden)
            if k == 0:  # the recurrent product once per parent, then one child per box
                pre = Zonotope(states.center[:, own], states.generators[:, :, own])
                pre = pre.linear(self.recurrent_weights[0]).repeat(branches)
                pre = pre.shift(drive_center.repeat(len(states.center), 1))
                before = drive_radius.repeat(len(states.center), 1) + self.pre_error[0]
                # The layers above keep their coordinates until their turn; with one layer, none do.
                result = states.repeat(branches) if self.num_layers > 1 else None
            else:
                below = slice((k - 1) * hidden, k * hidden)
                weight = torch.zeros(hidden, self.state_size, dtype=torch.float64)
                weight[:, below], weight[:, own] = self.input_weights[k - 1], self.recurrent_weights[k]
                pre = result.linear(weight).shift(self.biases[k - 1])
                before = self.pre_error[k]
            new = pre.tanh(before=before, after=torch.full_like(pre.center[0], TANH_ERROR))
            result = new if result is None else _replace(result, own, new)
        return result

    def logit_margins(self, states: Zonotope, digits: Tensor) -> Tensor:
        """For each set, a lower bound on ``logit[digit] - max other logit`` over the set, less
        what float32 rounding of the logits can take away; > 0 means argmax is ``digit`` everywhere."""
        top = slice((self.num_layers - 1) * self.hidden_size, self.state_size)
        return head_margins(states.coords(top), self.head_weight, self.head_bias, self.logit_error, digits)


def head_margins(last: Zonotope, weight: Tensor, bias: Tensor, error: Tensor, digits: Tensor) -> Tensor:
    """Per set of the head's inputs ``last``, a lower bound on ``logit[digit] - max other logit``
    with the logits ``weight @ x + bias``, each off by at most ``error`` (float32 rounding)."""
    diff = weight[digits].unsqueeze(1) - weight.unsqueeze(0)  # (N, base, hidden)
    centre = (last.center.unsqueeze(1) * diff).sum(-1) + bias[digits, None] - bias
    spread = torch.einsum("ngh,nbh->nbg", last.generators, diff).abs().sum(-1)
    margin = centre - spread - error[digits, None] - error
    margin[torch.arange(len(digits)), digits] = torch.inf
    return margin.min(-1).values


def _replace(states: Zonotope, coords: slice, new: Zonotope) -> Zonotope:
    """``states`` with coordinates ``coords`` replaced by ``new`` (whose generators extend
    ``states``' with fresh ones)."""
    n, g, d = states.generators.shape
    gens = torch.zeros(n, new.generators.shape[1], d, dtype=states.generators.dtype)
    gens[:, :g] = states.generators
    gens[:, :, coords] = new.generators
    center = states.center.clone()
    center[:, coords] = new.center
    return Zonotope(center, gens)


def pair_codes(model: Adder) -> Tensor:
    """The encoder's code of every digit pair (a, b), row ``a * base + b``: (base^2, 2F), float64
    (exact: the codes are float32 numbers). Refuses codes so large that a product could overflow."""
    digits = torch.arange(model.base)
    a, b = torch.meshgrid(digits, digits, indexing="ij")
    with torch.no_grad():
        codes = model.encoder(a.reshape(1, -1), b.reshape(1, -1))[0].double()
    check_no_overflow("digit code", codes.abs())
    return codes
