"""After ``test``, what each recurrent layer's hidden state holds about the carry."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import Callback

from adder.evaluation.probe import probe_carry, probe_figure
from adder.models import RecurrentAdder
from adder.problems.suites import default_val_num_digits
from adder.training.loggers import tensorboard_writer


class CarryProbe(Callback):
    """After ``test``, probes what each recurrent layer's hidden state holds (:mod:`adder.evaluation.probe`):
    logs ``test/carry_probe/layer<k>`` (held-out accuracy of a linear probe for the carry into the
    next position) and, with matplotlib and a TensorBoard logger, the states' 2-D projection
    coloured by that carry (Images tab, ``test/carry_probe``).

    Args:
        size: carry-rich problems probed; 0 turns the probe off.
        num_digits: their operand length; None: the validation length (10x the training one).
    """

    def __init__(self, size: int = 200, num_digits: int | None = None) -> None:
        if size < 0 or size == 1:
            raise ValueError(f"carry_probe.size must be 0 (off) or >= 2, got {size}")
        if num_digits is not None and num_digits < 1:
            raise ValueError(f"carry_probe.num_digits must be >= 1, got {num_digits}")
        self.size, self.num_digits = size, num_digits

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        model = getattr(pl_module, "model", None)
        if self.size == 0 or not isinstance(model, RecurrentAdder):
            return  # the MLP has no state that runs along the number
        num_digits = self.num_digits or _validation_length(trainer, pl_module)
        probes = probe_carry(model, model.base, num_digits, self.size)
        for probe in probes:
            pl_module.log(f"test/carry_probe/layer{probe.layer}", probe.accuracy, sync_dist=True)
        writer = tensorboard_writer(trainer)
        figure = probe_figure(probes, f"{model.cell}: hidden states at {num_digits} digits") if writer else None
        step = int(getattr(pl_module, "checkpoint_step", trainer.global_step))
        if figure is not None:
            writer.add_figure("test/carry_probe", figure, step)
        for probe in probes if writer is not None else []:
            # The Projector tab: the same states in full, to turn, search and colour by carry or position.
            labels = [[str(int(c)), str(int(p))] for c, p in zip(probe.carry, probe.positions)]
            writer.add_embedding(
                probe.states,
                metadata=labels,
                metadata_header=["carry", "position"],
                tag=f"carry_probe_layer{probe.layer}",
                global_step=step,
            )


def _validation_length(trainer: L.Trainer, pl_module: L.LightningModule) -> int:
    datamodule = getattr(trainer, "datamodule", None)
    sampler = getattr(datamodule, "val_sampler", None)
    if sampler is not None:
        return int(sampler.num_digits)
    config = pl_module.config
    return default_val_num_digits(config.num_digits, config.fixed_num_digits)
