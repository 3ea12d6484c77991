"""``adder fit`` of the default network with the objectives the references were made with trains
the same weights, bit for bit, as the version that made tests/fixtures/default_fit_30_steps/ (see
tests/fixtures/README.md): a refactoring of the training layer must not change what a recipe learns.
The references predate the default's one-step objectives (StepContraction, IntervalStep), so the
fit names the default's objectives of then, replay and initial-state noise; the resume tests cover
the one-step objectives' draws. Float kernels round differently on
different CPUs (tests/fixtures/README.md), so that version made one reference per kind of CPU,
and the fit must equal one of them exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tests.helpers.cli import run_cli

REFERENCES = Path(__file__).resolve().parents[1] / "fixtures" / "default_fit_30_steps"
#: The default recipe's objectives when the references were made.
OBJECTIVES = [
    {"class_path": "adder.training.objectives.ReplayHardest", "init_args": {"share": 0.2}},
    {"class_path": "adder.training.objectives.InitialStateNoise", "init_args": {"std": 0.3}},
]


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
    cli = run_cli("fit", tmp_path, "--trainer.max_steps", "30", "--model.objectives", json.dumps(OBJECTIVES))
    trained = cli.trainer.lightning_module.state_dict()
    references = {path.stem: torch.load(path, weights_only=True) for path in sorted(REFERENCES.glob("*.pt"))}
    assert len(references) >= 2 and all(sorted(trained) == sorted(ref) for ref in references.values())
    same = [cpu for cpu, ref in references.items() if all(torch.equal(trained[k], v) for k, v in ref.items())]
    assert same, (
        f"the default fit's weights equal none of the references ({', '.join(references)}): either the "
        "training changed, or this CPU rounds differently from those; tests/fixtures/README.md says how "
        "to make this CPU's reference with the reference commit"
    )
