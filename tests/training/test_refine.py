"""Training on from a verdict: the sums a round replays, and rounds of a real fit (train on, verify)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from adder.models import RecurrentAdder
from adder.problems.digits import parse_number
from adder.training.data import AdditionDataModule
from adder.training.module import AdderModule
from adder.training.objectives import ReplaySums
from adder.training.refine import guide_sums, sums_to_replay, verify_and_refine
from adder.verification.prove import COUNTEREXAMPLE, UNDECIDED, Verdict


def test_guide_sums_read_the_failed_path_after_its_carry() -> None:
    choices = [[(3, 4)], [(5, 5), (0, 9)]]
    sums = guide_sums((1, choices), base=10)
    assert sums == sorted(set(sums)) and 1 <= len(sums) <= 2
    for text in sums:
        a, b = (parse_number(part) for part in text.split("+"))
        pairs = list(zip(a + [0] * 3, b + [0] * 3))[:3]
        assert pairs[0] == (1, 9) and pairs[1] == (3, 4) and pairs[2] in choices[1]  # carry 1 into the path
    assert guide_sums((0, [[(2, 2)]]), base=10) == ["2+2"]
    assert guide_sums((0, [[(2, 2)], []]), base=10) == []  # a step no pair takes: no sum reads it


def test_a_round_replays_the_counterexample_and_the_failed_class() -> None:
    wrong = Verdict(COUNTEREXAMPLE, "counterexample: ...", operands=("192334", "713237"), guide=(0, [[(7, 7)]]))
    assert sums_to_replay(wrong, 10) == ["192334+713237", "7+7"]
    assert sums_to_replay(Verdict(UNDECIDED, "undecided: ..."), 10) == []
    assert sums_to_replay(None, 10) == []


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_rounds_train_on_with_the_wrong_sums_and_log_each_verdict(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = AdderModule(RecurrentAdder("rnn", hidden_size=8, input_size=4), [])
    data = AdditionDataModule(num_digits=6, batch_size=16, val_size=20, test_size=20)
    checkpoints = ModelCheckpoint(dirpath=tmp_path / "checkpoints", save_last=True)
    trainer = L.Trainer(
        max_steps=3,
        logger=CSVLogger(tmp_path, name="run"),
        callbacks=[checkpoints],
        enable_progress_bar=False,
        enable_model_summary=False,
        val_check_interval=3,
    )
    trainer.fit(module, datamodule=data)
    found = verify_and_refine(trainer, module, data, checkpoints.last_model_path, seconds=10, rounds=2, steps=2)
    assert found is not None and found.status == COUNTEREXAMPLE  # 7 steps do not make an adder
    assert trainer.global_step == 3 + 2 + 2  # two rounds of two steps each
    (replay,) = [o for o in module.objectives if isinstance(o, ReplaySums)]
    assert replay.sums and module.hparams["objectives"][-1]["init_args"]["sums"] == replay.sums
    saved = torch.load(checkpoints.last_model_path, weights_only=True)
    assert saved["global_step"] == 7 and saved["hyper_parameters"]["objectives"][-1]["init_args"]["sums"]
    metrics = (Path(trainer.logger.log_dir) / "metrics.csv").read_text()
    header, *rows = metrics.splitlines()
    rounds = header.split(",").index("verify/round")
    assert sorted(row.split(",")[rounds] for row in rows if row.split(",")[rounds]) == ["0.0", "1.0", "2.0"]
