"""Evaluation suites: same problems as `train.py test`, streamed in bounded memory."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
import torch

from adder.__main__ import main
from adder.evaluation.runner import evaluate_suite
from adder.models import ModelConfig, build_model
from adder.models.checkpoints import load_adder
from adder.problems.digits import add_digits, digits_to_int, int_to_digits
from adder.problems.suites import EVAL_BLOCK, eval_blocks
from adder.training.data import AdditionDataModule
from tests.helpers.cli import REPO, run_cli, run_dirs


class OracleAdder(torch.nn.Module):
    """Answers with the ground truth; a stand-in for a perfectly trained model."""

    def predict(self, a: torch.Tensor, b: torch.Tensor, chunk_size: int | None = None) -> torch.Tensor:
        return add_digits(a[:, :-1], b[:, :-1], 10)


def test_suites_match_the_data_module_test_sets() -> None:
    dm = AdditionDataModule(num_digits=4, test_size=250, test_lengths=[7], seed=9)
    dm.setup("test")
    for kind in ("random", "carry", "mixed", "edge"):
        blocks = list(eval_blocks(kind, 250, 7, 10, seed=9))
        a = torch.cat([x for x, _ in blocks])
        assert torch.equal(dm.test_sets[f"{kind}/7"].tensors[0][:, :-1], a)
    assert len(list(eval_blocks("random", 250, 7, 10, seed=9))) == -(-250 // EVAL_BLOCK)


def test_oracle_scores_100_and_untrained_model_does_not() -> None:
    for kind in ("random", "carry", "edge"):
        result = evaluate_suite(OracleAdder(), 10, kind, 300, size=150, seed=1)
        assert result.exact_match == 1.0 and result.digit_acc == 1.0 and result.wrong_digits == 0
        assert result.digits == result.problems * 301
        assert 2.9 / result.digits < result.digit_error_bound < 3.0 / result.digits  # the rule of three
    torch.manual_seed(0)
    untrained = build_model(ModelConfig(hidden_size=8))
    result = evaluate_suite(untrained, 10, "random", 50, size=100, seed=1, chunk_size=16)
    assert result.exact_match == 0.0 and result.problems == 100
    assert result.wrong_digits == round((1 - result.digit_acc) * 100 * 51) > 0
    assert result.digit_error_bound > 1 - result.digit_acc


@pytest.mark.slow
def test_evaluate_command(trained_checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["evaluate", "--ckpt", str(trained_checkpoint), "--lengths", "3", "--size", "300"]
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "random" in table and "carry" in table and "peak memory" in table
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    random = next(r for r in report["results"] if r["kind"] == "random")
    assert random["problems"] == 300 and random["exact_match"] == 1.0  # the fixture trains to 100% on 3 digits
    assert random["wrong_digits"] == 0 and random["digits"] == 1200
    assert random["digit_error_bound"] == pytest.approx(1 - 0.05 ** (1 / 1200))
    assert report["peak_memory_mb"] > 0


@pytest.mark.slow
def test_100000_digits_evaluate_in_bounded_memory(tmp_path: Path) -> None:
    # A small untrained model saved like an AdderModule checkpoint; memory is what is measured.
    import subprocess
    import sys

    hparams = {
        "cell": "gru",
        "encoding": "embedding",
        "input_size": 8,
        "hidden_size": 16,
        "num_layers": 1,
        "base": 10,
        "num_digits": 10,
    }
    model = build_model(ModelConfig("gru", "embedding", 8, 16, 1, 10))
    checkpoint = tmp_path / "tiny.ckpt"
    torch.save(
        {"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()}, "hyper_parameters": hparams},
        checkpoint,
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "adder",
            "evaluate",
            "--ckpt",
            str(checkpoint),
            "--lengths",
            "100000",
            "--kinds",
            "carry",
            "--size",
            "20",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["results"][0]["problems"] == 20 and report["results"][0]["num_digits"] == 100000
    assert report["peak_memory_mb"] < 2048, report["peak_memory_mb"]


@pytest.mark.slow  # the session's trained checkpoint (seconds to train) and a whole script run
def test_wrong_digits_script_lists_the_sums_evaluate_counts_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 200 steps on 3-digit sums leave ~1/3 of 40-digit carry-rich sums wrong: something to list.
    # (The `trained_checkpoint` fixture gets every one right, so it cannot serve here.)
    run_cli(
        "fit",
        tmp_path,
        "--data.num_digits",
        "3",
        "--data.val_size",
        "100",
        "--trainer.max_steps",
        "200",
        "--trainer.val_check_interval",
        "100",
        "--optimizer.lr",
        "0.01",
        "--early_stopping.target",
        "null",
    )
    half_trained = run_dirs(tmp_path)[-1] / "checkpoints" / "last.ckpt"
    main(["evaluate", "--ckpt", str(half_trained), "--lengths", "40", "--kinds", "mixed", "--size", "300", "--json"])
    exact_match = json.loads(capsys.readouterr().out)["results"][0]["exact_match"]
    script = REPO / "scripts" / "wrong_digits.py"
    argv = [str(script), str(half_trained), "--kind", "mixed", "--num-digits", "40", "--size", "300"]
    monkeypatch.setattr("sys.argv", argv)
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    wrong = round((1 - exact_match) * 300)
    assert 0 < wrong < 300
    assert out.splitlines()[-1] == f"{wrong} of 300 sums wrong (mixed, 40 digits)"
    assert out.count("wrong digit(s)") == wrong
    # Every listed position really is wrong: the predicted and true digits differ.
    for line in out.splitlines():
        if line.strip().startswith("position"):
            fields = line.split(",")
            assert fields[0].split()[-1] != fields[1].split()[-1]


@pytest.mark.slow  # the session's trained checkpoint (seconds to train) and a whole script run
def test_repeated_pairs_script_counts_the_sums_the_model_gets_wrong(
    trained_checkpoint: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = REPO / "scripts" / "repeated_pairs.py"
    monkeypatch.setattr("sys.argv", [str(script), str(trained_checkpoint), "--lengths", "3", "40"])
    runpy.run_path(str(script), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    # The same sums written out as integers, x..xa_0 + y..yb_0, and checked one by one.
    model = load_adder(trained_checkpoint)
    pairs = [(a0, b0, x, y) for a0 in range(10) for b0 in range(10) for x in range(10) for y in range(10)]
    for line, num_digits in zip(lines, (3, 40), strict=True):
        first = [int(str(x) * (num_digits - 1) + str(a0)) for a0, _, x, _ in pairs]
        second = [int(str(y) * (num_digits - 1) + str(b0)) for _, b0, _, y in pairs]
        a = torch.tensor([int_to_digits(value, length=num_digits + 1) for value in first])
        b = torch.tensor([int_to_digits(value, length=num_digits + 1) for value in second])
        with torch.no_grad():
            predicted = model.predict(a, b)
        wrong = [i for i, row in enumerate(predicted) if digits_to_int(row) != first[i] + second[i]]
        shown = " ".join(f"({x}, {y})" for x, y in sorted({pairs[i][2:] for i in wrong})) or "none"
        # The least significant wrong digit of any wrong sum, when there is one.
        positions = [
            next(k for k, (got, want) in enumerate(zip(predicted[i].tolist(), truth, strict=True)) if got != want)
            for i in wrong
            for truth in [int_to_digits(first[i] + second[i], length=num_digits + 1)]
        ]
        earliest = f"; earliest wrong digit at position {min(positions)}" if wrong else ""
        assert line == (
            f"{trained_checkpoint}: {num_digits} digits: {len(wrong)} of 10000 sums wrong; repeated pairs: {shown}"
            + earliest
        )
