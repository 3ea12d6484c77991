"""StepContraction: 0 for a step that forgets its state, the Jacobian's size for one that keeps it,
added to the loss with its weight, refused where the state is not one layer's."""

from __future__ import annotations

import pytest
import torch

from adder.training.module import AdderModule
from adder.training.objectives import StepContraction
from adder.training.objectives.step_contraction import step_contraction_loss, steps_of
from tests.helpers.objectives import batch as sums
from tests.helpers.objectives import rnn

pytestmark = pytest.mark.filterwarnings("ignore:.*reference is not registered on the model yet.*")


def test_a_step_that_ignores_its_state_contracts_fully_and_a_linear_one_by_its_jacobian() -> None:
    a, b, _ = sums(16)
    net = rnn()
    with torch.no_grad():
        net.rnn.weight_hh_l0.zero_()  # the next state reads the digit pair alone
        states = net.states(a, b)[0]
        steps = steps_of(states, a, b)
        noise = 0.3 * torch.randn(steps[0].shape)
        assert float(step_contraction_loss(*steps, net, noise)) == pytest.approx(0.0, abs=1e-12)
        # A tiny recurrent weight s * I: tanh is about linear there, the step scales a disturbance by s.
        net.rnn.weight_hh_l0.copy_(0.5 * torch.eye(8))
        net.rnn.weight_ih_l0.zero_()
        net.rnn.bias_ih_l0.zero_()
        net.rnn.bias_hh_l0.zero_()
        steps = steps_of(net.states(a, b)[0], a, b)
        assert float(step_contraction_loss(*steps, net, 1e-4 * noise)) == pytest.approx(0.25, rel=1e-3)


def test_the_module_adds_the_weighted_loss_and_trains_its_gradient() -> None:
    data = sums(32)
    losses = {}
    for weight in (0.0, 5.0):
        module = AdderModule(rnn(), [StepContraction(weight, std=0.3)])
        losses[weight] = module.training_step(data, 0)
    assert float(losses[5.0].detach()) > float(losses[0.0].detach())
    losses[5.0].backward()
    assert module.model.rnn.weight_hh_l0.grad.abs().sum() > 0


def test_steps_draws_that_many_steps_of_the_batch_each_training_step() -> None:
    data = sums(32)
    module = AdderModule(rnn(), [StepContraction(5.0, std=0.3, steps=7)])
    rows = []
    states = module.model.states
    module.model.states = lambda a, *args, **kwargs: rows.append(len(a)) or states(a, *args, **kwargs)
    module.training_step(data, 0).backward()
    assert rows == [32, 7]  # the batch, then the 7 steps drawn of its 32 x (positions - 1)
    assert module.model.rnn.weight_hh_l0.grad.abs().sum() > 0


def test_a_zero_std_or_a_negative_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="std must be > 0"):
        StepContraction(std=0.0)
    with pytest.raises(ValueError, match="weight must be >= 0"):
        StepContraction(weight=-1.0)
    with pytest.raises(ValueError, match="steps must be a positive number"):
        StepContraction(steps=0)
