"""The state losses: the spread (0 for a finite-state machine's states, scale-free), the carry hint, and what fit adds."""

from __future__ import annotations

import pytest
import torch

from adder.problems.digits import carries_in, carries_out, make_problems
from adder.problems.samplers import ProblemSampler, make_generator
from adder.training.module import AdderModule
from adder.training.state_losses import carry_hint_loss, state_spread_loss

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
        module = AdderModule(
            cell="gru", hidden_size=8, input_size=4, replay_hardest=0.0, state_noise=0.0, state_spread=weight
        )
        with torch.no_grad():
            losses[weight] = float(module.training_step(batch, 0))
            states = module.model.states(batch[0], batch[1])[0]
            spread = float(state_spread_loss(states, *batch, 10))
    assert spread > 0.01
    assert losses[2.0] == pytest.approx(losses[0.0] + 2.0 * spread, rel=1e-5)


@pytest.mark.parametrize("flag", ["state_spread", "step_noise", "carry_hint"])
def test_the_state_options_are_refused_for_the_mlp_and_below_zero(flag: str) -> None:
    with pytest.raises(ValueError, match=f"{flag} applies to recurrent cells"):
        AdderModule(cell="mlp", num_digits=3, **{flag: 1.0})
    with pytest.raises(ValueError, match=f"{flag} must be >= 0"):
        AdderModule(**{flag: -1.0})


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
        module = AdderModule(hidden_size=8, input_size=4, replay_hardest=0.0, state_noise=0.0, carry_hint=weight)
        with torch.no_grad():
            losses[weight] = float(module.training_step(batch, 0))
            hint = float(carry_hint_loss(module.model.states(batch[0], batch[1])[0], *batch, 10))
    assert hint > 0.1
    assert losses[0.5] == pytest.approx(losses[0.0] + 0.5 * hint, rel=1e-5)
