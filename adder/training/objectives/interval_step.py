"""IntervalStep: a loss that trains one step of the recurrence to map each class's box of states
into the box of the class it leads to, with the right digit ahead everywhere in the image.

``adder verify`` holds the states in boxes per class (the carry into the last digit pair, and that
pair) and must show that one step maps each box into the box of the class it leads to, and that the
head's argmax is the right digit on every state of the image. This loss asks the same of the boxes
of the batch's own states, with interval arithmetic (IBP: Gowal et al., "On the Effectiveness of
Interval Bound Propagation for Training Verifiably Robust Models", 2018): for every class seen in
the batch and every digit pair read next, the interval image of the class's box

    pre = W_hh [low, high] + W_ih x + b   (an interval per coordinate),   image = tanh(pre)

is pushed inside the (fixed) box of the next class, and the interval bound on its logit margin
above ``kappa`` (a GRU's step: interval bounds through its gates and their products). Both terms are 0 for a network whose boxes are inductive with a margin, which is
what lets verify prove it with axis-aligned boxes. The boxes a step starts from are first grown by
``grow`` about their centres: verify widens its boxes until they hold their images, and they
settle only where a step shrinks a box, not where it merely keeps the batch's own box.
"""

from __future__ import annotations

import torch
from torch import Tensor

from adder.models.base import AdderNet
from adder.problems.digits import carries_in
from adder.training.objectives.base import (
    Objective,
    StepResult,
    check_at_least_zero,
    check_one_layer_state,
    check_torch_squashing,
)


def class_boxes(states: Tensor, classes: Tensor, count: int) -> tuple[Tensor, Tensor, Tensor]:
    """The low and high corners (count, hidden) of each class's states ((N, hidden) states, (N,)
    class of each), and which classes have any (count,)."""
    index = classes[:, None].expand_as(states)
    full = states.new_full((count, states.shape[1]), torch.inf)
    low = full.scatter_reduce(0, index, states, "amin", include_self=False)
    high = (-full).scatter_reduce(0, index, states, "amax", include_self=False)
    return low, high, torch.bincount(classes, minlength=count) > 0


def interval_step_terms(
    states: Tensor,
    a: Tensor,
    b: Tensor,
    target: Tensor,
    net: AdderNet,
    kappa: float,
    grow: float = 1.0,
    sample: tuple[int, torch.Generator] | None = None,
) -> tuple[Tensor, Tensor]:
    """How far the interval images of the classes' boxes leave the next classes' boxes (summed over
    the coordinates, the mean over the pairs of classes), and the mean hinge of their margins below
    ``kappa``. ``states`` (problems, positions, hidden): the state after each position of ``a + b``.
    ``sample``: step from that many of the classes seen, drawn with that generator (all if fewer)."""
    base = net.config.base
    pairs = base * base
    carry = carries_in(a, b, target, base)
    classes = (carry * pairs + a * base + b).reshape(-1)  # the carry into a pair, and the pair
    states = states.reshape(-1, states.shape[-1])
    # The next boxes are where the images must go, not what the loss may widen: held fixed.
    with torch.no_grad():
        low, high, seen = class_boxes(states, classes, 2 * pairs)
    start = seen.nonzero()[:, 0]  # (C,)
    if sample is not None and len(start) > sample[0]:
        start = start[torch.randperm(len(start), generator=sample[1], device=start.device)[: sample[0]]]
    # The boxes the steps start from, with their gradient, from the states of those classes only: the
    # backward of a min or max over every state of the batch cost more than the rest of the loss.
    slot = torch.full((2 * pairs,), -1, dtype=torch.long, device=states.device)
    slot[start] = torch.arange(len(start), device=states.device)
    rows = slot[classes] >= 0
    start_low, start_high, _ = class_boxes(states[rows], slot[classes[rows]], len(start))
    middle, radius = (start_low + start_high) / 2, grow * (start_high - start_low) / 2
    digits = torch.arange(base, device=states.device)
    next_a, next_b = digits.repeat_interleave(base), digits.repeat(base)  # (P,): every pair read next
    codes = net.encoder(next_a[None], next_b[None])[0]  # (P, input)
    step = gru_images if net.config.cell == "gru" else elman_images
    image_low, image_high = step(net.rnn, middle, radius, codes)  # (C, P, hidden) each
    carry_out = ((start % pairs) // base + start % base + start // pairs >= base).long()  # (C,)
    following = carry_out[:, None] * pairs + torch.arange(pairs, device=states.device)  # (C, P)
    known = seen[following]
    outside = torch.relu(image_high - high[following]) + torch.relu(low[following] - image_low)
    margin = interval_margins(image_low, image_high, net, (next_a + next_b + carry_out[:, None]) % base)
    return outside.sum(-1)[known].mean(), torch.relu(kappa - margin)[known].mean()


def elman_images(rnn: torch.nn.RNN, middle: Tensor, radius: Tensor, codes: Tensor) -> tuple[Tensor, Tensor]:
    """The interval image (low, high: (C, P, hidden)) of each box ``middle +- radius`` (C, hidden)
    under one tanh RNN step reading each of the P codes (P, input)."""
    drive = codes @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + rnn.bias_hh_l0
    centre = (middle @ rnn.weight_hh_l0.T)[:, None] + drive[None]  # (C, P, hidden)
    spread = (radius @ rnn.weight_hh_l0.abs().T)[:, None]
    return torch.tanh(centre - spread), torch.tanh(centre + spread)


def gru_images(gru: torch.nn.GRU, middle: Tensor, radius: Tensor, codes: Tensor) -> tuple[Tensor, Tensor]:
    """As :func:`elman_images` for a GRU step, ``h' = (1 - z) n + z h`` with the gates
    ``r, z = sigmoid(W_i x + b_i + W_h h + b_h)`` and ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``."""
    drive = (codes @ gru.weight_ih_l0.T + gru.bias_ih_l0)[None]  # (1, P, 3 hidden): r, z, n
    own_centre = (middle @ gru.weight_hh_l0.T + gru.bias_hh_l0)[:, None]  # (C, 1, 3 hidden)
    own_spread = (radius @ gru.weight_hh_l0.abs().T)[:, None]
    (x_r, x_z, x_n), (c_r, c_z, c_n), (s_r, s_z, s_n) = (t.chunk(3, -1) for t in (drive, own_centre, own_spread))
    r_low, r_high = torch.sigmoid(x_r + c_r - s_r), torch.sigmoid(x_r + c_r + s_r)
    z_low, z_high = torch.sigmoid(x_z + c_z - s_z), torch.sigmoid(x_z + c_z + s_z)
    # r >= 0: r times [m_low, m_high] is lowest at m_low, highest at m_high, for one of r's ends.
    m_low, m_high = c_n - s_n, c_n + s_n
    n_low = torch.tanh(x_n + torch.minimum(r_low * m_low, r_high * m_low))
    n_high = torch.tanh(x_n + torch.maximum(r_low * m_high, r_high * m_high))
    # h' is n + z (h - n): with z, 1 - z >= 0, lowest at n_low and h's low end, for one of z's ends.
    h_low, h_high = (middle - radius)[:, None], (middle + radius)[:, None]
    low = torch.minimum((1 - z_low) * n_low + z_low * h_low, (1 - z_high) * n_low + z_high * h_low)
    high = torch.maximum((1 - z_low) * n_high + z_low * h_high, (1 - z_high) * n_high + z_high * h_high)
    return low, high


def interval_margins(low: Tensor, high: Tensor, net: AdderNet, digit: Tensor) -> Tensor:
    """A lower bound on ``logit[digit] - max other logit`` over each box [low, high] (..., hidden)."""
    weight, bias = net.head.weight, net.head.bias  # (base, hidden), (base,)
    base = len(bias)
    middle, radius = (low + high) / 2, (high - low) / 2
    logits = middle @ weight.T + bias  # (..., base)
    centre = logits.gather(-1, digit[..., None]) - logits
    # |W[d] - W[j]| for every pair (d, j), as one matrix: the radius term is one product with it.
    spread = (weight[:, None] - weight[None]).abs().reshape(base * base, -1)
    reach = (radius @ spread.T).unflatten(-1, (base, base))  # (..., d, j)
    reach = reach.gather(-2, digit[..., None, None].expand(*digit.shape, 1, base)).squeeze(-2)
    bound = centre - reach
    return bound.masked_fill(torch.nn.functional.one_hot(digit, base).bool(), torch.inf).amin(-1)


class IntervalStep(Objective):
    """``weight`` times (how far the interval images of the boxes grown by ``grow`` leave the next
    boxes + ``margin_weight`` times the hinge of their margins below ``kappa``), on the steps whose
    fresh problems the network already gets right, at least the share ``exact_match`` of them (the
    boxes of a network that does not add yet are not worth holding, and holding them then keeps it
    from learning to). ``classes``: step from that many of the batch's classes, drawn anew each step
    (``StepContext.generator``), for a cheaper step; null: from all of them. One-layer RNN or GRU."""

    needs_state = True
    log_name = "interval_step"

    def __init__(
        self,
        weight: float = 0.3,
        kappa: float = 0.5,
        margin_weight: float = 1.0,
        exact_match: float = 0.99,
        grow: float = 1.0,
        classes: int | None = None,
    ) -> None:
        self.weight = check_at_least_zero("IntervalStep", "weight", weight)
        if not grow >= 1.0:
            raise ValueError(f"IntervalStep grow must be >= 1, got {grow}")
        self.grow = float(grow)
        self.kappa = check_at_least_zero("IntervalStep", "kappa", kappa)
        self.margin_weight = check_at_least_zero("IntervalStep", "margin_weight", margin_weight)
        if not 0.0 <= exact_match <= 1.0:
            raise ValueError(f"IntervalStep exact_match must be a share between 0 and 1, got {exact_match}")
        self.exact_match = float(exact_match)
        if classes is not None and not (isinstance(classes, int) and classes >= 1):
            raise ValueError(
                f"IntervalStep classes must be a positive number of classes, or null for all, got {classes}"
            )
        self.classes = classes

    def check(self, net: AdderNet) -> None:
        super().check(net)
        check_one_layer_state("IntervalStep", net)
        check_torch_squashing("IntervalStep", net)

    def loss(self, step: StepResult) -> Tensor | None:
        if not self.weight or step.states is None:
            return None
        fresh = step.fresh  # the data module's problems: replayed ones repeat some of them
        right = (step.logits[:fresh].argmax(-1) == step.target[:fresh]).all(-1).float().mean()
        if right.device.type == "cpu" and float(right) < self.exact_match:  # nothing to wait for on a CPU
            return None
        outside, hinge = interval_step_terms(
            step.states[:fresh],
            step.a[:fresh],
            step.b[:fresh],
            step.target[:fresh],
            step.context.net,
            self.kappa,
            self.grow,
            None if self.classes is None else (self.classes, step.context.generator(4)),
        )
        # Off (0) on a step the network gets less right than that: on a GPU a mask, not an if, so that
        # the step does not wait to read the share back.
        return (right >= self.exact_match).float() * (outside + self.margin_weight * hinge)
