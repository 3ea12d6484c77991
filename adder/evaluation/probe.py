"""What the hidden state holds: a linear probe for the carry, layer by layer.

After reading the digit pair at position t, a recurrent adder must remember whether a carry goes
into position t + 1; nothing else about the digits read so far matters for the rest of the sum. A
logistic-regression probe trained on the hidden states of each layer says how linearly readable
that carry is there (1.0: a hyperplane separates the states with a carry from those without), and a
2-D projection (principal components) shows it. Framework-free: torch only, matplotlib for the
figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from adder.evaluation.reporting import pyplot
from adder.models import RecurrentAdder
from adder.models.stepped import run_stepped
from adder.problems.digits import carries_out
from adder.problems.suites import suite_problems

#: Problems whose states the probe reads: carry-rich sums ("mixed"), so both carry values are common.
PROBE_KIND = "mixed"


@dataclass
class LayerProbe:
    """The carry probe of one recurrent layer."""

    layer: int
    accuracy: float  # on held-out states
    majority: float  # accuracy of always guessing the commoner carry value: the floor to beat
    projection: Tensor  # (points, 2): held-out states on their first two principal components
    carry: Tensor  # (points,): the carry into the next position of each projected state
    states: Tensor  # (points, hidden_size): those states themselves, standardised (for TensorBoard's Projector)
    positions: Tensor  # (points,): the digit position (0: least significant) each state was read at


@torch.no_grad()
def layer_states(model: RecurrentAdder, a: Tensor, b: Tensor) -> list[Tensor]:
    """The hidden state after every position, for each layer: a list of (batch, length, hidden).

    ``nn.RNN``/``LSTM``/``GRU`` return only the top layer's states, so the stack is stepped with
    the model's own weights and gates (for an LSTM these are its outputs h, not its cell states)."""
    states, _ = run_stepped(model.rnn, model.encoder(a, b), gates=model.config.gates, all_layers=True)
    return states


def fit_probe(features: Tensor, labels: Tensor, steps: int = 100) -> nn.Linear:
    """Logistic regression of the 0/1 ``labels`` on standardised ``features`` (L-BFGS)."""
    # Lightning tests under inference mode, whose tensors cannot take part in autograd: leave it
    # and copy the inputs out of it.
    with torch.inference_mode(False), torch.enable_grad():
        features, targets = features.clone(), labels.float().clone()
        probe = nn.Linear(features.shape[1], 1).to(features.device)
        optimizer = torch.optim.LBFGS(probe.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

        def closure() -> Tensor:
            optimizer.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(probe(features).squeeze(1), targets)
            loss = loss + 1e-4 * probe.weight.square().sum()  # separable data: keep the weights finite
            loss.backward()
            return loss

        optimizer.step(closure)
    return probe


def probe_carry(
    model: RecurrentAdder, base: int, num_digits: int, size: int = 200, seed: int = 0, max_points: int = 2000
) -> list[LayerProbe]:
    """Probe every layer of ``model`` on ``size`` carry-rich sums of ``num_digits`` digits: the
    probe trains on the states of the first half of the problems and is scored on the second."""
    device = next(model.parameters()).device
    a, b, target = (t.to(device) for t in suite_problems(PROBE_KIND, size, num_digits, base, seed))
    carry = carries_out(a, b, target, base)[:, :-1].reshape(-1)  # the last position has no carry out
    half = (a.shape[0] // 2) * num_digits
    results = []
    was_training = model.training
    model.eval()
    for layer, states in enumerate(layer_states(model, a, b), start=1):
        features = states[:, :-1].reshape(-1, states.shape[-1]).float()
        mean, std = features[:half].mean(0), features[:half].std(0).clamp(min=1e-6)
        features = (features - mean) / std
        probe = fit_probe(features[:half], carry[:half])
        with torch.no_grad():
            guessed = probe(features[half:]).squeeze(1) > 0
        held_out = carry[half:].bool()
        accuracy = float((guessed == held_out).float().mean())
        share = float(held_out.float().mean())
        # The first two principal components of the held-out states (centred on the training mean).
        points = features[half:][:max_points]
        _, _, directions = torch.linalg.svd(features[:half] - features[:half].mean(0), full_matrices=False)
        projection = (points @ directions[:2].T).cpu()
        positions = torch.arange(points.shape[0]) % (states.shape[1] - 1)  # rows run position-fastest
        majority = max(share, 1 - share)
        results.append(
            LayerProbe(layer, accuracy, majority, projection, held_out[:max_points].cpu(), points.cpu(), positions)
        )
    model.train(was_training)
    return results


def probe_figure(probes: list[LayerProbe], title: str = "") -> Any:
    """One scatter per layer of the projected states, coloured by the carry they should hold.
    None without matplotlib (the optional ``plots`` extra)."""
    plt = pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(1, len(probes), figsize=(max(6.0, 4.5 * len(probes)), 4.5), squeeze=False)
    for axis, probe in zip(axes[0], probes):
        for value, colour in ((0, "tab:blue"), (1, "tab:orange")):
            chosen = probe.carry == bool(value)
            axis.scatter(*probe.projection[chosen].T, s=4, alpha=0.5, color=colour, label=f"carry {value}")
        axis.set_title(f"layer {probe.layer}: probe {100 * probe.accuracy:.2f}%")
        axis.set_xlabel("principal component 1")
        axis.set_ylabel("principal component 2")
        axis.legend(loc="best", markerscale=3)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
