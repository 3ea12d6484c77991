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

import dataclasses
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
from adder.study import schema
from adder.training.api import flag_text

#: Seconds without a heartbeat after which a running trial's worker counts as gone.
DEFAULT_GRACE = 120
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
    return value if value is None or isinstance(value, (bool, int, float, str)) else flag_text(value)


@dataclass
class Range:
    """A search parameter's range: integers if ``low`` and ``high`` are."""

    low: int | float
    high: int | float
    log: bool = False


@dataclass
class SearchFile:
    """A study file's ``search``, as written."""

    params: dict[str, list[Any] | Range]
    trials: int = field(metadata={"expect": "a positive integer"})
    objectives: list[dict[str, str]] = field(
        default_factory=list, metadata={"expect": "a list of {minimize: METRIC} or {maximize: METRIC}"}
    )
    constraints: list[str] = field(default_factory=list)
    start: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StudyFile:
    """A study file, as written (the module's docstring shows one); read by ``schema.read``, which
    refuses a key that is not a field here."""

    name: str
    title: str | None = None
    description: str = ""
    config: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    quick: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0], metadata={"expect": "a list of integers >= 0"})
    search: SearchFile | None = None
    reference: dict[str | int | float, str | int | float] = field(default_factory=dict)
    reference_note: str = ""
    metric: str = "test/exact_match/random/10"
    columns: list[str] = field(
        default_factory=list, metadata={"expect": "a list of metric names (with * for any part)"}
    )
    samples: bool = False
    pruner: str | dict[str, dict[str, Any] | None] | None = field(
        default=None, metadata={"expect": "a name or {name: {arguments}}"}
    )


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
    try:
        study = schema.read(StudyFile, raw)
        return _experiment(path, study, pruner)
    except schema.SchemaError as error:
        raise SweepError(f"{path}: {error}") from None


def _experiment(path: Path, study: StudyFile, pruner: str | None) -> Experiment:
    """The study to run, after the checks its fields' types cannot say (raising SchemaError)."""
    for index, point in enumerate(study.points):
        if "label" not in point:
            raise schema.SchemaError(f"points[{index}] needs a label")
    points = [Point(str(p["label"]), {k: v for k, v in p.items() if k != "label"}) for p in study.points]
    points += list(_grid_points(study.grid))
    search = _search(study.search) if study.search is not None else None
    if not points and search is None:
        raise schema.SchemaError("no points (give 'grid', 'points' or 'search')")
    if points and search is not None:
        raise schema.SchemaError("give either points ('grid', 'points') or 'search', not both")
    labels = [p.label for p in points]
    if len(set(labels)) != len(labels):
        raise schema.SchemaError(f"point labels must be unique, got {labels}")
    if not study.seeds or any(seed < 0 for seed in study.seeds):
        raise schema.SchemaError(f"seeds must be a list of integers >= 0, got {study.seeds!r}")
    for where, named in [
        ("config", study.config),
        *((f"point {p.label}'s config", p.flags.get("config")) for p in points),
    ]:
        if named is not None and not Path(config_files.resolve(str(named))).is_file():
            shipped = ", ".join(config_files.shipped())
            raise schema.SchemaError(f"{where} {named!r} is neither a file nor a shipped config ({shipped})")
    if not all(study.columns):
        raise schema.SchemaError(f"columns must be a list of metric names (with * for any part), got {study.columns!r}")
    chosen = study.pruner if pruner is None else None if pruner == "none" else pruner
    return Experiment(
        name=study.name,
        title=study.title or study.name,
        points=points,
        description=study.description.strip(),
        config=study.config,
        args=study.args,
        quick=study.quick,
        seeds=list(dict.fromkeys(study.seeds)),
        reference={str(k): str(v) for k, v in study.reference.items()},
        reference_note=study.reference_note.strip(),
        metric=study.metric,
        columns=study.columns,
        samples=study.samples,
        search=search,
        grid=study.grid,
        pruner=_pruner(chosen, search),
        path=_display(path),
        source=str(path),
    )


def _pruner(raw: str | dict[str, Any] | None, search: Search | None) -> tuple[str, dict[str, Any]] | None:
    if raw is None:
        return None
    if isinstance(raw, dict) and len(raw) != 1:
        raise schema.SchemaError(f"pruner must be a name or {{name: {{arguments}}}}, got {raw!r}")
    name, arguments = (raw, {}) if isinstance(raw, str) else next(iter(raw.items()))
    if name not in PRUNERS:
        raise schema.SchemaError(f"pruner {name!r} is not one of {', '.join(PRUNERS)}")
    try:
        make_pruner((name, arguments or {}))
    except (TypeError, ValueError) as error:
        raise schema.SchemaError(f"pruner {name}: {error}") from None
    # Trials report val/exact_match, which a pruner compares in the study's direction.
    if search is not None and [d for d, _ in search.objectives] != ["maximize"]:
        raise schema.SchemaError("a pruner needs a search with one objective to maximize (it compares val/exact_match)")
    return name, dict(arguments or {})


def make_pruner(pruner: tuple[str, dict[str, Any]] | None) -> Any:
    """The Optuna pruner a study names; Optuna's NopPruner (prune nothing) for none."""
    import optuna

    if pruner is None:
        return optuna.pruners.NopPruner()
    name, arguments = pruner
    return getattr(optuna.pruners, PRUNERS[name])(**arguments)


def _search(raw: SearchFile) -> Search:
    if raw.trials < 1:
        raise schema.SchemaError(f"search.trials must be a positive integer, got {raw.trials!r}")
    params: dict[str, Any] = {}
    for key, space in raw.params.items():
        if isinstance(space, Range) and not space.low < space.high or isinstance(space, list) and not space:
            raise schema.SchemaError(f"search.params.{key} must be a list of choices or {{low, high[, log]}}")
        params[key] = space if isinstance(space, list) else dataclasses.asdict(space)
    if not params:
        raise schema.SchemaError("search needs 'params' (and 'trials', 'objectives')")
    objectives = []
    for objective in raw.objectives:
        if len(objective) != 1 or next(iter(objective)) not in ("minimize", "maximize"):
            raise schema.SchemaError(
                f"each objective is {{minimize: METRIC}} or {{maximize: METRIC}}, got {objective!r}"
            )
        ((direction, metric),) = objective.items()
        objectives.append((direction, metric))
    if not 1 <= len(objectives) <= 2:
        raise schema.SchemaError(f"search needs one or two objectives, got {len(objectives)}")
    constraints = []
    for text in raw.constraints:
        match = CONSTRAINT.match(text)
        if match is None:
            raise schema.SchemaError(f"a constraint reads 'METRIC >= NUMBER' or 'METRIC <= NUMBER', got {text!r}")
        constraints.append((match.group(1), match.group(2), float(match.group(3))))
    for values in raw.start:
        if not values:
            raise schema.SchemaError("search.start must be a list of {param: value} mappings, got an empty one")
        for key, value in values.items():
            space = params.get(key)
            if space is None:
                raise schema.SchemaError(f"search.start sets {key}, which is not in search.params")
            inside = value in space if isinstance(space, list) else space["low"] <= value <= space["high"]
            if not inside:
                raise schema.SchemaError(f"search.start's {key}: {value!r} is outside search.params.{key}: {space}")
    return Search(raw.trials, params, objectives, constraints, [dict(values) for values in raw.start])


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
            flag_text(v) if len(keys) == 1 else f"{k.split('.')[-1]}={flag_text(v)}" for k, v in zip(keys, values)
        )
        yield Point(label, dict(zip(keys, values)))


def _display(path: Path) -> str:
    """A shipped study by its name (``adder sweep NAME`` finds it anywhere), else the path as given."""
    resolved = path.resolve()
    return resolved.stem if resolved.parent == config_files.STUDY_DIR else str(path)
