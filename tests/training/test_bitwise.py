"""The default ``adder fit`` trains the same weights, bit for bit, as the version that made
tests/fixtures/default_fit_30_steps.pt (see tests/fixtures/README.md): a refactoring of the
training layer must not change what the default recipe learns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tests.helpers.cli import run_cli

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "default_fit_30_steps.pt"


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One intra-op thread, as the reference was made with: float sums split over a different
    number of threads round differently."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_thread")
def test_the_default_fit_trains_the_reference_weights(tmp_path: Path) -> None:
    cli = run_cli("fit", tmp_path, "--trainer.max_steps", "30")
    trained = cli.trainer.lightning_module.state_dict()
    reference = torch.load(REFERENCE, weights_only=True)
    assert sorted(trained) == sorted(reference)
    different = [key for key, value in reference.items() if not torch.equal(trained[key], value)]
    assert not different, f"the default fit's weights changed: {different}"
