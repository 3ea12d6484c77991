"""Attacks on ``adder verify``: checkpoints built by hand to make it prove a network that ``add``
gets wrong, and property tests that its sets hold what the float32 network really computes."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from adder.evaluation.sums import add_with_model
from adder.models import Adder, ModelConfig, RecurrentAdder, build_model
from adder.problems.digits import format_digits, int_to_digits, make_problems
from adder.verification.accepted import MODELLED, UnsupportedModel
from adder.verification.elman import ElmanAdder
from adder.verification.exhaustive import operand_batches, sum_margins
from adder.verification.gated import GatedAdder
from adder.verification.invariant import Plan, Prover, frame_error
from adder.verification.prove import COUNTEREXAMPLE, PROVED, UNDECIDED, verdict, verify
from adder.verification.zonotope import Zonotope
from tests.helpers.cli import adder_in_process
from tests.helpers.hand_adders import exact_adder, infinite_adder, one_bit_mlp, overflowing_adder, relu_adder, save


def network(model: RecurrentAdder) -> ElmanAdder | GatedAdder:
    return ElmanAdder.from_model(model) if model.cell == "rnn" else GatedAdder.from_model(model)


def wrong_sums(model: Adder, base: int, largest: int = 16) -> list[tuple[int, int]]:
    """The sums x + y (x, y < largest) that ``add``'s path gets wrong."""
    pairs = [(x, y) for x in range(largest) for y in range(largest)]
    problems = [(int_to_digits(x, base), int_to_digits(y, base)) for x, y in pairs]
    found = add_with_model(model, problems, base)
    return [pair for pair, got in zip(pairs, found) if got != format_digits(int_to_digits(sum(pair), base), base)]


@pytest.mark.parametrize(
    ("make", "refusal"),
    [
        (overflowing_adder, "refuses weights this large: a logit could reach"),
        (infinite_adder, "refuses non-finite weights: head.weight"),
        (relu_adder, "models nonlinearity tanh only"),
    ],
)
def test_a_checkpoint_the_analysis_cannot_model_is_refused(
    make: Callable[[], RecurrentAdder], refusal: str, tmp_path: Path
) -> None:
    """Each was proved before these checks (a real-number margin of 5e37 with both float32 logits
    inf; NaN margins that never counted as worse; the tanh network's proof for a ReLU network),
    and ``add`` gets sums wrong on each."""
    model = make()
    assert wrong_sums(model, 2)
    done = adder_in_process("verify", "--ckpt", str(save(model, tmp_path / "odd.ckpt")))
    assert done.returncode == 2, done
    assert done.stderr.startswith("error: adder verify ") and done.stderr.count("\n") == 1, done.stderr
    assert refusal in done.stderr and done.stdout == ""


def poisoned(what: str) -> Callable[[ElmanAdder], None]:
    """Makes one part of the analysis of ``net`` give NaN."""

    def poison(net: ElmanAdder) -> None:
        if what == "margin":
            net.logit_margins = lambda sets, digits: torch.full((len(digits),), torch.nan)  # type: ignore[method-assign]
        else:
            step_set = net.step_set

            def nan_step(*args: torch.Tensor) -> Zonotope:
                sets = step_set(*args)
                sets.center[:, 0] = torch.nan
                return sets

            net.step_set = nan_step  # type: ignore[method-assign]

    return poison


@pytest.mark.parametrize("what", ["margin", "image"])
def test_a_nan_in_the_analysis_fails_its_check(what: str) -> None:
    net = ElmanAdder.from_model(exact_adder())
    plan = Plan(history=0, window=2, exact=0)
    assert Prover(net, time.monotonic() + 60).prove(plan).proved  # the plan proves the sound network
    poisoned(what)(net)
    outcome = Prover(net, time.monotonic() + 60).prove(plan)
    assert not outcome.proved and outcome.worst_margin == -torch.inf


@given(st.integers(0, 10_000), st.floats(1e-9, 1e-4), st.integers(1, 12))
def test_a_frames_error_bounds_how_far_its_coordinates_are_off(seed: int, noise: float, size: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    axes = torch.linalg.qr(torch.randn(size, size, generator=generator, dtype=torch.float64))[0]
    axes = axes * (torch.rand(size, generator=generator, dtype=torch.float64) + 0.1)  # not orthonormal
    inverse = torch.linalg.inv(axes) + noise * torch.randn(size, size, generator=generator, dtype=torch.float64)
    true = torch.randn(50, size, generator=generator, dtype=torch.float64)  # coordinates of 50 points
    points = true @ axes.T
    computed = points @ inverse.T
    bound = frame_error(axes, inverse) * computed.abs().amax(1, keepdim=True)
    assert bool(((computed - true).abs() <= bound + 1e-12).all())


def random_adder(
    seed: int, cell: str, layers: int, hidden: int, base: int, encoding: str, scale: float
) -> RecurrentAdder:
    torch.manual_seed(seed)
    config = ModelConfig(cell, encoding, input_size=3, hidden_size=hidden, num_layers=layers, base=base)
    model = build_model(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, scale)
    return model.eval()


def float32_states(model: RecurrentAdder, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(length, D): the state the verifier tracks after each position, as the fused float32 module
    computes it reading the sum from the zero state: every layer's h (and the LSTM's c)."""
    states = []
    with torch.no_grad():
        for t in range(1, a.shape[1] + 1):
            final = model.rnn(model.encoder(a[:, :t], b[:, :t]))[1]
            parts = final if isinstance(final, tuple) else (final,)
            states.append(torch.cat([part[:, 0].flatten() for part in parts]).double())
    return torch.stack(states)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from(["rnn", "lstm", "gru"]),
    st.integers(1, 2),
    st.integers(1, 6),
    st.integers(2, 5),
    st.sampled_from(["embedding", "onehot", "scalar"]),
    st.floats(0.1, 4.0),
)
def test_the_sets_hold_the_float32_states_and_logits(
    seed: int, cell: str, layers: int, hidden: int, base: int, encoding: str, scale: float
) -> None:
    """Along random sums, the float32 states ``add``'s module computes lie in the sets stepped
    from the zero state, and each digit's logit margin is at least the verifier's bound for it."""
    layers = layers if cell == "rnn" else 1  # the gated analysis models one layer
    model = random_adder(seed, cell, layers, hidden, base, encoding, scale)
    net = network(model)
    generator = torch.Generator().manual_seed(seed)
    a, b = torch.randint(base, (2, 1, 10), generator=generator)
    states = float32_states(model, a, b)
    with torch.no_grad():
        logits = model(a, b)[0][0].double()
    sets = Zonotope(net.zero_state(), torch.zeros(1, 0, net.state_size, dtype=torch.float64))
    no_spread = torch.zeros(1, net.pair_inputs.shape[-1], dtype=torch.float64)
    for t in range(a.shape[1]):
        sets = net.step_set(sets, net.pair_inputs[a[0, t], b[0, t]][None], no_spread)
        low, high = sets.bounds()
        assert bool(((states[t] >= low[0]) & (states[t] <= high[0])).all()), t
        for digit in range(base):
            others = torch.cat([logits[t, :digit], logits[t, digit + 1 :]])
            bound = net.logit_margins(sets, torch.tensor([digit]))[0]
            assert float(bound) <= float(logits[t, digit] - others.max()), (t, digit)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from(["rnn", "lstm", "gru"]),
    st.integers(1, 6),
    st.integers(2, 4),
    st.floats(0.1, 3.0),
    st.floats(0.01, 1.0),
)
def test_a_step_from_a_box_of_states_lands_in_its_image(
    seed: int, cell: str, hidden: int, base: int, scale: float, width: float
) -> None:
    """Wide sets (where the products of gates are far from linear): one step of the fused float32
    module from points of a box of states, corners included, lands in the box's image."""
    model = random_adder(seed, cell, 1, hidden, base, "embedding", scale)
    net = network(model)
    generator = torch.Generator().manual_seed(seed)
    center = (torch.rand(net.state_size, generator=generator) * 2 - 1) * (1 - width)
    eps = torch.rand(200, net.state_size, generator=generator) * 2 - 1
    eps[:100] = eps[:100].sign()
    points = (center + width * eps).float()  # float32 states, as the module holds them
    low, high = points.double().amin(0), points.double().amax(0)
    a, b = torch.randint(base, (2,), generator=generator).tolist()
    image = net.step_set(
        Zonotope.box(low[None], high[None]), net.pair_inputs[a, b][None], torch.zeros_like(net.pair_inputs[a, b][None])
    )
    hidden_size = model.config.hidden_size
    start = (points[None, :, :hidden_size], points[None, :, hidden_size:]) if cell == "lstm" else points[None]
    with torch.no_grad():
        final = model.rnn(model.encoder(torch.full((200, 1), a), torch.full((200, 1), b)), start)[1]
    parts = final if isinstance(final, tuple) else (final,)
    reached = torch.cat([part[0] for part in parts], -1).double()  # (200, D)
    image_low, image_high = image.bounds()
    assert bool(((reached >= image_low) & (reached <= image_high)).all())


def test_every_config_field_is_modelled_or_refused_by_name() -> None:
    """A field added to ModelConfig must be added to the verifier's table, with what it models."""
    assert set(MODELLED) == set(ModelConfig.keys())


@pytest.mark.parametrize(
    ("carry_threshold", "status", "start"),
    [
        (
            0.5,
            PROVED,
            "proved: every sum of two base-2 numbers of at most 1 digits (this MLP's only length) is right: all 4",
        ),
        (1.5, COUNTEREXAMPLE, "counterexample: 1 + 1: the model says 0, the sum is 10"),
        (1 - 2**-23, UNDECIDED, "undecided: 1 + 1 is right, but by a logit margin float32 rounding could close"),
    ],
)
def test_the_mlp_is_decided_on_every_sum_of_its_length(carry_threshold: float, status: int, start: str) -> None:
    model = one_bit_mlp(carry_threshold)
    assert bool(wrong_sums(model, 2, largest=2)) == (status == COUNTEREXAMPLE)
    found, line = verify(model, time_limit=60)
    assert (found, line[: len(start)]) == (status, start), line


def test_the_verdict_carries_what_training_on_needs() -> None:
    """``verdict``: a counterexample's operands as ``add`` writes them; a proof's positive margin."""
    wrong = verdict(one_bit_mlp(1.5), time_limit=60)
    assert (wrong.word, wrong.operands) == ("counterexample", ("1", "1"))
    right = verdict(one_bit_mlp(0.5), time_limit=60)
    assert right.word == "proved" and right.operands is None and right.margin is not None and right.margin > 0
    assert verify(one_bit_mlp(0.5), time_limit=60)[0] == right.status == PROVED


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_an_untrained_gated_cell_is_refuted_with_a_sum_add_gets_wrong(cell: str) -> None:
    model = random_adder(0, cell, 1, 8, 10, "embedding", 1.0)
    status, line = verify(model, time_limit=20)
    assert status == COUNTEREXAMPLE, line
    found = re.fullmatch(r"counterexample: (\d+) \+ (\d+): the model says (\d+), the sum is (\d+)", line)
    assert found, line
    a, b, model_sum, true_sum = found.groups()
    problem = (list(map(int, reversed(a))), list(map(int, reversed(b))))
    assert add_with_model(model, [problem], 10)[0] == model_sum != true_sum == str(int(a) + int(b))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.integers(2, 5), st.integers(1, 3), st.floats(0.1, 4.0))
def test_the_mlp_margin_bounds_the_float32_margin(seed: int, layers: int, base: int, digits: int, scale: float) -> None:
    torch.manual_seed(seed)
    config = ModelConfig(
        "mlp", "embedding", input_size=3, hidden_size=8, num_layers=layers, base=base, num_digits=digits
    )
    model = build_model(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, scale)
    a, b = next(operand_batches(base, digits))
    a_in, b_in, target = make_problems(a, b, base)
    with torch.no_grad():
        logits = model(a_in, b_in)[0].double()  # float32, widened exactly
    right = logits.gather(2, target[..., None]).squeeze(2)
    other = logits.scatter(2, target[..., None], -torch.inf).amax(2)
    assert bool((sum_margins(model, a_in, b_in, target) <= (right - other).amin(1)).all())


def test_a_network_no_analysis_models_is_refused_by_name() -> None:
    class Other(torch.nn.Module):
        config = ModelConfig()

    with pytest.raises(UnsupportedModel, match="no analysis of this network \\(Other"):
        verify(Other(), time_limit=10)  # type: ignore[arg-type]
