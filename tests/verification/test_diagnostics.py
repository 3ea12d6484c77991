"""scripts/proof_diagnostics.py, on the hand-made exact binary adder: a plan that proves it says so,
the spreads shrink with the history, and the analysis contains the sampled states."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.hand_adders import exact_adder, save

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "proof_diagnostics.py"


def diagnose(*args: str) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_diagnostics_run_on_a_checkpoint(tmp_path: Path) -> None:
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
