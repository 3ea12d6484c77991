"""adder.evaluation.runner: the suites' table reads in aligned columns."""

from __future__ import annotations

from adder.evaluation.runner import SuiteResult, format_table


def test_the_table_s_columns_line_up() -> None:
    results = [
        SuiteResult("random", 10, 2000, 1.0, 1.0, 0, 0.5, 100, 2),
        SuiteResult("edge", 100000, 8, 0.875, 0.99999, 12, 3.0, 8, 1),
    ]
    header, rule, *rows = format_table(results).splitlines()
    assert len({len(line) for line in (header, rule, *rows)}) == 1  # every line as wide as the header
    assert "  digit_acc  wrong digits  error <= (95%)  " in header  # titles apart, not run together
    ends = [header.index(title) + len(title) for title in ("digits", "exact_match", "wrong digits")]
    for row in rows:  # numbers end where their titles end
        assert all(row[end - 1] != " " and (end == len(row) or row[end] == " ") for end in ends), row
