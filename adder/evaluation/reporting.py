"""What runs show people: sample-prediction tables and accuracy-vs-length figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor

from adder.problems.digits import format_digits


def sample_rows(
    a: Tensor, b: Tensor, predicted: Tensor, target: Tensor, base: int, count: int = 8
) -> list[dict[str, str]]:
    """The first ``count`` problems as written numbers, with the model's answer and the truth."""
    rows = []
    for row in range(min(count, a.shape[0])):
        rows.append(
            {
                "a": format_digits(a[row], base),
                "b": format_digits(b[row], base),
                "predicted": format_digits(predicted[row], base),
                "truth": format_digits(target[row], base),
            }
        )
    return rows


def samples_markdown(rows: Sequence[Mapping[str, str]], max_chars: int = 40) -> str:
    """A markdown table of sample predictions (TensorBoard's text tab renders markdown)."""

    def cut(text: str) -> str:  # keep very long numbers readable: their last digits matter most
        return text if len(text) <= max_chars else "…" + text[-max_chars:]

    lines = ["| a | b | predicted | truth | right |", "|--:|--:|--:|--:|:-:|"]
    for row in rows:
        mark = "yes" if row["predicted"] == row["truth"] else "**no**"
        lines.append(f"| {cut(row['a'])} | {cut(row['b'])} | {cut(row['predicted'])} | {cut(row['truth'])} | {mark} |")
    return "\n".join(lines)


def by_length(metrics: Mapping[str, Any], prefix: str = "test/exact_match/") -> dict[str, list[tuple[int, float]]]:
    """{kind: [(num_digits, value), ...]} from keys like "test/exact_match/<kind>/<num_digits>"."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for key, value in metrics.items():
        if not key.startswith(prefix):
            continue
        kind, _, length = key[len(prefix) :].rpartition("/")
        if kind and length.isdigit():
            curves.setdefault(kind, []).append((int(length), float(value)))
    return {kind: sorted(points) for kind, points in sorted(curves.items())}


def pyplot() -> Any:
    """matplotlib.pyplot drawing off-screen, or None without the optional ``plots`` extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def length_figure(curves: Mapping[str, Sequence[tuple[int, float]]], ylabel: str = "exact match (%)") -> Any:
    """A matplotlib figure of accuracy against operand length (log x), one line per kind.
    Returns None when matplotlib is not installed (it is the optional ``plots`` extra)."""
    plt = pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(6, 4))
    for kind, points in curves.items():
        axes.plot([n for n, _ in points], [100 * v for _, v in points], marker="o", label=kind)
    axes.set_xscale("log")
    axes.set_ylim(-2, 102)
    axes.set_xlabel("operand length (digits)")
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return figure


def exact_match_table(metrics: Mapping[str, Any], prefix: str = "test/exact_match/") -> str:
    """One table of exact match in %, a row per problem kind and a column per length."""
    curves = by_length(metrics, prefix)
    lengths = sorted({length for points in curves.values() for length, _ in points})
    if not lengths:
        return "no test results"
    width = max(8, *(len(f"{n:,}") + 1 for n in lengths))
    lines = [f"{'exact match %':<14}" + "".join(f"{f'{n:,}':>{width}}" for n in lengths)]
    for kind, points in curves.items():
        values = dict(points)
        cells = (f"{100 * values[n]:>{width}.2f}" if n in values else f"{'-':>{width}}" for n in lengths)
        lines.append(f"{kind:<14}" + "".join(cells))
    return "\n".join(lines)
