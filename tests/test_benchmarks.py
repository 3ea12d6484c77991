"""The benchmark scripts still run and measure what they claim (not timings: see docs/performance.md)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from adder.problems.digits import digits_to_int
from benchmarks import run as bench
from benchmarks.course_report import main as course_report_loop
from benchmarks.course_report import string_batch
from benchmarks.plain_loop import main as plain_loop


def test_course_report_generator_makes_true_sums() -> None:
    a, b, total = string_batch(50, np.random.default_rng(0))
    assert a.shape == b.shape == total.shape == (50, 11)
    for row in range(50):
        assert digits_to_int(a[row].tolist()) + digits_to_int(b[row].tolist()) == digits_to_int(total[row].tolist())


def test_course_report_loop_runs() -> None:
    assert course_report_loop(max_steps=3, eval_every=100) == {"steps": 3, "first_perfect_seconds": None}


def test_plain_loop_times_the_requested_steps() -> None:
    record = plain_loop(steps=3, warmup=1)
    assert record["steps"] == 3 and record["seconds"] > 0


def fake_section(repeats: int, device: str) -> list[str]:
    return ["## 99. A fake section", "", f"{repeats} repeats on {device}", ""]


def run_benchmarks(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setitem(bench.SECTIONS, "fake", fake_section)
    monkeypatch.setattr(sys, "argv", ["benchmarks/run.py", "--only", "fake", "--repeats", "1", *args])
    monkeypatch.setattr(bench, "machine", lambda: "this machine")
    bench.main()


def test_results_go_where_the_user_says_and_docs_change_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracked = {path: path.stat().st_mtime_ns for path in [bench.PAGE, *bench.TRACKED_RESULTS.iterdir()]}
    run_benchmarks(monkeypatch, "--out", str(tmp_path / "out"))
    assert "1 repeats on cpu" in (tmp_path / "out" / "fake.md").read_text()
    assert {path: path.stat().st_mtime_ns for path in [bench.PAGE, *bench.TRACKED_RESULTS.iterdir()]} == tracked
    # --update-docs: the result is kept with the others and the page is rewritten (here in copies).
    shutil.copytree(bench.TRACKED_RESULTS, tmp_path / "results")
    monkeypatch.setattr(bench, "TRACKED_RESULTS", tmp_path / "results")
    run_benchmarks(monkeypatch, "--out", str(tmp_path / "out"), "--update-docs", "--output", str(tmp_path / "page.md"))
    assert (tmp_path / "results" / "fake.md").is_file()
    assert (tmp_path / "page.md").read_text().rstrip().endswith(bench.NOTES.read_text().rstrip())
    assert "## 99. A fake section" in (tmp_path / "page.md").read_text()


def test_a_page_is_written_only_with_update_docs_or_assemble(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as stop:
        run_benchmarks(monkeypatch, "--output", "page.md")
    assert stop.value.code == 2
