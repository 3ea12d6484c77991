"""A study's report and plots, from whatever its storage holds: ``docs/experiments/<study>.md``."""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from adder import config_files
from adder.evaluation.reporting import pyplot
from adder.study.spec import Experiment, metric_value, metric_values


def summary(values: Sequence[float], scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    """'mean (min-max)' of one value per seed, or the value alone for one seed."""
    if not values:
        return "—"
    values = [scale * v for v in values]
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}{unit}"
    return f"{mean:.{digits}f}{unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def completed_records(trials: Sequence[FrozenTrial]) -> dict[str, list[dict[str, Any]]]:
    """Label -> the records of its completed trials (one per seed), first trial first."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        if trial.state == TrialState.COMPLETE and "records" in trial.user_attrs:
            grouped.setdefault(str(trial.user_attrs["point"]), []).extend(trial.user_attrs["records"])
    return grouped


def study_link(experiment: Experiment) -> str:
    """The study file as linked from docs/experiments/ of this repository (configs/ is at its top)."""
    source = Path(experiment.source).resolve()
    repo = config_files.CONFIG_DIR.parent
    if source.is_relative_to(repo):
        return "../../" + source.relative_to(repo).as_posix()
    return source.as_uri()


def write_report(experiment: Experiment, trials: Sequence[FrozenTrial], docs_dir: Path, command: str) -> Path:
    docs_dir.mkdir(parents=True, exist_ok=True)
    grouped = completed_records(trials)
    quick = any(r.get("quick") for records in grouped.values() for r in records)
    lines = [f"# {experiment.title}", ""]
    if experiment.description:
        lines += [experiment.description, ""]
    lines += [
        f"Produced by `{command}`"
        + (" (**--quick smoke run: figures are not meaningful**)" if quick else "")
        + f" from [{experiment.path}]({study_link(experiment)}); each row is one `adder fit` then `adder test` on "
        "its last checkpoint per seed, logged to TensorBoard under the runs directory. With several seeds "
        "a cell is the mean and, in brackets, the range over the seeds.",
        "",
    ]
    if experiment.search is None:
        lines += _grid_table(experiment, grouped)
    else:
        lines += _search_table(experiment, trials)
    retried = {t.user_attrs["resumes"] for t in trials if "resumes" in t.user_attrs}
    failed = [t for t in trials if t.state == TrialState.FAIL and t.number not in retried]
    waiting = [t for t in trials if t.state == TrialState.WAITING and "resumes" in t.user_attrs]
    if waiting:
        lines += [
            f"{len(waiting)} interrupted trials are queued again and resume from their checkpoints next time.",
            "",
        ]
    pruned = [t for t in trials if t.state == TrialState.PRUNED and "pruned_at" in t.user_attrs]
    if pruned:
        lines += [f"Trials the study's pruner ({experiment.pruner[0] if experiment.pruner else 'none'}) stopped:", ""]
        lines += [
            f"- trial {t.number} ({t.user_attrs.get('point')}): at step {t.user_attrs['pruned_at']}, "
            f"val/exact_match {100 * t.value:.2f}%"
            if t.value is not None
            else f"- trial {t.number}"
            for t in pruned
        ]
        lines.append("")
    if failed:
        lines += ["Trials that failed:", ""]
        lines += [f"- trial {t.number} ({t.user_attrs.get('point')}): {failure_reason(t)}" for t in failed]
        lines.append("")
    samples = [(label, records[0]["samples"]) for label, records in grouped.items() if records[0].get("samples")]
    if samples:
        lines += _samples_table(samples)
    for title, name in _plots(experiment, grouped, docs_dir) + _search_plots(experiment, trials, docs_dir):
        lines += [f"![{title}]({name})", ""]
    commands = [r["command"] for records in grouped.values() for r in records]
    if commands:
        lines += ["Commands of the individual runs:", "", "```bash", *commands, "```", ""]
    report = docs_dir / f"{experiment.name}.md"
    report.write_text("\n".join(lines))
    return report


def _grid_table(experiment: Experiment, grouped: dict[str, list[dict[str, Any]]]) -> list[str]:
    header = ["point", "parameters", "seeds", "steps", "fit time (s)", f"`{experiment.metric}`"]
    header += [f"`{column}`" + (" (worst)" if "*" in column else "") for column in experiment.columns]
    verified = any("verdict" in r for records in grouped.values() for r in records)
    if verified:  # the study's args hold verify_after_fit
        header.append("proved")
    if experiment.reference:
        header.append("seed document")
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for point in experiment.points:
        records = grouped.get(point.label, [])
        values = [v for r in records if (v := metric_value(r, experiment.metric)) is not None]
        row = [
            point.label,
            f"{records[0]['num_parameters']:,}" if records else "—",
            f"{len(records)}/{len(experiment.seeds)}",
            summary([r["steps"] for r in records], digits=0),
            summary([r["fit_seconds"] for r in records], digits=0),
            summary(values, scale=100, unit="%"),
        ]
        for column in experiment.columns:  # each seed's worst match, then mean (range) over the seeds
            worst = [min(found) for r in records if (found := metric_values(r, column))]
            row.append(summary(worst, scale=100, unit="%"))
        if verified:
            row.append(proved_cell(records))
        if experiment.reference:
            row.append(experiment.reference.get(point.label, "—"))
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    if experiment.reference_note:
        lines += [experiment.reference_note, ""]
    return lines


def proved_cell(records: Sequence[Mapping[str, Any]]) -> str:
    """How many of a point's seeds ``adder verify`` proved, of those it judged, and the others' verdicts."""
    verdicts = [r["verdict"] for r in records if "verdict" in r]
    if not verdicts:
        return "—"
    others = sorted({v for v in verdicts if v != "proved"})
    return f"{verdicts.count('proved')}/{len(verdicts)}" + (f" ({', '.join(others)})" if others else "")


def _search_table(experiment: Experiment, trials: Sequence[FrozenTrial]) -> list[str]:
    search = experiment.search
    assert search is not None
    done = [t for t in trials if t.state == TrialState.COMPLETE and "records" in t.user_attrs]
    keys = list(search.params)
    header = ["trial", *keys, *(f"{d} `{m}`" for d, m in search.objectives)]
    if search.constraints:
        header.append("constraints")
    feasible = [t for t in done if all(v <= 0 for v in t.user_attrs.get("constraints", []))]
    lines = [
        f"{len(done)} trials done of {search.trials}"
        + (
            f"; {len(feasible)} meet every constraint ({', '.join(f'`{p} {op} {b:g}`' for p, op, b in search.constraints)})"
            if search.constraints
            else ""
        )
        + ". Best first:",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    sign = [1 if d == "minimize" else -1 for d, _ in search.objectives]

    def order(t: FrozenTrial) -> tuple:
        ok = all(v <= 0 for v in t.user_attrs.get("constraints", []))
        return (not ok, *(s * v for s, v in zip(sign, t.values)))

    for trial in sorted(done, key=order):
        flags = trial.user_attrs["flags"]
        row = [str(trial.number), *(_cell(flags.get(k, "—")) for k in keys), *(f"{v:g}" for v in trial.values)]
        if search.constraints:
            met = all(v <= 0 for v in trial.user_attrs.get("constraints", []))
            # A search stops a trial at the first seed that misses (the others cannot mend it).
            row.append("met" if met else f"missed (seed {trial.user_attrs['records'][-1]['seed']})")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    if "model.cell" in keys and feasible and len(search.objectives) == 1:
        lines += ["The best trial meeting every constraint, per cell:", ""]
        for cell in search.params["model.cell"]:
            mine = [t for t in feasible if t.user_attrs["flags"].get("model.cell") == cell]
            if mine:
                best = min(mine, key=order)
                lines.append(
                    f"- {cell}: trial {best.number}, {best.values[0]:g}: `{best.user_attrs['records'][0]['command']}`"
                )
        lines.append("")
    return lines


def _cell(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _samples_table(samples: list[tuple[str, list[dict[str, str]]]]) -> list[str]:
    lines = ["Sample test problems and each model's answer (✓ right, ✗ wrong):", ""]
    lines += [
        "| a | b | truth | " + " | ".join(label for label, _ in samples) + " |",
        "|" + " --- |" * (3 + len(samples)),
    ]
    for i, row in enumerate(samples[0][1]):
        answers = [f"{s[i]['predicted']} {'✓' if s[i]['predicted'] == s[i]['truth'] else '✗'}" for _, s in samples]
        lines.append(f"| {row['a']} | {row['b']} | {row['truth']} | " + " | ".join(answers) + " |")
    return [*lines, ""]


def _plots(experiment: Experiment, grouped: dict[str, list[dict[str, Any]]], docs_dir: Path) -> list[tuple[str, str]]:
    """Learning curves and the final metric with error bars over seeds; none without matplotlib."""
    if not grouped or experiment.search is not None:
        return []
    plt = pyplot()
    if plt is None:
        print("note: matplotlib is not installed (pip install -e '.[plots]'): no plots written")
        return []
    return [
        ("learning curves", _curves_plot(plt, experiment, grouped, docs_dir)),
        ("final metric", _final_plot(plt, experiment, grouped, docs_dir)),
    ]


def _curves_plot(plt: Any, experiment: Experiment, grouped: dict[str, list[dict[str, Any]]], docs_dir: Path) -> str:
    """Each run's training loss and validation exact match against the step; the file's name."""
    figure, (loss_axes, val_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for number, (label, records) in enumerate(grouped.items()):
        color = f"C{number % 10}"  # one colour per point, one line per seed
        for index, record in enumerate(records):
            curves, name = record["curves"], label if index == 0 else None
            if "train/loss" in curves:
                steps, values = zip(*curves["train/loss"])
                loss_axes.plot(steps, values, label=name, color=color, alpha=0.8)
            if "val/exact_match" in curves:
                steps, values = zip(*curves["val/exact_match"])
                val_axes.plot(steps, [100 * v for v in values], marker=".", label=name, color=color, alpha=0.8)
    loss_axes.set(xlabel="step", ylabel="training loss", yscale="log", title="training loss")
    val_axes.set(xlabel="step", ylabel="exact match (%)", ylim=(-2, 102), title="validation exact match")
    for axes in (loss_axes, val_axes):
        axes.grid(True, alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize="small")
    figure.suptitle(experiment.title)
    figure.tight_layout()
    name = f"{experiment.name}_curves.png"
    figure.savefig(docs_dir / name, dpi=110)
    plt.close(figure)
    return name


def _final_plot(plt: Any, experiment: Experiment, grouped: dict[str, list[dict[str, Any]]], docs_dir: Path) -> str:
    """The final metric of each point, mean and min-max over seeds, beside the reference; the file's name."""
    labels = [p.label for p in experiment.points]
    figure, axes = plt.subplots(figsize=(max(5, 1.1 * len(labels) + 2), 4))
    means, lows, highs = [], [], []
    for label in labels:
        values = [100 * v for r in grouped.get(label, []) if (v := metric_value(r, experiment.metric)) is not None]
        mean = statistics.fmean(values) if values else float("nan")
        means.append(mean)
        lows.append(mean - min(values) if values else 0.0)
        highs.append(max(values) - mean if values else 0.0)
    positions = range(len(labels))
    axes.bar(
        positions, means, width=0.6, yerr=[lows, highs], capsize=4, label="this project (mean, min-max over seeds)"
    )
    reference = [_percent(experiment.reference.get(label)) for label in labels]
    if any(v is not None for v in reference):
        xs = [x for x, v in zip(positions, reference) if v is not None]
        axes.scatter(
            xs, [v for v in reference if v is not None], color="black", marker="D", zorder=3, label="seed document"
        )
    for x, value in zip(positions, means):
        axes.annotate(f"{value:.1f}", (x, value), ha="center", va="bottom", fontsize="small")
    axes.set_xticks(list(positions), labels, rotation=20 if len(labels) > 5 else 0)
    axes.set(ylabel=f"{experiment.metric} (%)", ylim=(0, 110), title=experiment.title)
    axes.legend(fontsize="small", loc="lower right")
    figure.tight_layout()
    name = f"{experiment.name}_final.png"
    figure.savefig(docs_dir / name, dpi=110)
    plt.close(figure)
    return name


def _search_plots(experiment: Experiment, trials: Sequence[FrozenTrial], docs_dir: Path) -> list[tuple[str, str]]:
    """Optuna's own pictures of a search: the optimisation history, the parameters' importances
    and, for two objectives, the Pareto front; none without matplotlib or finished trials."""
    search = experiment.search
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if search is None or not done or pyplot() is None:
        return []
    import warnings

    import optuna
    from optuna.visualization import matplotlib as optuna_plots

    study = optuna.create_study(directions=[d for d, _ in search.objectives])  # in memory, for the plots
    study.add_trials([t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)])
    names = [f"{d} {m}" for d, m in search.objectives]
    first = {"target": lambda t: t.values[0], "target_name": names[0]} if len(names) > 1 else {"target_name": names[0]}
    plots: list[tuple[str, str, Any]] = [
        ("optimisation history", "history", lambda: optuna_plots.plot_optimization_history(study, **first))
    ]
    if len({tuple(sorted(t.params.items())) for t in done}) > 1:  # importances need trials that differ
        plots.append(
            ("parameter importances", "importances", lambda: optuna_plots.plot_param_importances(study, **first))
        )
    if len(names) == 2:
        plots.append(("Pareto front", "pareto", lambda: optuna_plots.plot_pareto_front(study, target_names=names)))
    written = []
    plt = pyplot()
    for title, suffix, draw in plots:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
            try:
                axes = draw()
            except (ValueError, RuntimeError, ZeroDivisionError) as error:  # too few trials for that picture
                print(f"note: no {title} plot: {error}")
                continue
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        figure.set_size_inches(10, 4.5)  # Optuna puts the legend outside the axes
        figure.tight_layout()
        name = f"{experiment.name}_{suffix}.png"
        figure.savefig(docs_dir / name, dpi=110)
        plt.close(figure)
        written.append((title, name))
    return written


def _percent(text: str | None) -> float | None:
    match = re.match(r"\s*([0-9.]+)\s*%", text or "")
    return float(match.group(1)) if match else None


def failure_reason(trial: FrozenTrial) -> str:
    """Why a failed trial failed: its run's error, else (no error stored) Optuna's heartbeat check
    failed it, and its retry callback did not enqueue it again: its retries were spent."""
    if "error" in trial.user_attrs:
        return str(trial.user_attrs["error"])
    times = len(trial.system_attrs.get("retry_history", [])) + 1
    return f"its worker stopped (no heartbeat) {times} times; not run again (adder sweep --retries)"
