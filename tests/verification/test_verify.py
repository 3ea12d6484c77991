"""``adder verify`` on hand-made binary adders: the exact one is proved; broken ones are refuted
with sums that ``adder add`` really gets wrong; trained models are never proved wrongly."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import torch

from adder.evaluation.sums import add_with_model
from adder.models.checkpoints import load_adder
from adder.problems.digits import digits_to_int, format_digits, int_to_digits
from adder.training.cli import main
from adder.verification.elman import ElmanAdder
from adder.verification.prove import COUNTEREXAMPLE, PROVED, UNDECIDED, verify
from adder.verification.zonotope import Zonotope
from tests.helpers.cli import QUIET, adder_in_process, run_cli, run_dirs, tiny_fit_args
from tests.helpers.hand_adders import exact_adder, leaky_adder, save
from tests.helpers.tensorboard import scalars

COUNTEREXAMPLE_LINE = re.compile(r"counterexample: (\w+) \+ (\w+): the model says (\w+), the sum is (\w+)$")


def adder(*args: str) -> subprocess.CompletedProcess[str]:
    return adder_in_process(*args)


def test_the_exact_adder_is_proved(tmp_path: Path) -> None:
    done = adder("verify", "--ckpt", str(save(exact_adder(), tmp_path / "exact.ckpt")), "--time-limit", "60")
    assert done.returncode == PROVED, done.stderr
    assert done.stdout.startswith("proved: every sum of two base-2 numbers of any length is right")
    assert "float32 rounding" in done.stdout


@pytest.mark.parametrize(
    ("name", "model", "shortest"),
    [
        ("sum bit wrong on 1 + 1 + carry", exact_adder(thresholds=(1, 2, 2.6)), 1),
        ("sum bit wrong on 1 + 0", exact_adder(thresholds=(1.3, 2, 3)), 1),
        ("carry leaks along a run of 1 + 0", leaky_adder(), 30),
    ],
)
def test_a_broken_adder_is_refuted_with_a_sum_add_gets_wrong(
    name: str, model: torch.nn.Module, shortest: int, tmp_path: Path
) -> None:
    ckpt = str(save(model, tmp_path / "broken.ckpt"))
    done = adder("verify", "--ckpt", ckpt, "--time-limit", "120")
    assert done.returncode == COUNTEREXAMPLE, (name, done.stdout, done.stderr)
    found = COUNTEREXAMPLE_LINE.match(done.stdout.strip())
    assert found, done.stdout
    a, b, model_sum, true_sum = found.groups()
    assert int(true_sum, 2) == int(a, 2) + int(b, 2)
    added = adder("add", "--ckpt", ckpt, f"{a}+{b}")
    assert added.returncode == 0 and added.stdout.strip() == model_sum != true_sum
    assert max(len(a), len(b)) >= shortest  # the leak shows only after many positions


def test_the_leaky_adder_is_right_on_every_short_sum() -> None:
    """What makes it a test of the proof: sampling short sums finds nothing wrong."""
    model = leaky_adder()
    problems = [(int_to_digits(x, 2), int_to_digits(y, 2)) for x in range(64) for y in range(64)]
    sums = add_with_model(model, problems, 2)
    assert sums == [format_digits(int_to_digits(x + y, 2), 2) for x in range(64) for y in range(64)]


def test_the_float32_states_of_a_run_lie_in_the_sets_from_the_zero_state() -> None:
    """The rounding allowances cover what float32 does: along a sum, the network's own states stay
    inside the sets the verifier computes from the zero state."""
    torch.manual_seed(0)
    model = leaky_adder()
    net = ElmanAdder.from_model(model)
    a = torch.randint(2, (1, 300))
    b = torch.randint(2, (1, 300))
    with torch.no_grad():
        hidden, _ = model.rnn(model.encoder(a, b))
    sets = Zonotope(net.zero_state(), torch.zeros(1, 0, net.state_size, dtype=torch.float64))
    for t in range(300):
        sets = net.step_set(sets, net.pair_inputs[a[0, t], b[0, t]][None], torch.zeros(1, 3, dtype=torch.float64))
        low, high = sets.bounds()
        assert bool(((hidden[0, t].double() >= low[0]) & (hidden[0, t].double() <= high[0])).all()), t
        sets = Zonotope(sets.center, sets.generators[:, -3:])  # keep the last step's box: stays small


@pytest.mark.slow
def test_a_trained_model_is_proved_only_if_it_adds_long_sums_right(trained_checkpoint: Path) -> None:
    model = load_adder(trained_checkpoint)
    status, line = verify(model, time_limit=20)
    assert status in (PROVED, COUNTEREXAMPLE, UNDECIDED), line
    if status == COUNTEREXAMPLE:
        a, b, model_sum, true_sum = COUNTEREXAMPLE_LINE.match(line).groups()  # type: ignore[union-attr]
        problem = (list(map(int, reversed(a))), list(map(int, reversed(b))))
        assert add_with_model(model, [problem], 10)[0] == model_sum != true_sum
    if status == PROVED:
        generator = torch.Generator().manual_seed(0)
        digits = torch.randint(10, (2, 500, 300), generator=generator)
        problems = [(digits[0, i].tolist(), digits[1, i].tolist()) for i in range(500)]
        truth = [format_digits(int_to_digits(digits_to_int(x) + digits_to_int(y)), 10) for x, y in problems]
        assert add_with_model(model, problems, 10) == truth


@pytest.mark.slow
def test_fit_can_log_whether_its_model_was_proved(tmp_path: Path) -> None:
    """--verify_after_fit: the run holds verify/proved and verify/counterexample, one of them 1
    or both 0 (undecided), next to its other metrics, so a study's HParams table shows them."""
    run_cli("fit", tmp_path, *tiny_fit_args(6, "--verify_after_fit", "5"))
    found = scalars(run_dirs(tmp_path)[-1])
    proved, refuted = found["verify/proved"][-1][1], found["verify/counterexample"][-1][1]
    assert {proved, refuted} <= {0.0, 1.0} and proved + refuted <= 1
    # Six steps do not make an adder: a model that adds everything would be a surprise here.
    assert proved == 0.0


@pytest.mark.slow
def test_fit_trains_on_from_each_verdict_for_the_rounds_asked(tmp_path: Path) -> None:
    """--verify_refine 1: a verdict that is not a proof gives one more round of training (two
    steps here) with its sums replayed, verified again; both verdicts are logged with their round."""
    run_cli(
        "fit",
        tmp_path,
        *tiny_fit_args(6, "--verify_after_fit", "5", "--verify_refine", "1", "--verify_refine_steps", "2"),
    )
    found = scalars(run_dirs(tmp_path)[-1])
    assert [value for _, value in found["verify/round"]] == [0.0, 1.0]
    assert [step for step, _ in found["verify/round"]] == [6, 8]  # the round trained two steps on
    assert all(value == 0.0 for _, value in found["verify/proved"])


@pytest.mark.slow
@pytest.mark.parametrize("verify", [True, False])
def test_a_recipe_adder_verify_proves_ends_its_fit_with_the_verdict(
    verify: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """configs/recipes/smallest_binary.yaml says verify_after_fit: a fit of it ends with the
    verdict (here of a 3-step model), unless --verify_after_fit null turns it off."""
    off = [] if verify else ["--verify_after_fit", "null"]
    run_cli("fit", tmp_path, "--config", "smallest_binary", "--trainer.max_steps", "3", *off)
    err = capsys.readouterr().err
    assert any(line.startswith(("proved", "counterexample", "undecided")) for line in err.splitlines()) == verify
    assert (run_dirs(tmp_path)[-1] / "verify.json").is_file() == verify


@pytest.mark.parametrize(
    ("network", "verified"),
    [([], True), (["--model.nonlinearity", "relu"], False)],
    ids=["tanh-rnn", "relu-rnn"],
)
def test_fit_verifies_by_default_where_verify_models_the_network(
    network: list[str], verified: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --verify_after_fit: auto, the fit ends with the verdict (of a 6-step model here); a
    network verify does not model (a ReLU RNN) is trained all the same, with a note saying why no verdict."""
    main(["fit", "--trainer.default_root_dir", str(tmp_path), *QUIET, *tiny_fit_args(6, *network)])
    lines = capsys.readouterr().err.splitlines()
    run = run_dirs(tmp_path)[-1]
    assert "verify_after_fit: auto" in (run / "config.yaml").read_text().splitlines()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert lines[-1].startswith(("proved", "counterexample", "undecided")) == verified
    assert (run / "verify.json").is_file() == verified
    assert ("verify/proved" in scalars(run)) == verified
    if not verified:
        assert lines[-1].startswith("note: not verifying: adder verify models nonlinearity tanh only")
