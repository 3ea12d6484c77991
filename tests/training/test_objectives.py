"""The objectives: the state spread (0 for a finite-state machine's states, scale-free), the carry
hint, step noise; what each adds to the loss and what each refuses."""

from __future__ import annotations

import pytest
import torch

from adder.models import MLPAdder, RecurrentAdder
from adder.problems.digits import carries_in, carries_out, make_problems
from adder.problems.samplers import ProblemSampler, make_generator
from adder.training.module import AdderModule
from adder.training.objectives import (
    CarryHint,
    InitialStateNoise,
    IntervalStep,
    Objective,
    StateSpread,
    StepContext,
    StepContraction,
    StepNoise,
)
from adder.training.objectives.carry_hint import carry_hint_loss
from adder.training.objectives.state_spread import state_spread_loss

pytestmark = pytest.mark.filterwarnings("ignore:.*reference is not registered on the model yet.*")


def problems(size: int = 64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return ProblemSampler(num_digits=8, min_digits=1, weights={"carry": 1.0}).sample(size, make_generator(0))


def test_states_that_depend_on_carry_and_pair_alone_have_no_spread() -> None:
    a, b, target = problems()
    table = torch.randn(2, 10, 10, 5)  # one state per (carry in, a, b)
    states = table[carries_in(a, b, target, 10), a, b]
    assert float(state_spread_loss(states, a, b, target, 10)) == pytest.approx(0.0, abs=1e-6)
    drifting = states + 0.1 * torch.arange(states.shape[1]).view(1, -1, 1)  # the same classes, drifting along
    spread = float(state_spread_loss(drifting, a, b, target, 10))
    assert spread > 1e-3
    assert float(state_spread_loss(10 * drifting, a, b, target, 10)) == pytest.approx(spread, rel=1e-4)


def test_the_first_position_is_left_out() -> None:
    a, b, target = make_problems(torch.tensor([[3, 4], [3, 4]]), torch.tensor([[5, 1], [5, 1]]), 10)
    states = torch.zeros(2, 3, 4)
    states[:, 1:] = torch.randn(1, 2, 4)  # the later positions agree; the first one does not
    states[0, 0], states[1, 0] = 1.0, -1.0
    assert float(state_spread_loss(states, a, b, target, 10)) == pytest.approx(0.0, abs=1e-6)


def test_fit_adds_the_weighted_spread_to_the_loss() -> None:
    batch = problems(32)
    losses = {}
    for weight in (0.0, 2.0):
        torch.manual_seed(0)
        module = AdderModule(RecurrentAdder("gru", hidden_size=8, input_size=4), [StateSpread(weight)])
        with torch.no_grad():
            losses[weight] = float(module.training_step(batch, 0))
            states = module.model.states(batch[0], batch[1])[0]
            spread = float(state_spread_loss(states, *batch, 10))
    assert spread > 0.01
    assert losses[2.0] == pytest.approx(losses[0.0] + 2.0 * spread, rel=1e-5)


@pytest.mark.parametrize(
    ("cls", "arg"), [(StateSpread, "weight"), (StepNoise, "std"), (CarryHint, "weight"), (InitialStateNoise, "std")]
)
def test_the_state_objectives_are_refused_for_the_mlp_and_below_zero(cls: type[Objective], arg: str) -> None:
    with pytest.raises(ValueError, match=f"{cls.__name__} applies to networks with a state; MLPAdder has none"):
        AdderModule(MLPAdder(num_digits=3), [cls(**{arg: 1.0})])
    with pytest.raises(ValueError, match=f"{cls.__name__} {arg} must be >= 0"):
        cls(**{arg: -1.0})
    assert cls(**{arg: 0.5}).spec() == {"class_path": f"{cls.__module__}.{cls.__name__}", "init_args": {arg: 0.5}}


def test_step_noise_draws_from_the_step_and_is_off_at_zero() -> None:
    net = RecurrentAdder(hidden_size=4, input_size=2)
    first, later = StepContext(net, 0, torch.device("cpu")), StepContext(net, 1, torch.device("cpu"))
    assert StepNoise(0.0).state_options(first) == {}
    options = StepNoise(0.1).state_options(first)
    assert options["step_noise"] == 0.1
    again, other = StepNoise(0.1).state_options(first)["generator"], StepNoise(0.1).state_options(later)["generator"]
    draw = torch.randn(3, generator=options["generator"])
    assert torch.equal(draw, torch.randn(3, generator=again)) and not torch.equal(draw, torch.randn(3, generator=other))


def test_the_carry_hint_is_zero_when_the_first_coordinate_holds_the_carry() -> None:
    a, b, target = problems()
    carry = carries_out(a, b, target, 10).float()
    states = torch.randn(*a.shape, 3)
    states[..., 0] = 2 * carry - 1
    assert float(carry_hint_loss(states, a, b, target, 10)) == 0.0
    states[..., 0] = carry  # a ReLU cell's 0/1
    assert float(carry_hint_loss(states, a, b, target, 10, low=0.0)) == 0.0
    assert float(carry_hint_loss(states, a, b, target, 10)) == pytest.approx(float((1 - carry).mean()))


def test_fit_adds_the_weighted_carry_hint_to_the_loss() -> None:
    batch = problems(32)
    losses = {}
    for weight in (0.0, 0.5):
        torch.manual_seed(0)
        module = AdderModule(RecurrentAdder(hidden_size=8, input_size=4), [CarryHint(weight)])
        with torch.no_grad():
            losses[weight] = float(module.training_step(batch, 0))
            hint = float(carry_hint_loss(module.model.states(batch[0], batch[1])[0], *batch, 10))
    assert hint > 0.1
    assert losses[0.5] == pytest.approx(losses[0.0] + 0.5 * hint, rel=1e-5)


@pytest.mark.parametrize("objective", [StepContraction, IntervalStep])
@pytest.mark.parametrize(
    ("net", "message"),
    [
        (MLPAdder(num_digits=3), "with a state"),
        (RecurrentAdder("lstm", hidden_size=8), "applies to a one-layer RNN or GRU; this network is lstm"),
        (RecurrentAdder("rnn", hidden_size=8, num_layers=2), "one-layer RNN or GRU; this network is rnn with 2 layers"),
    ],
)
def test_one_step_losses_are_refused_where_the_state_is_not_one_rnn_or_gru_layer(
    objective: type[Objective], net: torch.nn.Module, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        objective().check(net)


@pytest.mark.parametrize(
    "net", [RecurrentAdder("rnn", hidden_size=8, nonlinearity="relu"), RecurrentAdder("gru", gates="hard")]
)
def test_interval_bounds_are_refused_for_a_step_they_do_not_bound(net: torch.nn.Module) -> None:
    with pytest.raises(ValueError, match="IntervalStep bounds tanh steps with sigmoid gates"):
        IntervalStep().check(net)
    StepContraction().check(net)  # runs the network's own step: any squashing
