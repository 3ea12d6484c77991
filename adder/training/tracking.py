"""What a run records about itself: its whole configuration as HParams (its fit in numbers is
``callbacks.fit_summary``'s).

Every run logs its effective configuration once, flattened to dotted keys (``model.hidden_size``,
``optimizer.lr``, ``trainer.max_steps``, ...) plus ``num_parameters``, so TensorBoard's HParams view
can compare runs by whatever was changed. At the end of fit it logs what HParams shows beside
them: the best validation exact match, the step of the first perfect validation and the fit time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import yaml
from lightning.pytorch.cli import SaveConfigCallback

from adder.training.provenance import device_name, provenance

#: Trainer settings that change what a run learns (the rest say where and how it reports).
TRAINER_KEYS = (
    "max_steps",
    "min_steps",
    "max_epochs",
    "val_check_interval",
    "check_val_every_n_epoch",
    "accumulate_grad_batches",
    "gradient_clip_val",
    "gradient_clip_algorithm",
    "precision",
    "deterministic",
    "accelerator",
    "devices",
    "num_nodes",
    "strategy",
    "limit_train_batches",
)
#: Top-level config sections logged whole.
SECTIONS = ("model", "data", "optimizer", "lr_scheduler", "early_stopping")


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, bool | int | float | str]:
    """Nested config -> ``{"a.b": value}`` of TensorBoard-ready scalars.

    ``class_path``/``init_args`` pairs (an optimizer, a scheduler) become ``optimizer`` (the class)
    and ``optimizer.lr`` etc. Each key keeps one type in every run, so that TensorBoard's HParams
    columns of many runs stay numeric where they are numbers (a column that mixes text and numbers
    turns to text): numbers stay numbers (integers as ``int``), None stays None (the logger leaves
    it out of HParams: an empty cell, whatever the column's type), booleans, lists and mappings are
    written as in config.yaml (``true``, inline YAML), since TensorBoard would file a bool as 0 or 1.
    """
    flat: dict[str, int | float | str | None] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and "class_path" in value:
            flat[name] = str(value["class_path"])
            flat.update(flatten(value.get("init_args") or {}, f"{name}."))
        elif isinstance(value, Mapping) and value and all(isinstance(k, str) for k in value) and prefix == "":
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = scalar(value)
    return flat


def scalar(value: Any) -> int | float | str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, (int, float, str)):
        return value
    if isinstance(value, (list, tuple, Mapping)):
        return yaml.safe_dump(_plain(value), default_flow_style=True, sort_keys=False, width=10**6).strip()
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (bool, int, float, str)) or value is None else str(value)


def run_hparams(
    config: Mapping[str, Any], num_parameters: int, resolved: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, int | float | str | None]:
    """The HParams of a run: its configuration, flattened, with the values ``resolved`` (section ->
    key -> value) in place of the defaults they resolve, and its size."""
    wanted: dict[str, Any] = {key: config.get(key) for key in SECTIONS}
    trainer = config.get("trainer") or {}
    wanted["trainer"] = {key: trainer.get(key) for key in TRAINER_KEYS if key in trainer}
    for section, values in (resolved or {}).items():
        wanted[section] = {**(wanted.get(section) or {}), **values}
    wanted["seed_everything"] = config.get("seed_everything")
    wanted["ckpt_path"] = config.get("ckpt_path")
    flat = flatten(wanted)
    flat["num_parameters"] = num_parameters
    return flat


class RunConfig(SaveConfigCallback):
    """Saves the run's config next to its events and logs it as HParams (the hook Lightning's
    SaveConfigCallback leaves for this). fit writes ``config.yaml``; a later validate, test or
    predict in the same run writes ``<stage>_config.yaml`` instead of replacing it, and logs its
    HParams only when the run is its own (a checkpoint from outside any run)."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        stage = str(getattr(stage, "value", stage))  # Lightning passes a TrainerFn
        if stage != "fit":
            self.config_filename = f"{stage}_config.yaml"
        super().setup(trainer, pl_module, stage)

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        import os

        from adder.models import count_parameters

        # Runs on rank 0 only: trainer.log_dir would wait for the other ranks, the logger's does not.
        log_dir = trainer.loggers[0].log_dir if trainer.loggers else None
        device = device_name(trainer.strategy.root_device)  # the model is moved there after this hook
        saved = os.path.join(log_dir or trainer.default_root_dir, self.config_filename)
        if os.path.isfile(saved):  # the header holds the code (provenance); the device is known only now
            add_header_line(saved, f"device: {device}")
        fitted_here = log_dir is not None and os.path.isfile(os.path.join(log_dir, "config.yaml"))
        if stage != "fit" and fitted_here:
            return  # the run's HParams are fit's; this stage adds its metrics to them
        resolved: dict[str, dict[str, Any]] = {
            "trainer": {
                "precision": trainer.precision,
                "accelerator": type(trainer.accelerator).__name__,
                "devices": trainer.num_devices,
                "strategy": type(trainer.strategy).__name__,
            }
        }
        resolved["provenance"] = {**provenance(), "device": device}
        datamodule = trainer.datamodule
        if hasattr(datamodule, "effective_hparams"):
            resolved["data"] = datamodule.effective_hparams()
        config = self.config.as_dict()
        if hasattr(pl_module, "objectives"):
            config["model"] = model_hparams(pl_module)
        params = run_hparams(config, count_parameters(pl_module.model), resolved)
        for logger in trainer.loggers:
            if trainer.ckpt_path and type(logger).__name__ == "MLFlowLogger":
                continue  # MLflow refuses to change a logged param; a resumed run keeps its first ones
            logger.log_hyperparams(params)


def model_hparams(module: Any) -> dict[str, Any]:
    """The model section of a run's HParams: the network's class and config and each objective's
    value under the flat keys of earlier runs (``model.hidden_size``, ``model.state_noise``: 0 when
    absent), so that runs before and after the components compare column by column, and the
    objectives' classes (which also names one without a flat key)."""
    from adder.training.shorthand import flat_view

    return {
        "net": module.model.spec()["class_path"],
        **flat_view(module.model, module.objectives),
        "objectives": [type(objective).__name__ for objective in module.objectives],
        "eval_chunk_size": module.eval_chunk_size,
    }


def add_header_line(path: str, line: str) -> None:
    """Add ``# line`` after the comment lines that open the YAML file at ``path``."""
    with open(path) as handle:
        lines = handle.read().splitlines(keepends=True)
    at = next((i for i, text in enumerate(lines) if not text.startswith("#")), len(lines))
    with open(path, "w") as handle:
        handle.writelines([*lines[:at], f"# {line}\n", *lines[at:]])


def __getattr__(name: str) -> Any:
    # FitSummary lived here before the callbacks got a package of their own; kept importable.
    if name == "FitSummary":
        from adder.training.callbacks.fit_summary import FitSummary

        return FitSummary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
