"""IntervalStep: 0 for boxes that hold their interval images with a margin, positive where an
image leaves its next box or its margin is short, added to the loss from its start step on,
refused where the network is not a one-layer RNN."""

from __future__ import annotations

import pytest
import torch

from adder.models import RecurrentAdder
from adder.training.module import AdderModule
from adder.training.objectives import IntervalStep
from adder.training.objectives.interval_step import elman_images, gru_images, interval_margins, interval_step_terms
from tests.helpers.objectives import batch as sums
from tests.helpers.objectives import rnn

pytestmark = pytest.mark.filterwarnings("ignore:.*reference is not registered on the model yet.*")


def test_a_step_that_ignores_its_state_keeps_every_image_in_its_box() -> None:
    a, b, target = sums(64)
    net = rnn()
    with torch.no_grad():
        net.rnn.weight_hh_l0.zero_()  # the state is a function of the last pair: each box is a point
        states = net.states(a, b)[0]
        outside, _ = interval_step_terms(states, a, b, target, net, kappa=0.0)
        assert float(outside) == pytest.approx(0.0, abs=1e-6)
        net.rnn.weight_hh_l0.copy_(3 * torch.eye(8))  # now it reads the state: images spread past the points
        states = net.states(a, b)[0]
        outside, _ = interval_step_terms(states, a, b, target, net, kappa=0.0)
        assert float(outside) > 0.01


def test_a_sample_of_classes_is_drawn_from_the_generator_and_costs_what_those_classes_cost() -> None:
    a, b, target = sums(64)
    net = rnn()
    with torch.no_grad():
        net.rnn.weight_hh_l0.copy_(3 * torch.eye(8))  # images spread past their next boxes
        states = net.states(a, b)[0]
        every = interval_step_terms(states, a, b, target, net, kappa=5.0)
        drawn = [
            interval_step_terms(states, a, b, target, net, kappa=5.0, sample=(3, torch.Generator().manual_seed(seed)))
            for seed in (0, 0, 1)
        ]
        larger = interval_step_terms(states, a, b, target, net, kappa=5.0, sample=(10**6, torch.Generator()))
    assert drawn[0] == drawn[1]  # the same generator draws the same classes
    assert drawn[0] != drawn[2] and drawn[0] != every  # another draw, another few classes
    assert larger == every  # more than there are: all of them


@pytest.mark.parametrize("cell", ["rnn", "gru"])
@pytest.mark.parametrize("seed", range(3))
def test_the_interval_image_holds_every_step_from_the_box(cell: str, seed: int) -> None:
    torch.manual_seed(seed)
    net = RecurrentAdder(cell, hidden_size=8, input_size=4)
    with torch.no_grad():
        for weight in net.rnn.parameters():
            weight.mul_(3)  # gates away from their middles, products of both signs
        middle, radius = torch.rand(2, 8) * 1.6 - 0.8, torch.rand(2, 8) * 0.3
        codes = net.encoder(torch.tensor([[3, 7]]), torch.tensor([[5, 0]]))[0]  # (2 pairs, input)
        low, high = (gru_images if cell == "gru" else elman_images)(net.rnn, middle, radius, codes)
        starts = middle + radius * (2 * torch.rand(500, 2, 8) - 1)  # (500, 2 boxes, hidden)
        for box in range(2):
            for pair in range(2):
                inputs = codes[pair].expand(500, 1, -1)
                after = net.rnn(inputs, starts[:, box][None].contiguous())[0][:, 0]  # (500, hidden)
                assert bool((after >= low[box, pair] - 1e-6).all() and (after <= high[box, pair] + 1e-6).all())
    assert bool((high - low).min() >= 0)


@pytest.mark.parametrize("seed", range(5))
def test_the_interval_margin_is_below_every_margin_in_the_box(seed: int) -> None:
    torch.manual_seed(seed)
    net = rnn()
    low = torch.rand(3, 8) * 2 - 1
    high = (low + torch.rand(3, 8) * 0.5).clamp(max=1)
    digit = torch.randint(10, (3,))
    bound = interval_margins(low, high, net, digit)
    points = low + (high - low) * torch.rand(1000, 3, 8)
    with torch.no_grad():
        logits = net.head(points)  # (1000, 3, base)
    right = logits.gather(-1, digit[None, :, None].expand(1000, 3, 1))[..., 0]
    others = logits.masked_fill(torch.nn.functional.one_hot(digit, 10).bool()[None], -torch.inf).amax(-1)
    assert bool(((right - others) >= bound - 1e-5).all())
    assert bool((bound[None] > (right - others).amin(0) - 10).all())  # a bound, not -inf


def test_the_module_adds_it_once_the_batch_is_right_enough_and_trains_its_gradient() -> None:
    data = sums(32)
    module = AdderModule(rnn(), [IntervalStep(weight=5.0, kappa=10.0, exact_match=0.0)])
    plain = AdderModule(rnn(), [])
    loss = module.training_step(data, 0)
    assert float(loss.detach()) > float(plain.training_step(data, 0).detach())
    loss.backward()
    assert module.model.rnn.weight_hh_l0.grad.abs().sum() > 0
    # An untrained network gets few of the batch's sums right: asked for all of them, the loss is off.
    waiting = AdderModule(rnn(), [IntervalStep(weight=5.0, kappa=10.0, exact_match=1.0)])
    assert float(waiting.training_step(data, 0).detach()) == pytest.approx(float(plain.training_step(data, 0).detach()))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="weight must be >= 0"):
        IntervalStep(weight=-1.0)
    with pytest.raises(ValueError, match="exact_match must be a share between 0 and 1"):
        IntervalStep(exact_match=1.5)
    with pytest.raises(ValueError, match="grow must be >= 1"):
        IntervalStep(grow=0.5)
    for classes in (0, 2.5):
        with pytest.raises(ValueError, match="classes must be a positive number of classes"):
            IntervalStep(classes=classes)
