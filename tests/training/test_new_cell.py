"""A new cell is one AdderNet subclass under ``adder.models`` and a config naming it: the module, the
objectives on its state, checkpoints and ``load_adder`` need no change."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml
from torch import Tensor, nn

from adder.models import AdderNet, ModelConfig
from adder.models.base import State
from adder.models.checkpoints import load_adder
from tests.helpers.cli import run_cli, run_dirs, tiny_fit_args

MODULE = "adder.models.toy_cell"


class ToyAdder(AdderNet):
    """An Elman cell stepped by hand from ``nn.RNNCell`` over one-hot digit pairs."""

    has_state = True

    def __init__(self, hidden_size: int = 8, base: int = 10, num_digits: int = 10) -> None:
        super().__init__()
        self.config = ModelConfig("rnn", "onehot", hidden_size=hidden_size, base=base, num_digits=num_digits)
        self.cell = nn.RNNCell(2 * base, hidden_size)
        self.head = nn.Linear(hidden_size, base)

    def initial_state(self, problems: int, device: torch.device) -> State:
        return torch.zeros(1, problems, self.cell.hidden_size, device=device)

    def states(
        self,
        a: Tensor,
        b: Tensor,
        state: State = None,
        step_noise: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, State]:
        base = self.config.base
        inputs = torch.cat([nn.functional.one_hot(a, base), nn.functional.one_hot(b, base)], -1).float()
        h = (state if state is not None else self.initial_state(a.shape[0], a.device))[0]
        steps = []
        for t in range(a.shape[1]):
            h = self.cell(inputs[:, t], h)
            steps.append(h)
        return torch.stack(steps, 1), h.unsqueeze(0)


@pytest.fixture
def toy_cell_module() -> Iterator[None]:
    """``ToyAdder`` importable as ``adder.models.toy_cell.ToyAdder``, as a file there would make it."""
    module = types.ModuleType(MODULE)
    ToyAdder.__module__ = MODULE
    module.ToyAdder = ToyAdder  # type: ignore[attr-defined]
    sys.modules[MODULE] = module
    yield
    del sys.modules[MODULE]


@pytest.mark.usefixtures("toy_cell_module")
def test_a_new_cell_trains_with_state_objectives_and_loads_without_lightning(tmp_path: Path) -> None:
    objectives = [
        {"class_path": f"adder.training.objectives.{name}", "init_args": {arg: value}}
        for name, arg, value in (
            ("InitialStateNoise", "std", 0.3),
            ("StateSpread", "weight", 1.0),
            ("CarryHint", "weight", 0.5),
        )
    ]
    config = {
        "model": {
            "net": {"class_path": f"{MODULE}.ToyAdder", "init_args": {"hidden_size": 6}},
            "objectives": objectives,
        }
    }
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(config))
    pairs = zip(tiny_fit_args(3)[::2], tiny_fit_args(3)[1::2])
    args = [part for flag, value in pairs if not flag.startswith("--model.") for part in (flag, value)]
    cli = run_cli("fit", tmp_path, "--config", str(tmp_path / "toy.yaml"), *args)
    assert isinstance(cli.model.model, ToyAdder) and cli.model.config.num_digits == 3  # linked from --data
    model = load_adder(run_dirs(tmp_path)[0] / "checkpoints" / "last.ckpt")
    assert isinstance(model, ToyAdder) and model.cell.hidden_size == 6
    assert torch.equal(model.state_dict()["head.weight"], cli.model.model.state_dict()["head.weight"])
