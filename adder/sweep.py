"""``adder sweep hidden_size`` (a shipped study, or a path to one): a study as a grid of training runs.

Each point of the grid is a real ``adder fit`` (the Lightning CLI, in-process) followed by
``adder test`` on its last checkpoint. A point whose ``result.json`` exists is not run again, so
an interrupted sweep picks up where it stopped. At the end the results are written as a markdown
table (the seed document's figures beside ours) and PNG plots (learning curves, final metric).

An experiment file::

    name: hidden_size                       # runs go to <runs-dir>/hidden_size/<point>/
    title: Hidden size
    description: one paragraph for the report
    config: course_report                   # base config for every run: a shipped name or a path
    args: {trainer.max_steps: 2000}         # flags shared by every point
    quick: {trainer.max_steps: 5}           # replaces/extends args under --quick (smoke tests)
    grid: {model.hidden_size: [8, 16, 32]}  # one point per value (or per combination)
    points: [{label: SGD, optimizer: SGD}]  # or explicit points, each with its own flags
    reference: {"8": "10.6%"}               # the seed's figure for a point, by label
    metric: test/exact_match/random/10      # the headline column and the final-metric plot
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from adder import config_files
from adder.errors import InputError
from adder.models import count_parameters

QUIET = {"trainer.enable_progress_bar": False, "trainer.enable_model_summary": False}


class SweepError(InputError):
    """An experiment file is missing or malformed."""


@dataclass
class Point:
    label: str
    flags: dict[str, Any]


@dataclass
class Experiment:
    name: str
    title: str
    points: list[Point]
    description: str = ""
    config: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    quick: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, str] = field(default_factory=dict)
    reference_note: str = ""
    metric: str = "test/exact_match/random/10"
    samples: bool = False
    path: str = ""  # as shown in reports and commands
    source: str = ""  # the file it was read from

    def flags(self, point: Point, quick: bool) -> dict[str, Any]:
        """Flags of one run, later ones winning: shared args, --quick overrides, the point's own."""
        merged = dict(self.args)
        if quick:
            merged.update(self.quick)
        merged.update(point.flags)
        if quick:  # a point may set a budget of its own; --quick still caps it
            merged.update({k: v for k, v in self.quick.items() if k.startswith("trainer.")})
        return merged


def load_experiment(name_or_path: str | Path) -> Experiment:
    path = Path(config_files.resolve(str(name_or_path), config_files.EXPERIMENT_DIR))
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as error:
        shipped = ", ".join(config_files.shipped(config_files.EXPERIMENT_DIR))
        raise SweepError(f"cannot read experiment {path}: {error.strerror} (shipped: {shipped})") from None
    except yaml.YAMLError as error:
        raise SweepError(f"{path} is not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(raw, dict) or "name" not in raw:
        raise SweepError(f"{path}: an experiment needs at least 'name' and 'grid' or 'points'")
    points = [Point(str(p.pop("label")), p) for p in (dict(p) for p in raw.get("points") or [])]
    points += list(_grid_points(raw.get("grid") or {}))
    if not points:
        raise SweepError(f"{path}: no points (give 'grid' or 'points')")
    labels = [p.label for p in points]
    if len(set(labels)) != len(labels):
        raise SweepError(f"{path}: point labels must be unique, got {labels}")
    known = {
        "name",
        "title",
        "description",
        "config",
        "args",
        "quick",
        "grid",
        "points",
        "reference",
        "reference_note",
        "metric",
        "samples",
    }
    unknown = set(raw) - known
    config = raw.get("config")
    if config is not None and not Path(config_files.resolve(str(config))).is_file():
        raise SweepError(
            f"{path}: config {config!r} is neither a file nor a shipped config ({', '.join(config_files.shipped())})"
        )
    if unknown:
        raise SweepError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    return Experiment(
        name=str(raw["name"]),
        title=str(raw.get("title", raw["name"])),
        points=points,
        description=str(raw.get("description", "")).strip(),
        config=raw.get("config"),
        args=dict(raw.get("args") or {}),
        quick=dict(raw.get("quick") or {}),
        reference={str(k): str(v) for k, v in (raw.get("reference") or {}).items()},
        reference_note=str(raw.get("reference_note", "")).strip(),
        metric=str(raw.get("metric", "test/exact_match/random/10")),
        samples=bool(raw.get("samples", False)),
        path=_display(path),
        source=str(path),
    )


def _grid_points(grid: Mapping[str, Sequence[Any]]) -> Iterator[Point]:
    keys = list(grid)
    if not keys:
        return
    for values in itertools.product(*(grid[k] for k in keys)):
        label = ", ".join(
            _text(v) if len(keys) == 1 else f"{k.split('.')[-1]}={_text(v)}" for k, v in zip(keys, values)
        )
        yield Point(label, dict(zip(keys, values)))


def _text(value: Any) -> str:
    """A flag value as the command line takes it."""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", label).strip("_") or "point"


def command_line(flags: Mapping[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in flags.items():
        args += [f"--{key}", "null" if value is None else _text(value)]
    return args


# --------------------------------------------------------------------------------------------
def run_point(experiment: Experiment, point: Point, run_dir: Path, quick: bool) -> dict[str, Any]:
    """fit, then test the last checkpoint; returns the result record (also saved as result.json)."""
    from adder.cli import main

    base = ["--config", str(experiment.config)] if experiment.config else []  # the CLI resolves shipped names
    point_flags = experiment.flags(point, quick)
    flags = {**point_flags, **QUIET, "trainer.default_root_dir": str(run_dir)}
    # The run is the point's directory itself, so that TensorBoard names it after the point.
    run_name = [
        "--trainer.logger.init_args.save_dir",
        str(run_dir.parent),
        "--trainer.logger.init_args.name",
        "",
        "--trainer.logger.init_args.version",
        run_dir.name,
    ]
    fit_args = [*base, *command_line(flags), *run_name]
    start = time.perf_counter()
    with quiet():
        fit = main(["fit", *fit_args])
    seconds = time.perf_counter() - start
    fit_dir = Path(fit.trainer.log_dir or run_dir)
    checkpoint = fit_dir / "checkpoints" / "last.ckpt"
    with quiet():  # the test's metrics go into the fit's run: one TensorBoard run per point
        test = main(["test", "--config", str(fit_dir / "config.yaml"), "--ckpt_path", str(checkpoint)])
    metrics = {k: float(v) for k, v in test.trainer.callback_metrics.items() if k.startswith("test/")}
    record: dict[str, Any] = {
        "label": point.label,
        "flags": point_flags,
        "quick": quick,
        "steps": int(fit.trainer.global_step),
        "fit_seconds": round(seconds, 1),
        "num_parameters": count_parameters(fit.model.model),
        "metrics": metrics,
        "curves": _curves(fit_dir),
        "command": "adder fit " + " ".join(_quote(a) for a in [*base, *command_line(point_flags)]),
    }
    if experiment.samples:
        record["samples"] = _samples(fit, checkpoint)
    _write_json(run_dir / "result.json", record)
    return record


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Keep a run's own console output (summaries, tables) out of the sweep's progress lines."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def _link(experiment: Experiment) -> str:
    """The study file as linked from docs/experiments/ of this repository."""
    source = Path(experiment.source).resolve()
    package_root = config_files.CONFIG_DIR.parent.parent
    if source.is_relative_to(package_root):
        return "../../" + source.relative_to(package_root).as_posix()
    return source.as_uri()


def _display(path: Path) -> str:
    """A shipped study by its name (``adder sweep NAME`` finds it anywhere), else the path as given."""
    resolved = path.resolve()
    return resolved.stem if resolved.parent == config_files.EXPERIMENT_DIR else str(path)


def _quote(arg: str) -> str:
    return f"'{arg}'" if re.search(r"[\s{}\[\]]", arg) else arg


def _curves(run_dir: Path) -> dict[str, list[list[float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    events.Reload()
    tags = set(events.Tags()["scalars"])
    return {
        tag: [[e.step, e.value] for e in events.Scalars(tag)]
        for tag in ("train/loss", "val/exact_match")
        if tag in tags
    }


def _samples(fit: Any, checkpoint: Path, count: int = 6) -> list[dict[str, str]]:
    """Test problems with this model's answers, for a table like the blog's."""
    from adder.checkpoints import load_adder
    from adder.reporting import sample_rows

    model, hparams = load_adder(checkpoint)
    datamodule = fit.datamodule
    datamodule.setup("test")
    a, b, target = next(iter(datamodule.test_dataloader()[0]))
    a, b, target = a[:count], b[:count], target[:count]
    return sample_rows(a, b, model.predict(a, b), target, int(hparams["base"]), count=count)


def _write_json(path: Path, record: Mapping[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=1))
    os.replace(temporary, path)  # a result.json is whole or absent, so "done" is never a lie


# --------------------------------------------------------------------------------------------
def run_sweep(experiment: Experiment, runs_dir: Path, quick: bool = False, out=print) -> list[dict[str, Any]]:
    results = []
    total = len(experiment.points)
    for index, point in enumerate(experiment.points, start=1):
        run_dir = runs_dir / experiment.name / _slug(point.label)
        done = run_dir / "result.json"
        prefix = f"[{index}/{total}] {experiment.name}: {point.label}"
        if done.is_file():
            record = json.loads(done.read_text())
            out(f"{prefix} ... already done ({record['steps']} steps, {_headline(record, experiment.metric)})")
        else:
            if run_dir.exists():  # a run cut short: start it again from scratch
                import shutil

                shutil.rmtree(run_dir)
            run_dir.mkdir(parents=True)
            record = run_point(experiment, point, run_dir, quick)
            out(
                f"{prefix} ... {record['steps']} steps in {record['fit_seconds']:.0f} s, {_headline(record, experiment.metric)}"
            )
        results.append(record)
    return results


def metric_value(record: Mapping[str, Any], metric: str) -> float | None:
    """The record's value of ``metric``; a ``*`` matches any part (e.g. the test length)."""
    matches = [v for k, v in sorted(record["metrics"].items()) if fnmatch.fnmatchcase(k, metric)]
    return matches[0] if matches else None


def _headline(record: Mapping[str, Any], metric: str) -> str:
    value = metric_value(record, metric)
    return f"{metric} = {100 * value:.2f}%" if value is not None else f"{metric} missing"


def write_report(experiment: Experiment, results: list[dict[str, Any]], docs_dir: Path, command: str) -> Path:
    docs_dir.mkdir(parents=True, exist_ok=True)
    plots = _plots(experiment, results, docs_dir)
    quick = any(r.get("quick") for r in results)
    lines = [f"# {experiment.title}", ""]
    if experiment.description:
        lines += [experiment.description, ""]
    lines += [
        f"Produced by `{command}`"
        + (" (**--quick smoke run: figures are not meaningful**)" if quick else "")
        + f" from [{experiment.path}]({_link(experiment)}); each row is one `adder fit` then "
        "`adder test` on its last checkpoint, logged to TensorBoard under the runs directory.",
        "",
    ]
    has_reference = bool(experiment.reference)
    header = ["point", "parameters", "steps", "fit time (s)", f"`{experiment.metric}`"]
    if has_reference:
        header.append("seed document")
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for record in results:
        value = metric_value(record, experiment.metric)
        row = [
            record["label"],
            f"{record['num_parameters']:,}",
            str(record["steps"]),
            f"{record['fit_seconds']:.0f}",
            "—" if value is None else f"{100 * value:.2f}%",
        ]
        if has_reference:
            row.append(experiment.reference.get(record["label"], "—"))
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    if experiment.reference_note:
        lines += [experiment.reference_note, ""]
    samples = [(r["label"], r["samples"]) for r in results if r.get("samples")]
    if samples:
        lines += ["Sample test problems and each model's answer (✓ right, ✗ wrong):", ""]
        first = samples[0][1]
        lines += [
            "| a | b | truth | " + " | ".join(label for label, _ in samples) + " |",
            "|" + " --- |" * (3 + len(samples)),
        ]
        for i, row in enumerate(first):
            answers = [f"{s[i]['predicted']} {'✓' if s[i]['predicted'] == s[i]['truth'] else '✗'}" for _, s in samples]
            lines.append(f"| {row['a']} | {row['b']} | {row['truth']} | " + " | ".join(answers) + " |")
        lines.append("")
    for title, name in plots:
        lines += [f"![{title}]({name})", ""]
    lines += ["Commands of the individual runs:", "", "```bash"]
    lines += [record["command"] for record in results]
    lines += ["```", ""]
    report = docs_dir / f"{experiment.name}.md"
    report.write_text("\n".join(lines))
    return report


def _plots(experiment: Experiment, results: list[dict[str, Any]], docs_dir: Path) -> list[tuple[str, str]]:
    """Learning curves and the final metric as PNGs; none without matplotlib (the plots extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed (pip install -e '.[plots]'): no plots written")
        return []
    written = []
    figure, (loss_axes, val_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for record in results:
        curves = record["curves"]
        if "train/loss" in curves:
            steps, values = zip(*curves["train/loss"])
            loss_axes.plot(steps, values, label=record["label"])
        if "val/exact_match" in curves:
            steps, values = zip(*curves["val/exact_match"])
            val_axes.plot(steps, [100 * v for v in values], marker=".", label=record["label"])
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
    written.append(("learning curves", name))

    figure, axes = plt.subplots(figsize=(max(5, 1.1 * len(results) + 2), 4))
    labels = [r["label"] for r in results]
    ours = [100 * (metric_value(r, experiment.metric) or float("nan")) for r in results]
    positions = range(len(results))
    axes.bar(positions, ours, width=0.6, label="this project")
    reference = [_percent(experiment.reference.get(label)) for label in labels]
    if any(v is not None for v in reference):
        xs = [x for x, v in zip(positions, reference) if v is not None]
        axes.scatter(
            xs, [v for v in reference if v is not None], color="black", marker="D", zorder=3, label="seed document"
        )
    for x, value in zip(positions, ours):
        axes.annotate(f"{value:.1f}", (x, value), ha="center", va="bottom", fontsize="small")
    axes.set_xticks(list(positions), labels, rotation=20 if len(results) > 5 else 0)
    axes.set(ylabel=f"{experiment.metric} (%)", ylim=(0, 110), title=experiment.title)
    axes.legend(fontsize="small", loc="lower right")
    figure.tight_layout()
    name = f"{experiment.name}_final.png"
    figure.savefig(docs_dir / name, dpi=110)
    plt.close(figure)
    written.append(("final metric", name))
    return written


def _percent(text: str | None) -> float | None:
    match = re.match(r"\s*([0-9.]+)\s*%", text or "")
    return float(match.group(1)) if match else None


# --------------------------------------------------------------------------------------------
def add_parser(commands: Any) -> None:
    sweep = commands.add_parser("sweep", help="run a study: a grid of fit+test runs, then a report")
    sweep.add_argument(
        "experiments",
        nargs="+",
        help="study names (" + ", ".join(config_files.shipped(config_files.EXPERIMENT_DIR)) + ") or files",
    )
    sweep.add_argument("--quick", action="store_true", help="a few steps per run: a smoke test of the whole pipeline")
    sweep.add_argument(
        "--runs-dir", default=None, help="where runs go (default: sweeps/, or sweeps/quick/ with --quick)"
    )
    sweep.add_argument(
        "--docs-dir",
        default=None,
        help="where reports and plots go (default: docs/experiments/, or the runs dir with --quick)",
    )
    sweep.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> None:
    experiments = [load_experiment(path) for path in args.experiments]
    runs_dir = Path(args.runs_dir or ("sweeps/quick" if args.quick else "sweeps"))
    docs_dir = Path(args.docs_dir or (runs_dir if args.quick else "docs/experiments"))
    import adder.cli  # noqa: F401  (imports Lightning, which sets its loggers' levels)

    # The runs' own INFO lines would drown the one progress line per run.
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    started = time.perf_counter()
    for experiment in experiments:
        results = run_sweep(experiment, runs_dir, args.quick)
        command = f"adder sweep {experiment.path}" + (" --quick" if args.quick else "")
        report = write_report(experiment, results, docs_dir, command)
        print(f"{experiment.name}: report written to {report}")
    print(f"sweep finished in {time.perf_counter() - started:.0f} s")
