"""scripts/proof_diagnostics.py, on the hand-made exact binary adder: a plan that proves it says so,
the spreads shrink with the history, and the analysis contains the sampled states."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from tests.helpers.hand_adders import exact_adder, save

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "proof_diagnostics.py"


def test_the_diagnostics_run_on_a_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def diagnose(*args: str) -> str:
        """The script's output, run as ``python scripts/proof_diagnostics.py ARGS`` but in-process
        (a process of its own would import torch again, each of the three times)."""
        capsys.readouterr()
        monkeypatch.setattr("sys.argv", [str(SCRIPT), *args])
        runpy.run_path(str(SCRIPT), run_name="__main__")
        return capsys.readouterr().out

    ckpt = str(save(exact_adder(), tmp_path / "exact.ckpt"))
    assert re.search(r"plan 0,2,0: proved True, worst margin [\d.]+", diagnose("plans", ckpt, "0,2,0"))
    # Run past failed margins, the plan that proves it ends inductive with the same kind of margin.
    assert re.search(
        r"plan 0,2,0: boxes inductive after \d+ rounds, worst margin [\d.]+$", diagnose("rounds", ckpt, "0,2,0")
    )
    aligned = diagnose("rounds", ckpt, "1,1,1,aligned")
    assert re.search(r"plan 1,1,1,aligned: boxes inductive after \d+ rounds, worst margin [\d.]+$", aligned)
    spreads = [float(x) for x in re.findall(r"largest spread ([\d.e-]+)", diagnose("spread", ckpt))]
    assert len(spreads) == 5 and spreads[0] > spreads[-1]
    for line in diagnose("contraction", ckpt).splitlines()[1:]:
        analysed, sampled = line.split("; ")
        # The analysis holds every sampled state: its radius is never below theirs.
        for mine, seen in zip(analysed.split()[3:], sampled.split()[2:]):
            assert float(mine) >= float(seen), line
