"""The abstract domain holds every point it claims to: sampled points of a set, mapped by the real
function, land in the abstract image."""

from __future__ import annotations

import time

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from adder.models import ModelConfig, build_model
from adder.verification.elman import ElmanAdder
from adder.verification.invariant import Plan, Prover
from adder.verification.zonotope import Zonotope
from tests.helpers.hand_adders import exact_adder, leaky_adder


def random_zonotope(seed: int, sets: int, generators: int, size: int, scale: float) -> Zonotope:
    generator = torch.Generator().manual_seed(seed)
    center = torch.randn(sets, size, generator=generator, dtype=torch.float64) * 2
    gens = torch.randn(sets, generators, size, generator=generator, dtype=torch.float64) * scale
    return Zonotope(center, gens)


def points_of(sets: Zonotope, count: int, seed: int) -> torch.Tensor:
    """(N, count, D) points of each set, corners included (eps at +-1) as well as inner ones."""
    generator = torch.Generator().manual_seed(seed)
    n, g, _ = sets.generators.shape
    eps = torch.rand(n, count, g, generator=generator, dtype=torch.float64) * 2 - 1
    eps[:, : count // 2] = eps[:, : count // 2].sign()
    return sets.center[:, None] + eps @ sets.generators


def inside(points: torch.Tensor, sets: Zonotope) -> bool:
    low, high = sets.bounds()
    return bool(((points >= low[:, None] - 1e-12) & (points <= high[:, None] + 1e-12)).all())


@given(st.integers(0, 10_000), st.floats(0.01, 3.0))
def test_tanh_holds_the_image_of_every_point(seed: int, scale: float) -> None:
    sets = random_zonotope(seed, 4, 3, 5, scale)
    points = points_of(sets, 200, seed)
    image = sets.tanh()
    # The image is a zonotope, not its box: check points against the box and a random direction.
    assert inside(torch.tanh(points), image)
    direction = torch.randn(5, dtype=torch.float64)
    reach = (image.generators @ direction).abs().sum(1)
    values = torch.tanh(points) @ direction
    assert bool((values <= (image.center @ direction + reach)[:, None] + 1e-12).all())
    assert bool((values >= (image.center @ direction - reach)[:, None] - 1e-12).all())


@given(st.integers(0, 10_000))
def test_the_pieces_of_a_split_cover_the_set(seed: int) -> None:
    whole = random_zonotope(seed, 1, 3, 4, 1.0)
    pieces = whole.split(0.3, 64)
    assert 1 < len(pieces.center) <= 64
    points = points_of(whole, 300, seed)[0]  # (count, D)
    # Each point is c + eps @ G; the piece along every cut axis is the one its eps falls in.
    low, high = pieces.bounds()
    covered = ((points[:, None] >= low[None] - 1e-12) & (points[:, None] <= high[None] + 1e-12)).all(-1).any(-1)
    assert bool(covered.all())


@given(st.integers(0, 10_000), st.sampled_from([1, 2]))
def test_one_step_of_an_rnn_holds_every_float32_state(seed: int, layers: int) -> None:
    torch.manual_seed(seed)
    model = build_model(ModelConfig(cell="rnn", hidden_size=5, num_layers=layers, input_size=3, base=3)).eval()
    net = ElmanAdder.from_model(model)
    sets = random_zonotope(seed, 1, 4, net.state_size, 0.1)
    sets = Zonotope(sets.center.clamp(-0.9, 0.9), sets.generators)
    points = points_of(sets, 300, seed)[0]
    a, b = seed % 3, (seed // 3) % 3
    image = net.step_set(sets, net.pair_inputs[a, b][None], torch.zeros(1, net.hidden_size, dtype=torch.float64))
    # The float32 network itself, from float32 states (which lie in the set only up to rounding).
    state = points.float().reshape(-1, layers, 5).transpose(0, 1).contiguous()
    digits_a, digits_b = torch.full((len(points), 1), a), torch.full((len(points), 1), b)
    with torch.no_grad():
        _, after = model.rnn(model.encoder(digits_a, digits_b), state)
    after = after.transpose(0, 1).reshape(len(points), -1).double()
    low, high = image.bounds()
    slack = 1e-6  # the float32 start states are off the float64 ones by a rounding
    assert bool(((after >= low - slack) & (after <= high + slack)).all())


def test_no_plan_needs_more_frame_memory_than_allowed() -> None:
    from adder.verification.invariant import FRAME_MEMORY, frame_bytes, schedule

    plans = schedule(10, 64)
    assert plans and all(frame_bytes(10, 64, plan.history) <= FRAME_MEMORY for plan in plans)
    assert max(plan.history for plan in plans) < max(plan.history for plan in schedule(2, 6))


def test_a_large_state_tries_boxes_per_last_digit_pair_before_cutting_boxes_into_pieces() -> None:
    from adder.verification.invariant import schedule

    def first_cut(plans: list[Plan]) -> int:
        return next(i for i, p in enumerate(plans) if p.piece < float("inf"))

    large, small = schedule(10, 64), schedule(2, 6)
    history_first = next(i for i, p in enumerate(large) if p.history > 0)
    assert history_first < first_cut(large)  # the default RNN: per carry and last pair, then pieces
    assert first_cut(small) < next(i for i, p in enumerate(small) if p.history >= 2)  # unchanged below


def test_axis_aligned_boxes_are_tried_first_on_a_large_state_and_not_on_a_small_one() -> None:
    from adder.verification.invariant import schedule

    large, small = schedule(10, 64), schedule(2, 6)
    assert large[0] == Plan(1, 1, 1, aligned=True)  # the plan that proves the default recipe's models
    assert schedule(10, 128, lead=False)[0].history == 0  # the LSTM's: the cheapest plans first
    by_carry = [p for p in large[1:] if p.history == 0]
    assert by_carry[0].aligned and by_carry[1] == Plan(by_carry[0].history, by_carry[0].window, by_carry[0].exact)
    assert not any(p.aligned for p in small)  # the proofs of the smallest models keep their order


@pytest.mark.parametrize(
    ("model", "proved"),
    [
        (exact_adder(), True),
        (exact_adder(thresholds=(1, 2, 2.6)), False),  # the sum bit wrong on 1 + 1 + carry
        (exact_adder(thresholds=(1.3, 2, 3)), False),  # the sum bit wrong on 1 + 0
        (leaky_adder(), False),  # right on every sum to 6 bits, the carry lost along a run of 1 + 0
    ],
)
def test_axis_aligned_boxes_prove_the_exact_adder_and_none_of_the_broken_ones(
    model: torch.nn.Module, proved: bool
) -> None:

    net = ElmanAdder.from_model(model)
    for plan in (Plan(1, 1, 1, aligned=True), Plan(0, 2, 0, aligned=True)):
        outcome = Prover(net, time.monotonic() + 60).prove(plan)
        assert outcome.proved == proved, plan
        assert (outcome.worst_margin > 0) == proved


class EveryClassEveryRound(Prover):
    """The prover before rounds read only the classes whose box grew: every class, every round."""

    def check_all(self, boxes: torch.Tensor, grown: torch.Tensor, plan: Plan, *ignored: object) -> int:
        return super().check_all(boxes, grown, plan)


@pytest.mark.parametrize("model", [exact_adder(), exact_adder(thresholds=(1, 2, 2.6)), leaky_adder()])
def test_rounds_that_read_only_the_grown_boxes_reach_the_verdict_of_reading_every_box(model: torch.nn.Module) -> None:
    net = ElmanAdder.from_model(model)
    for plan in (Plan(1, 1, 1, aligned=True), Plan(0, 2, 0, aligned=True), Plan(1, 1, 1), Plan(0, 1, 0)):
        fast = Prover(net, time.monotonic() + 60).prove(plan)
        every = EveryClassEveryRound(net, time.monotonic() + 60).prove(plan)
        assert (fast.proved, fast.worst_margin, fast.rounds) == (every.proved, every.worst_margin, every.rounds)
        assert fast.sets_checked <= every.sets_checked
        # From the second round on only the classes whose box grew are read (here never all of them).
        assert fast.rounds == 1 or fast.sets_checked < every.sets_checked
