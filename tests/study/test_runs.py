"""adder.study.runs: the console of a trial's runs is kept, and its error line found, without training."""

from __future__ import annotations

import sys

from adder.study.runs import captured


def test_a_runs_output_is_captured_and_its_errors_kept() -> None:
    with captured() as errors:
        print("summary table")
        print("error: loss became nan at step 3", file=sys.stderr)
    assert errors.getvalue() == "error: loss became nan at step 3\n"
