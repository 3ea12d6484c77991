"""Training runs on one torch thread unless the user gives a count (adder.training.threads)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from adder.training.cli import main
from adder.training.threads import DEFAULT_TRAINING_THREADS, THREAD_VARIABLES
from tests.helpers.cli import QUIET, tiny_fit_args


class ThreadCount(Callback):
    """Notes torch's intra-op threads while the fit runs."""

    threads: int | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.threads = torch.get_num_threads()


@pytest.mark.parametrize("given", [None, "2"])
def test_fit_uses_one_thread_unless_told(given: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if given is not None:
        monkeypatch.setenv("OMP_NUM_THREADS", given)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        count = ThreadCount()
        main(["fit", "--trainer.default_root_dir", str(tmp_path), *QUIET, *tiny_fit_args(1)], callbacks=[count])
        # A count the user gives is used as given (here torch's own, set before, as the variable says).
        assert count.threads == (DEFAULT_TRAINING_THREADS if given is None else 2)
        assert torch.get_num_threads() == 2  # restored for whoever runs commands in-process
    finally:
        torch.set_num_threads(before)
