"""AdderModule: hard-example replay (the hardest problems of a step come back in the next one) and the
non-finite loss check."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from adder.problems.digits import make_problems
from adder.problems.samplers import ProblemSampler, make_generator
from adder.training.module import DEFAULT_STATE_NOISE, AdderModule, NonFiniteLossError
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
    module = AdderModule(hidden_size=16, input_size=8, replay_hardest=0.1, state_noise=0.0)
    first = batch(0)
    with torch.no_grad():
        module.training_step(first, 0)
        losses = per_problem_loss(module, *first)
    hardest = set(losses.topk(5).indices.tolist())  # 10% of 50
    replay = module._replay
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
    a, b, target = module._add_replay(second)
    assert a.shape == (55, 7)  # 50 fresh problems and the 5 replayed ones
    assert torch.equal(a[:50], second[0]) and torch.equal(a[50:], replay[0]) and torch.equal(target[50:], replay[2])


def test_replay_off_trains_on_the_fresh_batch_only() -> None:
    module = AdderModule(hidden_size=16, input_size=8, replay_hardest=0.0)
    with torch.no_grad():
        module.training_step(batch(0), 0)
    assert module._replay is None
    second = batch(1)
    assert all(torch.equal(x, y) for x, y in zip(module._add_replay(second), second))


def test_the_replay_is_saved_with_the_checkpoint_and_restored(tmp_path: Path) -> None:
    run_cli("fit", tmp_path, *tiny_fit_args(6), "--model.replay_hardest", "0.1")
    (run,) = run_dirs(tmp_path)
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    replay = checkpoint["replay"]
    assert replay.shape == (1, 3, round(0.1 * 32), 4)  # one rank; a, b, target; 3-digit problems + carry
    a, b, target = replay[0]
    assert torch.equal(make_problems(a[:, :-1], b[:, :-1], 10)[2], target)  # real problems with their sums
    module = AdderModule(hidden_size=16, input_size=8)
    module.on_load_checkpoint(checkpoint)
    assert torch.equal(module._replay, replay[0])


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
    module = AdderModule(cell=cell, hidden_size=8, input_size=4, num_layers=2, state_noise=0.3)
    state = module._initial_state(5, torch.device("cpu"))
    parts = state if cell == "lstm" else (state,)
    for part in parts:
        assert part.shape == (2, 5, 8) and 0.15 < float(part.std()) < 0.45
    again = module._initial_state(5, torch.device("cpu"))
    assert all(torch.equal(x, y) for x, y in zip(parts, again if cell == "lstm" else (again,)))  # same step: same draw
    # The training loss is computed from that state, not from zeros.
    quiet = AdderModule(cell=cell, hidden_size=8, input_size=4, num_layers=2, state_noise=0.0)
    quiet.load_state_dict(module.state_dict())
    problems = batch(0)
    with torch.no_grad():
        assert not torch.equal(module.training_step(problems, 0), quiet.training_step(problems, 0))
    assert AdderModule(cell=cell, state_noise=0.0)._initial_state(5, torch.device("cpu")) is None


def test_state_noise_defaults_by_cell_and_records_the_value_used() -> None:
    for cell in ("rnn", "lstm", "gru"):
        module = AdderModule(cell=cell)
        assert module.state_noise == DEFAULT_STATE_NOISE > 0.0
        assert module.hparams.state_noise == DEFAULT_STATE_NOISE  # what a checkpoint records
    mlp = AdderModule(cell="mlp")  # the MLP has no state: no noise unless asked, and asking is refused
    assert mlp.state_noise == 0.0 and mlp.hparams.state_noise == 0.0
    assert AdderModule(cell="rnn", state_noise=0.05).hparams.state_noise == 0.05


def test_state_noise_is_refused_where_it_cannot_apply() -> None:
    with pytest.raises(ValueError, match="state_noise must be >= 0"):
        AdderModule(state_noise=-0.1)
    with pytest.raises(ValueError, match="recurrent cells"):
        AdderModule(cell="mlp", state_noise=0.1)
