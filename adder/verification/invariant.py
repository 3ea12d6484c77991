"""The inductive invariant: a box of hidden states per class of recent digit sums, shown to hold
over every window of ``window`` steps.

A class is the carry into, and the digit pairs of, the last ``history`` positions read; with
``history`` 0 it is the carry alone. The proof holds when:

1. every state the network reaches from the zero state in fewer than ``history + window`` steps lies
   in its class's box (from ``history`` steps on) and its argmax is the right sum digit; each of
   these sets is computed from the zero state, so it is exact up to rounding;
2. for every class and every ``window`` digit sums read next, the states reached from anywhere in
   the class's box lie in the box of the class they end in, and their argmax is the right digit.

By induction on the position, every state at position ``t >= history`` lies in its class's box
(the base cases are 1; a state at ``t >= history + window`` came from one at ``t - window`` in a
box, by 2), so every sum digit of every sum is right. A window of several steps is what makes
this work for a trained network: one step of its cell may expand a set, but it forgets all but
the carry over several, and the zonotopes (:mod:`adder.verification.zonotope`) keep the
dependence on the start that lets the images shrink. Early in a window, the digit pairs with one
sum are read as one symbol (the drives of those pairs lie in a box, so one set covers them all);
the last ``exact`` steps read each pair on its own, where the state still tells pairs apart.

The boxes come from states sampled along random sums (any boxes would do: only the checks above
count) and are widened where an image leaves them, until they are inductive or a margin fails.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from adder.verification.elman import ElmanAdder
from adder.verification.zonotope import Zonotope

#: Floats held at once by one batch of sets (generators dominate): about 400 MB of float64.
BATCH_FLOATS = 50_000_000
#: Rounds of widening the boxes before a plan is given up.
MAX_ROUNDS = 30
#: How far inside its box an image must lie, besides its frame's own error (``frame_error``): for the
#: rounding of the box's corners when it becomes the next window's start set.
FRAME_SLACK = 1e-8
#: The most memory the frames of one plan's classes may take: plans with more classes are not tried.
FRAME_MEMORY = 2 * 2**30
#: Pieces a box may be cut into.
MAX_PIECES = 4096
#: The largest state whose boxes are cut into fewer than MAX_PIECES pieces, on the whole (schedule).
SMALL_STATE = 16
#: The longest side a piece of a box may have, coarsest first (inf: boxes are not cut).
PIECES = (float("inf"), 0.1, 0.03)


@dataclass(frozen=True)
class Plan:
    """Boxes per carry and last ``history`` digit pairs; windows of ``window`` steps, of which the
    last ``exact`` read digit pairs one by one (the others read all pairs of one sum at once)."""

    history: int
    window: int
    exact: int
    piece: float = float("inf")  # boxes are cut into pieces no longer than this on any side
    aligned: bool = False  # boxes along the state's own coordinates, not in a frame per class

    def words(self) -> str:
        per = "per carry" + (f" and last {self.history} digit pairs" if self.history else "")
        steps = f"{self.window} step" + ("s" if self.window > 1 else "")
        grouped = self.window - self.exact
        sums = f", the first {grouped} reading every pair of a sum at once" if grouped else ""
        cut = f", cut into pieces of at most {self.piece:g}" if self.piece < float("inf") else ""
        boxes = "axis-aligned boxes" if self.aligned else "boxes"
        return f"{boxes} {per}{cut}, windows of {steps}{sums}"


#: The first plan tried on a state of more than SMALL_STATE coordinates (schedule).
FIRST_ON_LARGE_STATE = Plan(1, 1, 1, aligned=True)


@dataclass
class Failure:
    """The lowest margin found: where the path started, what it read, the margin at its end."""

    margin: float
    start: str  # "the zero state" or a class, in words
    symbols: list[int]  # the path's symbols (Prover.symbol_text reads them)
    carry_in: int  # the carry into the first symbol
    kind: str  # "margin": the argmax may be wrong there; "region": the boxes did not settle


@dataclass
class Outcome:
    proved: bool
    plan: Plan
    classes: int
    sets_checked: int
    worst_margin: float
    failure: Failure
    rounds: int


class TimeUp(Exception):
    pass


class Prover:
    """Checks a :class:`Plan` for one network. Symbols: ``s < num_sums`` is every digit pair of
    sum s; ``num_sums + a * base + b`` is the pair (a, b)."""

    def __init__(self, net: ElmanAdder, deadline: float, log: Callable[[str], None] = lambda _: None) -> None:
        self.net, self.deadline, self.log = net, deadline, log
        base = net.base
        self.num_sums = 2 * base - 1
        centers, radii = [], []
        for total in range(self.num_sums):
            drives = torch.stack([net.pair_inputs[a, total - a] for a in range(base) if 0 <= total - a < base])
            low, high = drives.min(0).values, drives.max(0).values
            centers.append((low + high) / 2)
            radii.append((high - low) / 2)
        pairs = net.pair_inputs.reshape(base * base, -1)
        self.drive_center = torch.cat([torch.stack(centers), pairs])
        self.drive_radius = torch.cat([torch.stack(radii), torch.zeros_like(pairs)])
        digits = torch.arange(base)
        self.symbol_sum = torch.cat([torch.arange(self.num_sums), (digits[:, None] + digits).flatten()])
        self.sum_symbols = torch.arange(self.num_sums)
        self.pair_symbols = torch.arange(self.num_sums, self.num_sums + base * base)
        self.worst = Failure(float("inf"), "the zero state", [], 0, "margin")
        self._sampled: dict[tuple[int, bool], tuple[Tensor, ...]] = {}
        self.aligned = False

    # ------------------------------------------------------------------ the truth
    def carry_after(self, carry: Tensor, total: Tensor) -> Tensor:
        return (total + carry >= self.net.base).long()

    def digit(self, carry: Tensor, total: Tensor) -> Tensor:
        return (total + carry) % self.net.base

    def class_of(self, symbols: Tensor, carries: Tensor, history: int) -> Tensor:
        """Class index of each path: the carry into its last ``history`` symbols, which must be
        single pairs, and those pairs. ``symbols`` (N, L); ``carries`` (N, L + 1), carries[:, j]
        the carry into symbol j."""
        pairs = len(self.pair_symbols)
        index = carries[:, -history - 1].clone()
        for j in range(history):
            pair = symbols[:, symbols.shape[1] - history + j] - self.num_sums
            assert bool((pair >= 0).all()), "a class is named by single digit pairs"
            index = index * pairs + pair
        return index

    def class_path(self, index: int, history: int) -> tuple[Tensor, Tensor]:
        """Class ``index``'s pair symbols (1, history) and the carries into them and after (1, history + 1)."""
        pairs = []
        for _ in range(history):
            index, pair = divmod(index, len(self.pair_symbols))
            pairs.append(pair)
        pairs.reverse()
        carries = [index]
        for pair in pairs:
            carries.append(int(sum(divmod(pair, self.net.base)) + carries[-1] >= self.net.base))
        symbols = torch.tensor(pairs, dtype=torch.long).reshape(1, history) + self.num_sums
        return symbols, torch.tensor([carries])

    def symbol_text(self, symbol: int) -> str:
        if symbol < self.num_sums:
            return f"sum {symbol}"
        a, b = divmod(symbol - self.num_sums, self.net.base)
        return f"{a}+{b}"

    def symbol_pairs(self, symbol: int) -> list[tuple[int, int]]:
        """The digit pairs a symbol stands for."""
        base = self.net.base
        if symbol < self.num_sums:
            return [(a, symbol - a) for a in range(base) if 0 <= symbol - a < base]
        return [divmod(symbol - self.num_sums, base)]

    # ------------------------------------------------------------------ candidate boxes
    def sampled_boxes(self, history: int, aligned: bool = False) -> Tensor:
        """The boxes and frames of :meth:`sample_boxes`, sampled once per ``history`` and ``aligned``
        (the plans of one network share them); a fresh copy of the boxes each time."""
        key = (history, aligned)
        if key not in self._sampled:
            boxes = self.sample_boxes(history, aligned)
            self._sampled[key] = (boxes, self.origin, self.axes, self.inverse, self.frame_error)
        boxes, self.origin, self.axes, self.inverse, self.frame_error = self._sampled[key]
        self.aligned = aligned
        return boxes.clone()

    def sample_boxes(
        self, history: int, aligned: bool = False, sequences: int = 1000, length: int = 200, seed: int = 0
    ) -> Tensor:
        """(classes, 2, D): per class, a frame (``self.origin``, ``self.axes``) and the low and
        high corner, in it, of the states sampled in the class (inf where none was seen). The
        states come from random sums: half of them uniform digits, half mostly carry chains.

        The frame's origin is the class's mean state; its axes are the eigenvectors of the step's
        Jacobian there, for the class's last digit pair (real and imaginary parts of a complex
        pair). Along a run of that pair, the class maps into itself, and in this frame each side
        of its box shrinks by its eigenvalue, where an axis-aligned box (or one along the
        principal axes of the samples, used for the carry-only classes) keeps growing. With
        ``aligned`` the axes are the state's own coordinates: a network whose one step keeps
        each coordinate within bounds (as one trained with ``IntervalStep`` does) has boxes that
        hold their images there, where a frame's mixing of coordinates widens them.
        """
        base, net = self.net.base, self.net
        generator = torch.Generator().manual_seed(seed)
        a = torch.randint(base, (sequences, length), generator=generator)
        b = torch.randint(base, (sequences, length), generator=generator)
        chain = torch.rand(sequences, length, generator=generator) < 0.6
        chain[: sequences // 2] = False
        b = torch.where(chain, base - 1 - a, b)
        sums = a + b
        carries = torch.zeros(sequences, length + 1, dtype=torch.long)
        state, states, classes = net.zero_state().expand(sequences, -1), [], []
        for t in range(length):
            state = net.step(state, a[:, t], b[:, t])
            carries[:, t + 1] = self.carry_after(carries[:, t], sums[:, t])
            if t + 1 >= history:
                states.append(state)
                codes = self.num_sums + a[:, : t + 1] * base + b[:, : t + 1]
                classes.append(self.class_of(codes, carries[:, : t + 2], history))
        samples, index = torch.cat(states), torch.cat(classes)
        count, size = 2 * len(self.pair_symbols) ** history, net.state_size
        self.origin = torch.zeros(count, size, dtype=torch.float64)
        self.axes = torch.eye(size, dtype=torch.float64).repeat(count, 1, 1)
        self.inverse = self.axes.clone()
        self.frame_error = torch.zeros(count, dtype=torch.float64)
        boxes = torch.empty(count, 2, size, dtype=torch.float64)
        boxes[:, 0], boxes[:, 1] = torch.inf, -torch.inf
        order = index.argsort()
        for cls, rows in zip(*_groups(index[order])):
            points = samples[order[rows]]
            self.origin[cls] = points.mean(0)
            centred = points - self.origin[cls]
            if aligned:
                pass  # the identity frame, as set above
            elif len(points) > 1:
                self.axes[cls] = torch.linalg.eigh(centred.T @ centred).eigenvectors
            if history and not aligned:
                self.axes[cls] = self._dynamics_axes(cls, history, self.origin[cls], self.axes[cls])
            self.inverse[cls] = torch.linalg.inv(self.axes[cls])
            self.frame_error[cls] = frame_error(self.axes[cls], self.inverse[cls])
            coords = centred @ self.inverse[cls].T
            boxes[cls, 0], boxes[cls, 1] = coords.min(0).values, coords.max(0).values
        return boxes

    def _dynamics_axes(self, cls: int, history: int, origin: Tensor, fallback: Tensor) -> Tensor:
        """The eigenvectors (real and imaginary parts) of the step's Jacobian at ``origin`` for
        the class's last pair: in that frame a run of the pair scales each side of a box."""
        pair = cls % len(self.pair_symbols)
        a, b = divmod(pair, self.net.base)
        one = torch.tensor([a]), torch.tensor([b])
        jacobian = torch.autograd.functional.jacobian(lambda x: self.net.step(x[None], *one)[0], origin)
        values, vectors = torch.linalg.eig(jacobian)
        axes, used = [], set()
        for i in range(len(values)):
            if i in used:
                continue
            vector = vectors[:, i]
            if abs(float(values[i].imag)) > 1e-9:
                partner = int((values - values[i].conj()).abs().argmin())
                used.add(partner)
                axes += [vector.real, vector.imag]
            else:
                axes.append(vector.real)
        frame = torch.stack(axes[: len(values)], 1)
        frame = frame / frame.norm(dim=0, keepdim=True)
        return frame if torch.linalg.cond(frame) < 1e6 else fallback

    def frame(self, sets: Zonotope, index: Tensor, radius: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The bounding box (low, high) of each set in the frame of class ``index[i]`` (``radius``:
        the sets' own, where it is known)."""
        if self.aligned:  # the identity frame: the product with it would change no bit, so skip it
            center, spread = sets.center - self.origin[index], sets.radius() if radius is None else radius
            return center - spread, center + spread
        axes = self.inverse[index].transpose(1, 2)
        center = torch.einsum("nd,ndk->nk", sets.center - self.origin[index], axes)
        spread = torch.einsum("ngd,ndk->ngk", sets.generators, axes).abs().sum(1)
        return center - spread, center + spread

    def frame_slack(self, index: Tensor, low: Tensor, high: Tensor) -> Tensor:
        """How far inside its box each set's frame coordinates (low, high: (N, D)) must lie: (N, 1)."""
        largest = torch.maximum(low.abs(), high.abs()).amax(1, keepdim=True)
        return FRAME_SLACK + self.frame_error[index, None] * largest

    def region(self, boxes: Tensor, index: int) -> Zonotope:
        """Class ``index``'s oriented box as a zonotope (one set), grown by a box for the float64
        rounding of its corners in state coordinates (a few ulps of each D-term sum)."""
        low, high = boxes[index, 0], boxes[index, 1]
        axes, middle, half = self.axes[index], (low + high) / 2, (high - low) / 2
        center = self.origin[index] + axes @ middle
        magnitude = self.origin[index].abs() + axes.abs() @ (middle.abs() + half)
        rounding = 4 * (len(axes) + 1) * 2.0**-53 * magnitude
        return Zonotope(center[None], (half * axes).T[None]).add_box(rounding[None])

    # ------------------------------------------------------------------ the checks
    def prove(self, plan: Plan) -> Outcome:
        boxes = self.sampled_boxes(plan.history, plan.aligned)
        boxes[:, 0] -= 1e-4
        boxes[:, 1] += 1e-4
        checked, margins, previous = 0, {}, None
        for round_number in range(1, MAX_ROUNDS + 1):
            grown = boxes.clone()
            # A class whose box is what it was when it was last checked has the same images: they
            # lay inside the boxes of then or widened them to hold them, and boxes only grow, so
            # they lie inside now, with the same margins. Only the classes whose box grew are read.
            changed = None if previous is None else (boxes != previous).flatten(1).any(1)
            count = self.check_all(boxes, grown, plan, changed, margins)
            previous = boxes
            checked += count
            classes = int(torch.isfinite(boxes[:, 0, 0]).sum())
            if not 0 < self.worst.margin < torch.inf:  # inf: nothing was checked; NaN never gets here
                return Outcome(False, plan, classes, checked, self.worst.margin, self.worst, round_number)
            if torch.equal(grown, boxes):
                return Outcome(True, plan, classes, checked, self.worst.margin, self.worst, round_number)
            # Widen a little past the images, so the boxes settle in few rounds.
            growth = (grown - boxes).nan_to_num(0.0, posinf=0.0, neginf=0.0).abs()
            width = (grown[:, 1] - grown[:, 0]).nan_to_num(0.0, posinf=0.0, neginf=0.0)
            moved = growth > 0
            grown[:, 0] -= moved[:, 0] * (0.5 * growth[:, 0] + 0.001 * width + 1e-6)
            grown[:, 1] += moved[:, 1] * (0.5 * growth[:, 1] + 0.001 * width + 1e-6)
            boxes = grown
            self.log(
                f"  round {round_number}: {int(moved.any(-1).any(-1).sum())} boxes widened, "
                f"by up to {float(growth.max()):.2g}; the farthest from {self.excess[1]} reading "
                f"{', '.join(self.symbol_text(symbol) for symbol in self.excess[2])}"
            )
        self.worst.kind = "region"
        return Outcome(False, plan, classes, checked, self.worst.margin, self.worst, MAX_ROUNDS)

    def alphabets(self, steps: int, exact: int) -> list[Tensor]:
        """The symbols read at each of ``steps`` steps: sums, then pairs for the last ``exact``."""
        return [self.pair_symbols if steps - j <= exact else self.sum_symbols for j in range(steps)]

    def check_all(
        self,
        boxes: Tensor,
        grown: Tensor,
        plan: Plan,
        changed: Tensor | None = None,
        margins: dict[int, Failure] | None = None,
    ) -> int:
        """Checks 1 and 2 against ``boxes``, widening ``grown`` to every image that leaves its box;
        keeps the lowest margin in ``self.worst``; returns how many sets were checked. ``changed``
        (classes,): read only the classes it marks (None: all); ``margins``: each class's lowest
        margin when it was last read, updated here, whose lowest counts with this call's."""
        margins = {} if margins is None else margins
        self.worst = Failure(float("inf"), "the zero state", [], 0, "margin")
        self.excess: tuple[float, str, list[int]] = (0.0, "", [])  # the farthest an image left its box
        state = self.net.zero_state()
        start = Zonotope(state, torch.zeros(1, 0, state.shape[1], dtype=torch.float64))
        if plan.history == 0:  # position 0 is a base case: the zero state, carry 0
            first = torch.zeros(1, dtype=torch.long)
            low, high = self.frame(start, first)
            slack = self.frame_slack(first, low, high)
            _widen(grown, first, low - slack, high + slack)
        none, zero = torch.zeros(1, 0, dtype=torch.long), torch.zeros(1, 1, dtype=torch.long)
        count = 0
        for depth in range(1, plan.history + plan.window):
            alphabets = self.alphabets(depth, depth)  # a set of points from one start: keep them apart
            count += self.walk(start, none, zero, alphabets, boxes, grown, plan.history, "the zero state")
        from_zero = self.worst
        for index in range(len(boxes)):
            if not torch.isfinite(boxes[index, 0, 0]):
                continue  # no state is known to reach this class (yet)
            if changed is not None and not bool(changed[index]):
                continue
            self.worst = Failure(float("inf"), "", [], 0, "margin")
            symbols, carries = self.class_path(index, plan.history)
            region = self.region(boxes, index).split(plan.piece, MAX_PIECES)
            symbols, carries = symbols.expand(len(region.center), -1), carries.expand(len(region.center), -1)
            start_text = f"carry {int(carries[0, 0])}" + (
                f" into {', '.join(self.symbol_text(int(s)) for s in symbols[0])}" if plan.history else ""
            )
            alphabets = self.alphabets(plan.window, plan.exact)
            count += self.walk(region, symbols, carries, alphabets, boxes, grown, plan.history, start_text)
            margins[index] = self.worst
        self.worst = min([from_zero, *margins.values()], key=lambda failure: failure.margin)
        return count

    def walk(
        self,
        sets: Zonotope,
        symbols: Tensor,
        carries: Tensor,
        alphabets: list[Tensor],
        boxes: Tensor,
        grown: Tensor,
        history: int,
        start: str,
    ) -> int:
        """Reads ``alphabets[0]``'s symbols from ``sets``, then the rest, in batches; checks the
        sets at the end. ``symbols`` (N, L) is the path so far, ``carries`` (N, L + 1) its carries."""
        if time.monotonic() > self.deadline:
            raise TimeUp
        if not alphabets:
            return self.check(sets, symbols, carries, boxes, grown, history, start)
        alphabet, n = alphabets[0], len(sets.center)
        fan = len(alphabet)
        size = (sets.generators.shape[1] + sets.generators.shape[2] + 1) * sets.generators.shape[2] * fan
        batch = max(1, BATCH_FLOATS // max(1, size))
        if n > batch:
            return sum(
                self.walk(
                    sets[i : i + batch],
                    symbols[i : i + batch],
                    carries[i : i + batch],
                    alphabets,
                    boxes,
                    grown,
                    history,
                    start,
                )
                for i in range(0, n, batch)
            )
        children = self.net.step_set(sets, self.drive_center[alphabet], self.drive_radius[alphabet])
        symbol = alphabet.repeat(n)
        carry_in = carries[:, -1].repeat_interleave(fan)
        carry_out = self.carry_after(carry_in, self.symbol_sum[symbol])
        child_symbols = torch.cat([symbols.repeat_interleave(fan, 0), symbol[:, None]], 1)
        child_carries = torch.cat([carries.repeat_interleave(fan, 0), carry_out[:, None]], 1)
        return self.walk(children, child_symbols, child_carries, alphabets[1:], boxes, grown, history, start)

    def check(
        self, sets: Zonotope, symbols: Tensor, carries: Tensor, boxes: Tensor, grown: Tensor, history: int, start: str
    ) -> int:
        """The argmax margin of each set, and whether it lies in its class's box (widening
        ``grown`` where it does not)."""
        sums = self.symbol_sum[symbols]
        margins = self.net.logit_margins(sets, self.digit(carries[:, -2], sums[:, -1]))
        # A set with an inf or NaN anywhere, or a NaN margin, proves nothing: it fails its check. A
        # generator's inf or NaN makes its set's radius (sums of absolute values) inf or NaN.
        radius = sets.radius()
        finite = torch.isfinite(sets.center).all(1) & torch.isfinite(radius).all(1)
        margins = torch.where(finite & ~margins.isnan(), margins, -torch.inf)
        at = int(margins.argmin())
        if float(margins[at]) < self.worst.margin:
            self.worst = Failure(float(margins[at]), start, symbols[at].tolist(), int(carries[at, 0]), "margin")
        if sums.shape[1] >= history:
            index = self.class_of(symbols, carries, history)
            low, high = self.frame(sets, index, radius)
            slack = self.frame_slack(index, low, high)
            # Written as "not inside", so that a NaN coordinate counts as outside.
            inside = (low >= boxes[index, 0] + slack).all(1) & (high <= boxes[index, 1] - slack).all(1)
            outside = ~inside & finite
            if outside.any():
                _widen(grown, index[outside], low[outside] - slack[outside], high[outside] + slack[outside])
                excess = torch.maximum(boxes[index, 0] - low, high - boxes[index, 1]).amax(1)
                at = int(excess.nan_to_num(-torch.inf).argmax())
                if float(excess[at]) > self.excess[0]:
                    self.excess = (float(excess[at]), start, symbols[at].tolist())
        return len(margins)


def frame_error(axes: Tensor, inverse: Tensor) -> float:
    """How far, relative to the largest coordinate, true coordinates ``axes^-1 (x - origin)`` can be
    from those computed with the rounded ``inverse`` (float64): with ``E = I - inverse @ axes`` and
    ``e = |E| + 4 D 2^-53 |inverse| |axes|`` (infinity norms; the second term for the rounding of
    E and of the product itself), the error is at most ``e / (1 - e)``; inf when ``e >= 1/2``."""
    size = len(axes)
    norm = lambda matrix: float(matrix.abs().sum(1).max())  # noqa: E731
    residual = torch.eye(size, dtype=axes.dtype) - inverse @ axes
    error = norm(residual) + 4 * size * 2.0**-53 * norm(inverse) * norm(axes)
    return error / (1 - error) if error < 0.5 else float("inf")


def _groups(sorted_index: Tensor) -> tuple[list[int], list[slice]]:
    """The values of a sorted index and the slice of rows holding each."""
    values, counts = torch.unique_consecutive(sorted_index, return_counts=True)
    ends = counts.cumsum(0).tolist()
    starts = [0, *ends[:-1]]
    return values.tolist(), [slice(a, b) for a, b in zip(starts, ends)]


def _widen(boxes: Tensor, index: Tensor, low: Tensor, high: Tensor) -> None:
    """Grow box ``index[i]`` of ``boxes`` (classes, 2, D) to hold ``[low[i], high[i]]``, in place."""
    rows = index[:, None].expand_as(low)
    boxes[:, 0].scatter_reduce_(0, rows, low, "amin")
    boxes[:, 1].scatter_reduce_(0, rows, high, "amax")


def frame_bytes(base: int, state_size: int, history: int) -> float:
    """Memory the classes' frames (axes and their inverses, float64) take for ``history``."""
    return 2 * float(base * base) ** history * 2 * state_size**2 * 8


def schedule(base: int, state_size: int, longest: int = 12, lead: bool = True) -> list[Plan]:
    """Plans in the order of their cost: sets checked times the size of each. A box cut into
    pieces counts as ten times the sets per step of cutting finer where the state is small; a
    state of more than SMALL_STATE coordinates is cut into the most pieces allowed (MAX_PIECES) at
    once, so each step of cutting counts that many times (docs/verification.md: on the default
    RNN's state of 64 the first plan with pieces ran past the time limit, and no plan by last
    digit pairs was reached). ``lead``: on a large state, FIRST_ON_LARGE_STATE first (off for the
    LSTM, whose first round of that plan outlasts the proof's share of the limit:
    docs/verification.md)."""
    sums, pairs = 2 * base - 1, base * base
    # Where the state is small, frames per class are what proved the models proved so far; where it
    # is large, a frame mixes many coordinates and its boxes widen (docs/verification.md): axis-aligned
    # boxes are tried first, then the frames.
    alignments = (False,) if state_size <= SMALL_STATE else (True, False)
    plans = [
        Plan(h, w, e, piece, aligned)
        for h, w in itertools.product(range(longest), range(1, longest + 1))
        if h + w <= longest and frame_bytes(base, state_size, h) <= FRAME_MEMORY
        for e in range(min(h, w), w + 1)  # a class is named by pairs: the window's last steps must be
        for piece in PIECES
        for aligned in alignments
    ]

    def cost(plan: Plan) -> float:
        sets = 2 * float(pairs) ** (plan.history + plan.exact) * float(sums) ** (plan.window - plan.exact)
        sets *= (10.0 if state_size <= SMALL_STATE else float(MAX_PIECES)) ** PIECES.index(plan.piece)
        sets += float(pairs) ** (plan.history + plan.window - 1)  # from the zero state
        return sets * (1 + plan.window) * state_size

    ordered = sorted(plans, key=cost)
    if lead and state_size > SMALL_STATE:
        # On a large state a region per carry alone holds about the whole cube of states, and every
        # plan by carry alone failed in its first round on the models proved so far, after seconds
        # each (docs/verification.md): try the plan that proves them, boxes per carry and last pair,
        # first. The order changes what is tried when, not what a plan checks.
        ordered.remove(FIRST_ON_LARGE_STATE)
        ordered.insert(0, FIRST_ON_LARGE_STATE)
    return ordered
