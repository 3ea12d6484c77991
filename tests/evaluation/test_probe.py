"""The carry probe: per-layer states, carry labels, and a probe that reads what is there."""

from __future__ import annotations

import pytest
import torch

from adder.evaluation.probe import fit_probe, layer_states, probe_carry, probe_figure
from adder.models import ModelConfig, build_model


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_layer_states_end_in_the_stacks_own_output(cell: str) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(cell, input_size=4, hidden_size=6, num_layers=3))
    a, b = torch.randint(0, 10, (5, 9)), torch.randint(0, 10, (5, 9))
    states = layer_states(model, a, b)
    assert [s.shape for s in states] == [(5, 9, 6)] * 3
    top, _ = model.rnn(model.encoder(a, b))
    assert torch.allclose(states[-1], top, atol=1e-6)
    assert not torch.allclose(states[0], states[1])


def test_probe_reads_a_carry_that_is_there_and_not_one_that_is_not() -> None:
    generator = torch.Generator().manual_seed(2)
    labels = torch.randint(0, 2, (4000,), generator=generator)
    noise = torch.randn(4000, 8, generator=generator)
    holds = noise.clone()
    holds[:, 3] += 4 * labels  # one direction of the state encodes the label
    for features, low, high in ((holds, 0.97, 1.0), (noise, 0.4, 0.6)):
        probe = fit_probe(features[:2000], labels[:2000])
        accuracy = float(((probe(features[2000:]).squeeze(1) > 0) == labels[2000:].bool()).float().mean())
        assert low <= accuracy <= high


def test_probe_carry_reports_every_layer_and_draws_them() -> None:
    torch.manual_seed(3)
    model = build_model(ModelConfig("gru", input_size=4, hidden_size=8, num_layers=2))
    probes = probe_carry(model, 10, num_digits=12, size=40, max_points=100)
    assert [p.layer for p in probes] == [1, 2]
    for probe in probes:
        assert 0.5 <= probe.majority <= 1.0 and 0.0 <= probe.accuracy <= 1.0
        assert probe.projection.shape == (100, 2) and probe.carry.shape == (100,)
    figure = probe_figure(probes, "untrained GRU")
    assert len(figure.axes) == 2
