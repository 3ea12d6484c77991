"""The LSTM and GRU adders as float64 matrices, with zonotope transformers for their gates.

Torch's cells, one layer (``adder add`` runs the fused kernels, which compute the same formulas):

- LSTM: ``i, f, g, o = W_ih x + b_ih + W_hh h + b_hh`` (chunks), ``c' = s(f) c + s(i) tanh(g)``,
  ``h' = s(o) tanh(c')``; the state is ``[h, c]``.
- GRU: ``r, z = s(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z})``,
  ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``, ``h' = n + z (h - n)``.

A sigmoid is ``(1 + tanh(x / 2)) / 2``, so it takes DeepZ's tanh transformer. A product of two
gates, both views of one zonotope (moved by the same points), is linear in the points but for
``(sum_i e_i g_i)(sum_j e_j h_j)``, bounded by the product of the radii (zonotope
multiplication, as in DeepT, Bonaert et al., PLDI 2021). Float32 rounding is a box added where it
happens (:mod:`adder.verification.rounding`), so products carry the errors of their factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from adder.models import Adder, RecurrentAdder
from adder.verification.accepted import UnsupportedModel, check_finite, check_modelled, check_no_overflow
from adder.verification.elman import head_margins, pair_codes
from adder.verification.rounding import SQUASH_ERROR, UNIT_ROUNDOFF, gamma, sum_error
from adder.verification.zonotope import Zonotope

#: What the few float32 operations after the gates (products, sums of values within [-2, 2]) can
#: be off by, absolute: a generous allowance of 16 roundings of a value of size 2.
COMBINE_ERROR = 32 * UNIT_ROUNDOFF


@dataclass
class GatedAdder:
    """One layer of ``cell`` ("lstm" or "gru"): ``pair_inputs`` (base, base, gates * hidden) is
    ``W_ih x + b_ih`` (and ``+ b_hh`` for the LSTM) for digit pair (a, b)."""

    cell: str
    base: int
    hidden_size: int
    pair_inputs: Tensor
    recurrent_weight: Tensor  # (gates * hidden, hidden)
    recurrent_bias: Tensor  # (gates * hidden,): b_hh for the GRU, zero for the LSTM (in pair_inputs)
    head_weight: Tensor
    head_bias: Tensor
    pre_error: list[Tensor]  # [(gates * hidden,)]: rounding of each pre-activation
    hidden_error: Tensor  # GRU: rounding of W_hn h + b_hn, (hidden,)
    logit_error: Tensor

    @property
    def state_size(self) -> int:
        return (2 if self.cell == "lstm" else 1) * self.hidden_size

    @staticmethod
    def from_model(model: Adder) -> GatedAdder:
        if not isinstance(model, RecurrentAdder) or model.cell not in ("lstm", "gru"):
            raise UnsupportedModel(f"this analysis is for the LSTM and the GRU, not {model.config.cell}")
        check_modelled(model.config)
        check_finite(model)
        rnn = model.rnn
        if rnn.num_layers != 1 or rnn.bidirectional or getattr(rnn, "proj_size", 0) or not rnn.bias:
            raise UnsupportedModel(f"adder verify models one-layer gated cells with biases; this one is {rnn}")
        hidden, codes = model.config.hidden_size, pair_codes(model)
        weight = lambda name: getattr(rnn, name).detach().double()  # noqa: E731
        w_ih, w_hh, b_ih, b_hh = (weight(f"{name}_l0") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        lstm = model.cell == "lstm"
        inputs = codes @ w_ih.T + b_ih + (b_hh if lstm else 0)
        input_magnitude = (codes.abs() @ w_ih.abs().T).max(0).values + b_ih.abs()
        recurrent_magnitude = w_hh.abs().sum(1) + b_hh.abs()  # |h| <= 1
        check_no_overflow("gate pre-activation", input_magnitude + recurrent_magnitude)
        terms = codes.shape[1] + hidden + 2
        pre_error = sum_error(terms, input_magnitude + recurrent_magnitude)
        hidden_error = sum_error(hidden + 1, recurrent_magnitude[2 * hidden :])
        if not lstm:  # n's pre-activation: the input's terms, b_in and the product r (W_hn h + b_hn)
            n = slice(2 * hidden, 3 * hidden)
            pre_error[n] = sum_error(codes.shape[1] + 3, input_magnitude[n] + recurrent_magnitude[n])
        head_w, head_b = model.head.weight.detach().double(), model.head.bias.detach().double()
        logit_magnitude = head_w.abs().sum(1) + head_b.abs()
        check_no_overflow("logit", logit_magnitude)
        return GatedAdder(
            model.cell,
            model.base,
            hidden,
            inputs.reshape(model.base, model.base, -1),
            w_hh,
            torch.zeros_like(b_hh) if lstm else b_hh,
            head_w,
            head_b,
            [pre_error],
            hidden_error,
            sum_error(hidden + 1, logit_magnitude),
        )

    # ------------------------------------------------------------------ concrete states
    def zero_state(self) -> Tensor:
        return torch.zeros(1, self.state_size, dtype=torch.float64)

    def step(self, state: Tensor, a: Tensor, b: Tensor) -> Tensor:
        """States (N, D) after reading digit pairs (N,) ``a``, ``b``, in float64."""
        hidden = self.hidden_size
        h = state[:, :hidden]
        drive, recurrent = self.pair_inputs[a, b], h @ self.recurrent_weight.T + self.recurrent_bias
        if self.cell == "lstm":
            i, f, g, o = (drive + recurrent).chunk(4, -1)
            c = torch.sigmoid(f) * state[:, hidden:] + torch.sigmoid(i) * torch.tanh(g)
            return torch.cat([torch.sigmoid(o) * torch.tanh(c), c], -1)
        x_r, x_z, x_n = drive.chunk(3, -1)
        h_r, h_z, h_n = recurrent.chunk(3, -1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return n + z * (h - n)

    def logit_margins(self, states: Zonotope, digits: Tensor) -> Tensor:
        """As :meth:`ElmanAdder.logit_margins`: the head reads ``h``."""
        h = states.coords(slice(0, self.hidden_size))
        return head_margins(h, self.head_weight, self.head_bias, self.logit_error, digits)

    # ------------------------------------------------------------------ sets of states
    def step_set(self, states: Zonotope, drive_center: Tensor, drive_radius: Tensor) -> Zonotope:
        """As :meth:`ElmanAdder.step_set`: N * S sets, set ``n * S + j`` from set n and drive box j
        (``drive_center``, ``drive_radius``: (S, gates * hidden))."""
        branches, parents = len(drive_center), len(states.center)
        hidden = self.hidden_size
        recurrent = states.coords(slice(0, hidden)).linear(self.recurrent_weight).shift(self.recurrent_bias)
        recurrent = recurrent.repeat(branches)
        states = states.repeat(branches)
        center, radius = drive_center.repeat(parents, 1), drive_radius.repeat(parents, 1)
        if self.cell == "lstm":
            return self._lstm(states, recurrent.shift(center), radius)
        return self._gru(states, recurrent, center, radius)

    def _lstm(self, states: Zonotope, pre: Zonotope, radius: Tensor) -> Zonotope:
        hidden = self.hidden_size
        sigmoid = torch.ones(4 * hidden, dtype=torch.bool)
        sigmoid[2 * hidden : 3 * hidden] = False  # the cell input g takes tanh
        gates = squash(pre, radius + self.pre_error[0], sigmoid)
        i, f, g, o = (gates.coords(slice(k * hidden, (k + 1) * hidden)) for k in range(4))
        kept, kept_rest = f.product(states.coords(slice(hidden, 2 * hidden)))
        added, added_rest = i.product(g)
        cell = (kept + added).add_box(kept_rest + added_rest + _rounding(states.coords(slice(hidden, 2 * hidden))))
        out, out_rest = o.product(cell.tanh(after=torch.full((hidden,), SQUASH_ERROR, dtype=torch.float64)))
        h = out.add_box(out_rest + COMBINE_ERROR)
        return _side_by_side(h, cell)

    def _gru(self, states: Zonotope, recurrent: Zonotope, center: Tensor, radius: Tensor) -> Zonotope:
        hidden = self.hidden_size
        gates, n_part = slice(0, 2 * hidden), slice(2 * hidden, 3 * hidden)
        pre = recurrent.coords(gates).shift(center[:, gates])
        r_z = squash(pre, radius[:, gates] + self.pre_error[0][gates], torch.ones(2 * hidden, dtype=torch.bool))
        r, z = r_z.coords(slice(0, hidden)), r_z.coords(slice(hidden, 2 * hidden))
        # W_hn h + b_hn with its own rounding: a fresh generator, after r's (see Zonotope.pad).
        h_n = recurrent.coords(n_part).pad(r.generators.shape[1]).add_box(self.hidden_error)
        gated, gated_rest = r.product(h_n)
        pre_n = gated.shift(center[:, n_part])
        before = radius[:, n_part] + self.pre_error[0][n_part] + gated_rest
        n = pre_n.tanh(before=before, after=torch.full((hidden,), SQUASH_ERROR, dtype=torch.float64))
        moved, moved_rest = z.product(states + n.scale(-1.0))
        return (n + moved).add_box(moved_rest + COMBINE_ERROR)


def squash(pre: Zonotope, before: Tensor, sigmoid: Tensor) -> Zonotope:
    """The gates' zonotope: the logistic sigmoid on coordinates where ``sigmoid`` (D,) is True,
    tanh elsewhere, of every point of ``pre`` moved by up to ``before`` (N, D), each off by up to
    ``SQUASH_ERROR``. One call, so every gate is a view of the same set."""
    half = torch.where(sigmoid, 0.5, 1.0).double()  # sigmoid(x) = (1 + tanh(x / 2)) / 2
    after = torch.full_like(half, SQUASH_ERROR) / half
    return pre.scale(half).tanh(before=before * half, after=after).scale(half, 1 - half)


def _rounding(cell: Zonotope) -> Tensor:
    """What ``f c' + i g`` computed in float32 can be off by, for the previous cell state ``c'`` in
    ``cell``: two products and a sum, of terms at most ``|c'|`` and 1 (gates within [0, 1] up to
    their own rounding)."""
    return gamma(3) * (cell.radius() + cell.center.abs() + 1) * (1 + 2 * SQUASH_ERROR) + COMBINE_ERROR


def _side_by_side(first: Zonotope, second: Zonotope) -> Zonotope:
    """The sets ``[x, y]`` for two views of one set (their generators padded to one count)."""
    count = max(first.generators.shape[1], second.generators.shape[1])
    a, b = first.pad(count), second.pad(count)
    return Zonotope(torch.cat([a.center, b.center], -1), torch.cat([a.generators, b.generators], -1))
