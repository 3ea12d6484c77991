"""Zonotopes: sets ``{center + eps @ generators : eps in [-1, 1]^G}``, a batch of them at once.

The abstract domain of DeepZ (Singh, Gehr, Mirman, Püschel and Vechev, "Fast and Effective
Robustness Certification", NeurIPS 2018): affine maps are exact, and tanh is bounded by a line of
slope ``min(tanh'(l), tanh'(u))`` on each neuron's interval ``[l, u]`` plus a new generator for the
gap. Unlike a box, a zonotope keeps how each coordinate depends on where the set came from, so
several steps of a contracting map shrink it instead of blowing it up.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class Zonotope:
    """``center`` (N, D) and ``generators`` (N, G, D): N sets in R^D with G generators each."""

    center: Tensor
    generators: Tensor

    @staticmethod
    def box(low: Tensor, high: Tensor) -> Zonotope:
        """The boxes ``[low, high]`` (N, D), one generator per coordinate."""
        radius = (high - low) / 2
        return Zonotope((high + low) / 2, torch.diag_embed(radius))

    def radius(self) -> Tensor:
        """Half the width of the bounding box, (N, D)."""
        return self.generators.abs().sum(-2)

    def bounds(self) -> tuple[Tensor, Tensor]:
        """The bounding box (low, high), each (N, D)."""
        radius = self.radius()
        return self.center - radius, self.center + radius

    def linear(self, weight: Tensor) -> Zonotope:
        """The image under ``x -> x @ weight.T`` (weight: (E, D)); exact."""
        return Zonotope(self.center @ weight.T, self.generators @ weight.T)

    def shift(self, offset: Tensor) -> Zonotope:
        """The sets moved by ``offset`` (D,) or (N, D); exact."""
        return Zonotope(self.center + offset, self.generators)

    def add_box(self, radius: Tensor) -> Zonotope:
        """The sum with the boxes ``[-radius, radius]`` ((N, D) or (D,)): one new generator per
        coordinate, dropped where every radius is zero."""
        radius = radius.expand_as(self.center)
        keep = (radius > 0).any(0)
        fresh = torch.diag_embed(radius)[:, keep]
        return Zonotope(self.center, torch.cat([self.generators, fresh], 1))

    def tanh(self, before: Tensor | None = None, after: Tensor | None = None) -> Zonotope:
        """A zonotope holding ``tanh(x + e) + e'`` for every point x, every ``|e| <= before`` and
        every ``|e'| <= after`` (boxes (N, D) or (D,): rounding, a spread of inputs): DeepZ's
        transformer, with the boxes and the linearisation gap in one new generator per coordinate."""
        before = torch.zeros_like(self.center) if before is None else before.expand_as(self.center)
        radius = self.radius() + before
        low, high = self.center - radius, self.center + radius
        t_low, t_high = torch.tanh(low), torch.tanh(high)
        # tanh' is largest at 0 and falls off on both sides, so its minimum on [l, u] is at an end.
        slope = torch.minimum(1 - t_low**2, 1 - t_high**2).clamp_min(0)
        # tanh(x) - slope * x rises on [l, u], so it lies between its values at the two ends.
        gap_low, gap_high = t_low - slope * low, t_high - slope * high
        offset, spread = (gap_high + gap_low) / 2, (gap_high - gap_low).clamp_min(0) / 2
        spread = spread + slope * before + (0 if after is None else after)
        # As Zonotope(center * slope + offset, generators * slope).add_box(spread), written into one
        # tensor: the generators are most of the verifier's memory traffic.
        keep = (spread > 0).any(0).nonzero()[:, 0]  # the coordinates given a fresh generator
        n, g, d = self.generators.shape
        generators = self.generators.new_zeros(n, g + len(keep), d)
        torch.mul(self.generators, slope.unsqueeze(1), out=generators[:, :g])
        generators[:, g + torch.arange(len(keep)), keep] = spread[:, keep]
        return Zonotope(self.center * slope + offset, generators)

    def __getitem__(self, index: Tensor | slice) -> Zonotope:
        return Zonotope(self.center[index], self.generators[index])

    def split(self, width: float, most: int) -> Zonotope:
        """Pieces whose union is this set (one set): each generator longer than ``width`` (in
        the max norm) cut into equal parts, the longest first, at most ``most`` pieces in all."""
        pieces = self
        lengths = self.generators[0].abs().amax(1)
        for index in lengths.argsort(descending=True).tolist():
            parts = min(int(torch.ceil(lengths[index] / width)), most // len(pieces.center))
            if parts <= 1:
                break
            # x = c + e g with e in [-1, 1] is the union over j of c + o_j g + e' g / parts.
            offsets = (2 * torch.arange(parts, dtype=self.center.dtype) + 1) / parts - 1
            generator = pieces.generators[:, index]  # (N, D)
            center = (pieces.center[:, None] + offsets[None, :, None] * generator[:, None]).flatten(0, 1)
            generators = pieces.generators.repeat_interleave(parts, 0)
            generators[:, index] /= parts
            pieces = Zonotope(center, generators)
        return pieces

    def coords(self, index: slice) -> Zonotope:
        """The sets' coordinates ``index`` (the same generators: the same points move them)."""
        return Zonotope(self.center[:, index], self.generators[:, :, index])

    def pad(self, count: int) -> Zonotope:
        """The same sets with zero generators appended up to ``count``. Two sets are combined
        (``+``, ``product``) only as views of one set: one's generators are the first ones of the
        other's (it was derived by appending fresh ones), so padding the shorter lines them up."""
        n, g, d = self.generators.shape
        zeros = self.generators.new_zeros(n, count - g, d)
        return Zonotope(self.center, torch.cat([self.generators, zeros], 1))

    def __add__(self, other: Zonotope) -> Zonotope:
        """Pointwise sums, for two views of one set (the same generators, padded to one count)."""
        count = max(self.generators.shape[1], other.generators.shape[1])
        a, b = self.pad(count), other.pad(count)
        return Zonotope(a.center + b.center, a.generators + b.generators)

    def scale(self, factor: Tensor | float, offset: Tensor | float = 0.0) -> Zonotope:
        """``x * factor + offset`` per coordinate; exact."""
        return Zonotope(self.center * factor + offset, self.generators * factor)

    def product(self, other: Zonotope) -> tuple[Zonotope, Tensor]:
        """Pointwise products ``x * y`` of two views of one set (x and y moved by the same points):
        a zonotope for the part linear in the points, and the radius (N, D) of the rest,
        ``(sum_i e_i g_i)(sum_j e_j h_j)``, at most the product of the two radii."""
        count = max(self.generators.shape[1], other.generators.shape[1])
        a, b = self.pad(count), other.pad(count)
        linear = Zonotope(a.center * b.center, a.center[:, None] * b.generators + b.center[:, None] * a.generators)
        return linear, a.radius() * b.radius()

    def repeat(self, times: int) -> Zonotope:
        """Each set ``times`` times in a row: set i at rows i*times .. i*times + times - 1."""
        return Zonotope(self.center.repeat_interleave(times, 0), self.generators.repeat_interleave(times, 0))
