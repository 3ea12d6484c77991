"""The model's flat flags of earlier versions, kept as shorthand for the components they set.

``--model.cell lstm``, ``--model.hidden_size 32`` (any :class:`~adder.models.ModelConfig` field)
set the init arguments of ``model.net`` (``cell mlp`` switches it to the MLP, a recurrent cell back
to ``RecurrentAdder``); ``--model.replay_hardest``, ``--model.state_noise``, ``--model.step_noise``,
``--model.state_spread`` and ``--model.carry_hint`` set the objective each names in
``model.objectives`` (0 removes it). So the README's commands, the study files' keys, and the
config files and checkpoints written before the network and objectives were components (whose
``model`` section holds these keys) still load. The CLI folds them in before it builds the module.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Any, get_type_hints

from jsonargparse import Namespace

from adder.errors import InputError
from adder.models import MLPAdder, ModelConfig, RecurrentAdder
from adder.models.base import AdderNet
from adder.training.objectives import (
    CarryHint,
    InitialStateNoise,
    Objective,
    ReplayHardest,
    StateSpread,
    StepNoise,
    default_objectives,
)

#: Shorthand flag -> (objective class, its init argument the flag sets), in the order the old
#: module added them to the loss.
OBJECTIVE_FLAGS: dict[str, tuple[type[Objective], str]] = {
    "replay_hardest": (ReplayHardest, "share"),
    "state_noise": (InitialStateNoise, "std"),
    "step_noise": (StepNoise, "std"),
    "state_spread": (StateSpread, "weight"),
    "carry_hint": (CarryHint, "weight"),
}
#: Linked from --data; older checkpoints keep them among the model's keys, where they are dropped.
LINKED_KEYS = ("base", "num_digits")
NET_KEYS = tuple(key for key in ModelConfig.keys() if key not in LINKED_KEYS)
DEFAULT_NET = {"class_path": "adder.models.RecurrentAdder"}
SHORTHAND_KEYS = (*ModelConfig.keys(), *OBJECTIVE_FLAGS)


def add_model_arguments(parser: Any) -> None:
    """The default network, the data's base and length linked into it, and the shorthand flags."""
    parser.set_defaults({"model.net": DEFAULT_NET})
    for key in LINKED_KEYS:
        parser.link_arguments(f"data.{key}", f"model.net.init_args.{key}")
    hints = get_type_hints(ModelConfig)
    for key in ModelConfig.keys():
        note = "linked from --data" if key in LINKED_KEYS else "model.net's argument"
        parser.add_argument(f"--model.{key}", type=hints[key] | None, default=None, help=f"shorthand: {note}")
    for flag, (cls, arg) in OBJECTIVE_FLAGS.items():
        help_text = f"shorthand: {cls.__name__}({arg}=...) in model.objectives; 0 removes it"
        parser.add_argument(f"--model.{flag}", type=float | None, default=None, help=help_text)


def resolve_shorthand(model: Namespace) -> None:
    """Fold the shorthand keys of ``model`` (the parsed ``model`` section) into its ``net`` and
    ``objectives``, and remove them. Raises a one-line InputError for a value that cannot apply."""
    given = {key: model.pop(key, None) for key in SHORTHAND_KEYS}
    given = {key: value for key, value in given.items() if value is not None and key not in LINKED_KEYS}
    net = {key: value for key, value in given.items() if key in NET_KEYS}
    if net:
        model.net = _with_net_keys(_plain(model.net), net)
    flags = {key: value for key, value in given.items() if key in OBJECTIVE_FLAGS}
    if flags:
        model.objectives = _with_objective_flags(model.get("objectives"), flags, model.net)


def with_shorthand_folded(config: Any) -> Any:
    """A copy of a parsed config (a subcommand's, or the whole with one) with the shorthand of its
    ``model`` section folded in; ``config`` itself when there is none to fold."""
    if not isinstance(config, Namespace):
        return config
    sections = [
        key for key in ("", "fit", "validate", "test", "predict") if isinstance(config.get(key or "model"), Namespace)
    ]
    if not any(key in _section(config, prefix) for prefix in sections for key in SHORTHAND_KEYS):
        return config
    config = config.clone()
    for prefix in sections:
        resolve_shorthand(_section(config, prefix))
    return config


def _section(config: Namespace, prefix: str) -> Namespace:
    return config.model if not prefix else config[prefix].model


def _with_net_keys(spec: dict[str, Any], keys: dict[str, Any]) -> Namespace:
    cell = keys.pop("cell", None)
    init_args = dict(spec.get("init_args") or {})
    cls = net_class(spec)
    path = str(spec["class_path"])
    if cell is not None:
        wanted = MLPAdder if cell == "mlp" else RecurrentAdder
        if cls is not wanted:
            cls, init_args = wanted, {k: v for k, v in init_args.items() if k in _init_names(wanted)}
            path = f"adder.models.{wanted.__name__}"
        if cell != "mlp":
            init_args["cell"] = cell
    for key, value in keys.items():
        if key in _init_names(cls):
            init_args[key] = value
        elif value != getattr(ModelConfig, key):
            raise InputError(f"model.{key} {value} does not apply to {cls.__name__} (the {cell or 'given'} network)")
    return Namespace(class_path=path, init_args=Namespace(**init_args))


def _with_objective_flags(objectives: Any, flags: dict[str, float], net_spec: Any) -> list[Namespace]:
    net = net_class(net_spec)
    if objectives is None:  # the module's defaults, which depend on the network: build it to ask
        specs = [objective.spec() for objective in default_objectives(built(net_spec))]
    else:
        specs = [_plain(objective) for objective in objectives]
    for flag, value in flags.items():
        cls, arg = OBJECTIVE_FLAGS[flag]
        try:
            objective = cls(**{arg: value})
        except ValueError as error:
            raise InputError(f"model.{flag} {value}: {error}") from None
        if value and objective.needs_state and not net.has_state:
            raise InputError(f"model.{flag} applies to recurrent cells; {net.__name__} has no state")
        at = next((i for i, spec in enumerate(specs) if _class(spec["class_path"]) is cls), None)
        if not value:
            specs = [spec for i, spec in enumerate(specs) if i != at]
        elif at is None:
            specs.append(objective.spec())
        else:
            specs[at] = objective.spec()
    return [Namespace(class_path=s["class_path"], init_args=Namespace(**(s.get("init_args") or {}))) for s in specs]


def cell_of(model: Any) -> str | None:
    """The cell a parsed ``model`` section trains: its shorthand ``cell``, or its network's."""
    if model.get("cell") is not None:
        return str(model.cell)
    spec = _plain(model.get("net") or DEFAULT_NET)
    cls = net_class(spec)
    if cls is MLPAdder:
        return "mlp"
    return str((spec.get("init_args") or {}).get("cell", "rnn")) if cls is RecurrentAdder else None


def model_config_of(model: Any) -> ModelConfig:
    """The ModelConfig a parsed ``model`` section describes, before its shorthand is folded in:
    its network's init arguments, the shorthand keys given over them, its cell (``cell_of``)."""
    init_args = _plain(model.get("net") or DEFAULT_NET).get("init_args") or {}
    known = {key: init_args[key] for key in ModelConfig.keys() if key in init_args}
    known.update({key: model[key] for key in ModelConfig.keys() if model.get(key) is not None})
    known["cell"] = cell_of(model) or ModelConfig.cell
    return ModelConfig(**known)


def network_error(model: Any, data: Any) -> Exception | None:
    """The network's own complaint about its arguments (``model.net``, with --data's base and
    num_digits as the links give them), or None. Older jsonargparse reports a class_path that fails
    to build only as the union it tried ("Expected a <class 'NoneType'>"), so the CLI asks again."""
    if not model or model.get("net") is None:
        return None
    spec = _plain(model.net)
    init_args = dict(spec.get("init_args") or {})
    try:
        cls = net_class(spec)
        for key in ("base", "num_digits"):
            if data is not None and key in _init_names(cls) and data.get(key) is not None:
                init_args[key] = data[key]
        cls(**init_args)
    except (ValueError, TypeError) as error:
        return error
    return None


def built(spec: Any) -> AdderNet:
    """The network a spec names, with its init arguments; a one-line InputError if they are refused."""
    try:
        return net_class(spec)(**(_plain(spec).get("init_args") or {}))
    except (TypeError, ValueError) as error:
        raise InputError(f"model.net: {error}") from None


def net_class(spec: Any) -> type[AdderNet]:
    """The network class a ``class_path`` spec names."""
    cls = _class(str(_plain(spec)["class_path"]))
    if not (isinstance(cls, type) and issubclass(cls, AdderNet)):
        raise InputError(f"model.net {_plain(spec)['class_path']} is not an adder network (an AdderNet)")
    return cls


def _class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        raise InputError(f"no class {path!r}") from None


def _init_names(cls: type) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters) - {"self"}


def _plain(spec: Any) -> dict[str, Any]:
    return spec.as_dict() if isinstance(spec, Namespace) else dict(spec)


def flat_view(net: AdderNet, objectives: list[Objective]) -> dict[str, Any]:
    """The network's config and each shorthand objective's value (0 when absent): the flat keys
    of earlier runs, for HParams columns and the checks of flags given beside --ckpt_path."""
    view: dict[str, Any] = dataclasses.asdict(net.config)
    for flag, (cls, arg) in OBJECTIVE_FLAGS.items():
        found = [objective for objective in objectives if type(objective) is cls]
        view[flag] = getattr(found[0], arg) if found else 0.0
    return view
