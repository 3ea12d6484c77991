"""Study files: what a study runs, read from YAML.

A study file::

    name: hidden_size                       # runs go to <runs-dir>/hidden_size/<point>/seed<k>/
    title: Hidden size
    description: one paragraph for the report
    config: course_report                   # base config for every run: a shipped name or a path
    args: {trainer.max_steps: 2000}         # flags shared by every point
    quick: {trainer.max_steps: 5}           # replaces/extends args under --quick (smoke tests)
    grid: {model.hidden_size: [8, 16, 32]}  # one point per value (or per combination)
    points: [{label: SGD, optimizer: SGD}]  # or explicit points, each with its own flags
    points: [{label: LSTM, config: lstm}]   # a point's own config, on top of the study's
    seeds: [0, 1, 2]                        # each point runs once per seed (default [0])
    reference: {"8": "10.6%"}               # the seed's figure for a point, by label
    metric: test/exact_match/random/10      # the headline column, the trial's value, the plot
    columns: [test/exact_match/*/1000]      # more columns; * takes the worst suite of each seed

or, instead of ``grid``/``points``, a search run by one of Optuna's samplers::

    search:
      trials: 40                            # trials in all, over every worker
      params:
        model.cell: [rnn, lstm, gru]        # a list: one of these
        model.hidden_size: {low: 4, high: 64, log: true}   # integers if low and high are
        optimizer.lr: {low: 0.001, high: 0.03, log: true}
      objectives: [{minimize: num_parameters}]             # one, or two (multi-objective)
      constraints: ["test/exact_match/*/1000 >= 1"]        # on every seed; * matches any part
      start: [{model.cell: rnn, model.hidden_size: 20, optimizer.lr: 0.01}]  # run first (optional)

Any study may name a pruner, which stops a trial whose ``val/exact_match`` at a validation trails
the other trials' at that step (Optuna's; for studies that maximise one metric)::

    pruner: median                          # or successive_halving, hyperband
    pruner: {median: {n_startup_trials: 3, n_warmup_steps: 500}}   # with the pruner's arguments

``start`` lists points to try first, such as the best answers found so far by hand; they run before
the sampler proposes any (Optuna's ``enqueue_trial``), and the sampler learns from their results.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from adder import config_files
from adder.errors import InputError

#: Seconds without a heartbeat after which a running trial's worker counts as gone.
DEFAULT_GRACE = 120.0
#: Times a trial whose worker died is run again before it is recorded as failed.
DEFAULT_RETRIES = 2
#: Values a trial can be judged by besides its logged test/... metrics.
RECORD_METRICS = ("num_parameters", "steps", "fit_seconds")
CONSTRAINT = re.compile(r"^\s*(\S+)\s*(>=|<=)\s*([-+0-9.eE]+)\s*$")


class SweepError(InputError):
    """A study file is missing or malformed."""


@dataclass
class Point:
    label: str
    flags: dict[str, Any]


@dataclass
class Search:
    """A search run by an Optuna sampler: parameter ranges, objectives and constraints."""

    trials: int
    params: dict[str, Any]
    objectives: list[tuple[str, str]]  # (direction, metric)
    constraints: list[tuple[str, str, float]]  # (metric pattern, ">=" or "<=", bound)
    start: list[dict[str, Any]] = field(default_factory=list)  # params of the trials that run first

    def suggest(self, trial: Any) -> dict[str, Any]:
        """The flags of a new trial, drawn by its sampler."""
        flags = {}
        for key, space in self.params.items():
            if isinstance(space, list):
                flags[key] = trial.suggest_categorical(key, space)
            elif isinstance(space["low"], int) and isinstance(space["high"], int):
                flags[key] = trial.suggest_int(key, space["low"], space["high"], log=bool(space.get("log")))
            else:
                flags[key] = trial.suggest_float(
                    key, float(space["low"]), float(space["high"]), log=bool(space.get("log"))
                )
        return flags

    def violations(self, records: Sequence[Mapping[str, Any]]) -> list[float]:
        """How far each constraint is from holding, on the worst seed (<= 0: it holds)."""
        amounts = []
        for pattern, op, bound in self.constraints:
            values = [v for record in records for v in metric_values(record, pattern)]
            if not values:
                amounts.append(1.0)  # not measured: not met
            elif op == ">=":
                amounts.append(bound - min(values))
            else:
                amounts.append(max(values) - bound)
        return amounts


@dataclass
class Experiment:
    name: str
    title: str
    points: list[Point]
    description: str = ""
    config: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    quick: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    reference: dict[str, str] = field(default_factory=dict)
    reference_note: str = ""
    metric: str = "test/exact_match/random/10"
    columns: list[str] = field(default_factory=list)
    samples: bool = False
    search: Search | None = None
    grid: dict[str, list[Any]] = field(default_factory=dict)  # the grid's keys and values, if a grid
    pruner: tuple[str, dict[str, Any]] | None = None  # a PRUNERS name and its arguments
    path: str = ""  # as shown in reports and commands
    source: str = ""  # the file it was read from

    def flags(self, point: Point | Mapping[str, Any], quick: bool) -> dict[str, Any]:
        """Flags of one run, later ones winning: shared args, --quick overrides, the point's own
        (a grid point's, or a search trial's params)."""
        merged = dict(self.args)
        if quick:
            merged.update(self.quick)
        merged.update(point.flags if isinstance(point, Point) else point)
        if quick:  # a point or a search may set a budget of its own; --quick still caps it
            merged.update({k: v for k, v in self.quick.items() if k.startswith("trainer.")})
        return merged

    def param_space(self) -> dict[str, list[Any]]:
        """A grid study's trial params and their choices (Optuna categorical distributions): the
        grid's keys, or ``point`` for explicit points, and ``seed``."""
        space = {key: [choice(v) for v in values] for key, values in self.grid.items()}
        if not self.grid:
            space["point"] = [p.label for p in self.points]
        return {**space, "seed": list(self.seeds)}

    def trial_params(self, point: Point, seed: int) -> dict[str, Any]:
        """The params of the trial that runs ``point`` with ``seed``."""
        params = {key: choice(point.flags[key]) for key in self.grid} if self.grid else {"point": point.label}
        return {**params, "seed": seed}


def choice(value: Any) -> Any:
    """A grid value as an Optuna categorical choice (None, bool, int, float or str): others as text."""
    return value if value is None or isinstance(value, (bool, int, float, str)) else _text(value)


KNOWN_KEYS = {
    "name",
    "title",
    "description",
    "config",
    "args",
    "quick",
    "grid",
    "points",
    "seeds",
    "search",
    "reference",
    "reference_note",
    "metric",
    "columns",
    "samples",
    "pruner",
}
#: Optuna's pruners a study may name, by the names study files use.
PRUNERS = {
    "median": "MedianPruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "hyperband": "HyperbandPruner",
}


def load_experiment(name_or_path: str | Path, pruner: str | None = None) -> Experiment:
    """The study in a file, or the shipped study of that name; ``pruner`` (a PRUNERS name, or
    ``none``) in place of the file's own."""
    path = Path(config_files.resolve(str(name_or_path), (config_files.STUDY_DIR,)))
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as error:
        shipped = ", ".join(config_files.shipped(config_files.STUDY_DIR))
        raise SweepError(f"cannot read study {path}: {error.strerror} (shipped: {shipped})") from None
    except yaml.YAMLError as error:
        raise SweepError(f"{path} is not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(raw, dict) or "name" not in raw:
        raise SweepError(f"{path}: a study needs at least 'name' and 'grid', 'points' or 'search'")
    unknown = set(raw) - KNOWN_KEYS
    if unknown:
        raise SweepError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}")
    points = [Point(str(p.pop("label")), p) for p in (dict(p) for p in raw.get("points") or [])]
    points += list(_grid_points(raw.get("grid") or {}))
    search = _search(path, raw["search"]) if raw.get("search") is not None else None
    if not points and search is None:
        raise SweepError(f"{path}: no points (give 'grid', 'points' or 'search')")
    if points and search is not None:
        raise SweepError(f"{path}: give either points ('grid', 'points') or 'search', not both")
    labels = [p.label for p in points]
    if len(set(labels)) != len(labels):
        raise SweepError(f"{path}: point labels must be unique, got {labels}")
    seeds = raw.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise SweepError(f"{path}: seeds must be a list of integers >= 0, got {seeds!r}")
    config = raw.get("config")
    for where, named in [("config", config), *((f"point {p.label}'s config", p.flags.get("config")) for p in points)]:
        if named is not None and not Path(config_files.resolve(str(named))).is_file():
            raise SweepError(
                f"{path}: {where} {named!r} is neither a file nor a shipped config ({', '.join(config_files.shipped())})"
            )
    if pruner is not None:
        raw["pruner"] = None if pruner == "none" else pruner
    chosen_pruner = _pruner(path, raw.get("pruner"), search)
    return Experiment(
        name=str(raw["name"]),
        title=str(raw.get("title", raw["name"])),
        points=points,
        description=str(raw.get("description", "")).strip(),
        config=config,
        args=dict(raw.get("args") or {}),
        quick=dict(raw.get("quick") or {}),
        seeds=list(dict.fromkeys(seeds)),
        reference={str(k): str(v) for k, v in (raw.get("reference") or {}).items()},
        reference_note=str(raw.get("reference_note", "")).strip(),
        metric=str(raw.get("metric", "test/exact_match/random/10")),
        columns=_columns(path, raw.get("columns")),
        samples=bool(raw.get("samples", False)),
        search=search,
        grid={key: list(values) for key, values in (raw.get("grid") or {}).items()},
        pruner=chosen_pruner,
        path=_display(path),
        source=str(path),
    )


def _columns(path: Path, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(column, str) and column for column in raw):
        raise SweepError(f"{path}: columns is a list of metric names (with * for any part), got {raw!r}")
    return list(raw)


def _pruner(path: Path, raw: Any, search: Search | None) -> tuple[str, dict[str, Any]] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        name, arguments = raw, {}
    elif isinstance(raw, dict) and len(raw) == 1 and isinstance(next(iter(raw.values())) or {}, dict):
        ((name, arguments),) = raw.items()
        arguments = arguments or {}
    else:
        raise SweepError(f"{path}: pruner is a name or {{name: {{arguments}}}}, got {raw!r}")
    if name not in PRUNERS:
        raise SweepError(f"{path}: pruner {name!r} is not one of {', '.join(PRUNERS)}")
    try:
        make_pruner((name, arguments))
    except (TypeError, ValueError) as error:
        raise SweepError(f"{path}: pruner {name}: {error}") from None
    # Trials report val/exact_match, which a pruner compares in the study's direction.
    if search is not None and [d for d, _ in search.objectives] != ["maximize"]:
        raise SweepError(
            f"{path}: a pruner needs a search with one objective to maximize (it compares val/exact_match)"
        )
    return name, dict(arguments)


def make_pruner(pruner: tuple[str, dict[str, Any]] | None) -> Any:
    """The Optuna pruner a study names; Optuna's NopPruner (prune nothing) for none."""
    import optuna

    if pruner is None:
        return optuna.pruners.NopPruner()
    name, arguments = pruner
    return getattr(optuna.pruners, PRUNERS[name])(**arguments)


def _search(path: Path, raw: Any) -> Search:
    if not isinstance(raw, dict) or not raw.get("params"):
        raise SweepError(f"{path}: search needs 'params' (and 'trials', 'objectives')")
    unknown = set(raw) - {"trials", "params", "objectives", "constraints", "start"}
    if unknown:
        raise SweepError(f"{path}: unknown keys in search: {sorted(unknown)}")
    trials = raw.get("trials")
    if not isinstance(trials, int) or trials < 1:
        raise SweepError(f"{path}: search.trials must be a positive integer, got {trials!r}")
    for key, space in raw["params"].items():
        ranged = isinstance(space, dict) and {"low", "high"} <= set(space) and space["low"] < space["high"]
        if not (isinstance(space, list) and space) and not ranged:
            raise SweepError(f"{path}: search.params.{key} must be a list of choices or {{low, high[, log]}}")
    objectives = []
    for objective in raw.get("objectives") or []:
        if (
            not isinstance(objective, dict)
            or len(objective) != 1
            or next(iter(objective)) not in ("minimize", "maximize")
        ):
            raise SweepError(
                f"{path}: each objective is {{minimize: METRIC}} or {{maximize: METRIC}}, got {objective!r}"
            )
        ((direction, metric),) = objective.items()
        objectives.append((direction, str(metric)))
    if not 1 <= len(objectives) <= 2:
        raise SweepError(f"{path}: search needs one or two objectives, got {len(objectives)}")
    constraints = []
    for text in raw.get("constraints") or []:
        match = CONSTRAINT.match(str(text))
        if match is None:
            raise SweepError(f"{path}: a constraint reads 'METRIC >= NUMBER' or 'METRIC <= NUMBER', got {text!r}")
        constraints.append((match.group(1), match.group(2), float(match.group(3))))
    start = raw.get("start") or []
    if not isinstance(start, list) or not all(isinstance(values, dict) and values for values in start):
        raise SweepError(f"{path}: search.start must be a list of {{param: value}} mappings, got {start!r}")
    for values in start:
        for key, value in values.items():
            space = raw["params"].get(key)
            if space is None:
                raise SweepError(f"{path}: search.start sets {key}, which is not in search.params")
            inside = value in space if isinstance(space, list) else space["low"] <= value <= space["high"]
            if not inside:
                raise SweepError(f"{path}: search.start's {key}: {value!r} is outside search.params.{key}: {space}")
    return Search(trials, dict(raw["params"]), objectives, constraints, [dict(values) for values in start])


def metric_values(record: Mapping[str, Any], pattern: str) -> list[float]:
    """The record's values of a metric; ``*`` matches any part (e.g. every kind at one length)."""
    if pattern in RECORD_METRICS:
        return [float(record[pattern])]
    return [float(v) for k, v in sorted(record["metrics"].items()) if fnmatch.fnmatchcase(k, pattern)]


def metric_value(record: Mapping[str, Any], pattern: str) -> float | None:
    """The first value of ``pattern`` in the record, or None."""
    values = metric_values(record, pattern)
    return values[0] if values else None


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


def command_line(flags: Mapping[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in flags.items():
        args += [f"--{key}", "null" if value is None else _text(value)]
    return args


def _display(path: Path) -> str:
    """A shipped study by its name (``adder sweep NAME`` finds it anywhere), else the path as given."""
    resolved = path.resolve()
    return resolved.stem if resolved.parent == config_files.STUDY_DIR else str(path)
