"""AdderModule: hard-example replay (the hardest problems of a step come back in the next one) and the
non-finite loss check."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from adder.models import MLPAdder, RecurrentAdder
from adder.problems.digits import make_problems
from adder.problems.samplers import ProblemSampler, make_generator
from adder.training.module import AdderModule, NonFiniteLossError
from adder.training.objectives import InitialStateNoise, IntervalStep, ReplayHardest, StepContext, StepContraction
from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args

# training_step called directly, without a Trainer, still logs on its logging steps.
pytestmark = pytest.mark.filterwarnings("ignore:.*reference is not registered on the model yet.*")


def batch(seed: int, size: int = 50) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return ProblemSampler(num_digits=6, min_digits=1).sample(size, make_generator(seed))


def per_problem_loss(module: AdderModule, a: torch.Tensor, b: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    logits = module(a, b)
    return torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none").sum(-1)


def test_the_hardest_problems_are_trained_on_again_next_step() -> None:
    torch.manual_seed(0)
    # Zero initial states, so that per_problem_loss sees the losses the training step ranked.
    replayer = ReplayHardest(0.1)
    module = AdderModule(RecurrentAdder(hidden_size=16, input_size=8), [replayer])
    first = batch(0)
    with torch.no_grad():
        module.training_step(first, 0)
        losses = per_problem_loss(module, *first)
    hardest = set(losses.topk(5).indices.tolist())  # 10% of 50
    replay = replayer.replay
    assert replay is not None and replay.shape == (3, 5, 7)
    kept = {
        i
        for i in range(50)
        if any(
            torch.equal(first[0][i], row) and torch.equal(first[1][i], other)
            for row, other in zip(replay[0], replay[1])
        )
    }
    assert kept == hardest
    assert torch.equal(replay[2], torch.stack([first[2][i] for i in sorted(kept, key=lambda i: -losses[i])]))

    second = batch(1)
    a, b, target = replayer.extend_batch(second)
    assert a.shape == (55, 7)  # 50 fresh problems and the 5 replayed ones
    assert torch.equal(a[:50], second[0]) and torch.equal(a[50:], replay[0]) and torch.equal(target[50:], replay[2])


def test_replay_off_trains_on_the_fresh_batch_only() -> None:
    replayer = ReplayHardest(0.0)
    module = AdderModule(RecurrentAdder(hidden_size=16, input_size=8), [replayer])
    with torch.no_grad():
        module.training_step(batch(0), 0)
    assert replayer.replay is None
    second = batch(1)
    assert all(torch.equal(x, y) for x, y in zip(replayer.extend_batch(second), second))


def test_the_replay_share_is_checked() -> None:
    for share in (-0.1, 1.0):
        with pytest.raises(ValueError, match=r"share must be in \[0, 1\)"):
            ReplayHardest(share)


def test_the_replay_is_saved_with_the_checkpoint_and_restored(tmp_path: Path) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(6), "--model.replay_hardest", "0.1")
    (run,) = run_dirs(tmp_path)
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    replay = checkpoint["replay"]
    assert replay.shape == (1, 3, round(0.1 * 32), 4)  # one rank; a, b, target; 3-digit problems + carry
    a, b, target = replay[0]
    assert torch.equal(make_problems(a[:, :-1], b[:, :-1], 10)[2], target)  # real problems with their sums
    module = AdderModule(RecurrentAdder(hidden_size=16, input_size=8))
    module.on_load_checkpoint(checkpoint)
    assert isinstance(module.objectives[0], ReplayHardest) and torch.equal(module.objectives[0].replay, replay[0])


def test_gpu_style_non_finite_check_reports_the_first_bad_step_later() -> None:
    # On a GPU, ordinary steps only note a bad loss on the device (no wait for the GPU); the next
    # logging step, or the end of training, reads it back and stops with the first bad step.
    module = AdderModule()
    module._check_finite(torch.tensor(1.0), now=False)
    module._check_finite(torch.tensor(float("nan")), now=False)  # global_step is 0 outside a trainer
    module._check_finite(torch.tensor(float("inf")), now=False)
    with pytest.raises(NonFiniteLossError, match="non-finite at step 0"):
        module._check_finite(torch.tensor(1.0), now=True)
    module._check_finite(torch.tensor(1.0), now=False)
    module.on_train_end()  # finite steps only: nothing noted, nothing raised
    module._check_finite(torch.tensor(float("nan")), now=False)
    with pytest.raises(NonFiniteLossError):
        module.on_train_end()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_state_noise_starts_training_problems_from_a_seeded_random_state(cell: str) -> None:
    torch.manual_seed(4)
    net = RecurrentAdder(cell, hidden_size=8, input_size=4, num_layers=2)
    module = AdderModule(net, [InitialStateNoise(0.3)])
    context = StepContext(net, 0, torch.device("cpu"))
    state = module.objectives[0].initial_state(None, 5, context)
    parts = state if cell == "lstm" else (state,)
    for part in parts:
        assert part.shape == (2, 5, 8) and 0.15 < float(part.std()) < 0.45
    again = module.objectives[0].initial_state(None, 5, context)
    assert all(torch.equal(x, y) for x, y in zip(parts, again if cell == "lstm" else (again,)))  # same step: same draw
    # The training loss is computed from that state, not from zeros.
    quiet = AdderModule(RecurrentAdder(cell, hidden_size=8, input_size=4, num_layers=2), [])
    quiet.load_state_dict(module.state_dict())
    problems = batch(0)
    with torch.no_grad():
        assert not torch.equal(module.training_step(problems, 0), quiet.training_step(problems, 0))
    assert InitialStateNoise(0.0).initial_state(None, 5, context) is None


def test_the_default_objectives_follow_the_network_and_are_recorded() -> None:
    for cell in ("lstm", "gru"):
        module = AdderModule(RecurrentAdder(cell))
        assert [type(o) for o in module.objectives] == [ReplayHardest, InitialStateNoise]
        assert module.hparams.objectives[1]["init_args"] == {"std": 0.3}  # what a checkpoint records
    # The default network, a one-layer tanh RNN, also gets the objectives that make it provable;
    # other RNNs get the gated cells' defaults (the one-step objectives bound tanh steps of one layer).
    shaped = [ReplayHardest, InitialStateNoise, StepContraction, IntervalStep]
    assert [type(o) for o in AdderModule().objectives] == shaped
    assert [type(o) for o in AdderModule(RecurrentAdder("rnn", num_layers=2)).objectives] == shaped[:2]
    assert [type(o) for o in AdderModule(RecurrentAdder("rnn", nonlinearity="relu")).objectives] == shaped[:2]
    mlp = AdderModule(MLPAdder(num_digits=3))  # the MLP has no state: no noise unless asked, and asking is refused
    assert [type(o) for o in mlp.objectives] == [ReplayHardest]
    assert mlp.hparams.net["class_path"].endswith("MLPAdder") and mlp.hparams.net["init_args"]["num_digits"] == 3
    assert AdderModule(objectives=[]).objectives == []


def test_state_noise_is_refused_where_it_cannot_apply() -> None:
    with pytest.raises(ValueError, match="std must be >= 0"):
        InitialStateNoise(-0.1)
    with pytest.raises(ValueError, match="InitialStateNoise applies to networks with a state; MLPAdder has none"):
        AdderModule(MLPAdder(num_digits=3), [InitialStateNoise(0.1)])
