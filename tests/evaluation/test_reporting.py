"""What runs show people: accuracy-by-length curves and sample tables."""

from adder.evaluation.reporting import by_length, samples_markdown


def test_by_length_and_samples_table() -> None:
    curves = by_length({"test/exact_match/carry/100": 0.5, "test/exact_match/carry/10": 1.0, "val/exact_match": 1.0})
    assert curves == {"carry": [(10, 1.0), (100, 0.5)]}
    table = samples_markdown(
        [{"a": "1", "b": "2", "predicted": "3", "truth": "3"}, {"a": "9", "b": "1", "predicted": "0", "truth": "10"}]
    )
    assert table.count("\n") == 3 and "**no**" in table
