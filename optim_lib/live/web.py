"""What the website's worker runs: one explorer run, from the page's slider positions to
what the page draws.

The build exports each explorer as a plain dict (see
:meth:`optim_lib.widgets.TrajectoryExplorer.web_spec`): the optimizer and its fixed
settings, the sliders (:class:`~.controls.Slider`), the experiment, and where the figure's
axes sit in its background image. :func:`run` takes that dict and the sliders' positions,
runs the experiment with the same functions the kernel uses, and returns what to draw in
pixels of the background image, so that the page's JavaScript holds no math: it draws
polylines and text where Python says.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..landscapes import LANDSCAPES
from ..rules import rule_for
from . import schedule as schedules
from . import text
from .controls import Slider, hyperparameters
from .regression import Moments, second_moments, train, unpack_rows
from .trajectory import run_2d

Pixels = list[list[float]]

_MARGIN = 1.0
"""Lines are clipped to the axes box widened by this many box sizes on each side, so that a
diverging run does not hand the canvas coordinates in the billions."""


class Geometry:
    """Where the axes are in the background image (pixels, origin top left) and which data
    they show."""

    def __init__(self, figure: Mapping[str, Any]) -> None:
        self.left, self.top, self.width, self.height = (float(v) for v in figure["axes"])
        self.xlim = tuple(float(v) for v in figure["xlim"])
        self.ylim = tuple(float(v) for v in figure["ylim"])

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        return (self.left + (x - x0) / (x1 - x0) * self.width,
                self.top + (y1 - y) / (y1 - y0) * self.height)

    def _box(self) -> tuple[float, float, float, float]:
        return (self.left - _MARGIN * self.width, self.top - _MARGIN * self.height,
                self.left + (1 + _MARGIN) * self.width, self.top + (1 + _MARGIN) * self.height)

    def markers(self, points: Sequence[Sequence[float]]) -> Pixels:
        """The points themselves, in pixels, where they are near enough to be seen."""
        x0, y0, x1, y1 = self._box()
        return [[x, y] for x, y in (self.pixel(*point) for point in points) if x0 <= x <= x1 and y0 <= y <= y1]

    def polylines(self, points: Sequence[Sequence[float]]) -> list[Pixels]:
        """``points`` in pixels, split where a segment leaves the widened box (clipped)."""
        pixels = [self.pixel(x, y) for x, y in points]
        box = self._box()
        if len(pixels) == 1:
            inside = box[0] <= pixels[0][0] <= box[2] and box[1] <= pixels[0][1] <= box[3]
            return [[list(pixels[0])]] if inside else []
        pieces: list[Pixels] = []
        current: Pixels = []
        for a, b in zip(pixels, pixels[1:]):
            clipped = _clip(a, b, box)
            if clipped is None:
                if current:
                    pieces.append(current)
                    current = []
                continue
            start, end = clipped
            if not current or current[-1] != start:
                if current:
                    pieces.append(current)
                current = [start]
            current.append(end)
        if current:
            pieces.append(current)
        return pieces


def _clip(a: Sequence[float], b: Sequence[float], box: Sequence[float]) -> tuple[list[float], list[float]] | None:
    """The part of segment ``a``-``b`` inside ``box = (x0, y0, x1, y1)`` (Liang-Barsky)."""
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    low, high = 0.0, 1.0
    for p, q in ((-dx, ax - box[0]), (dx, box[2] - ax), (-dy, ay - box[1]), (dy, box[3] - ay)):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            low = max(low, r)
        else:
            high = min(high, r)
        if low > high:
            return None
    return [ax + low * dx, ay + low * dy], [ax + high * dx, ay + high * dy]


def _sliders(spec: Mapping[str, Any]) -> list[Slider]:
    return [Slider.from_dict(slider) for slider in spec["sliders"]]


def _values(sliders: Sequence[Slider], positions: Mapping[str, int]) -> dict[str, Any]:
    missing = [slider.name for slider in sliders if slider.name not in positions]
    if missing:
        raise ValueError(f"no position for the sliders {missing}")
    return {slider.name: slider.value_at(positions[slider.name]) for slider in sliders}


def _group(optimizer: str, defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The hyperparameters under torch's names, checked as the optimizer's constructor
    checks them."""
    group = {**defaults, **given}
    if "betas" in group:
        group["betas"] = tuple(group["betas"])
    rule_for(optimizer, group).check(group)
    return group


# The worker's memory: the explorers of the page, the airfoil rows once read, and baseline
# runs (which change only with the steps or the batch size).
_specs: dict[str, dict[str, Any]] = {}
_airfoil: dict[str, tuple[list[list[float]], list[float]]] = {}
_baseline_cache: dict[tuple[str, Any], Any] = {}
_moments_cache: dict[str, Moments] = {}


def _cached_baseline(spec: Mapping[str, Any], setting: Any, compute: Any) -> Any:
    # The baseline changes with the sliders only through the steps or the batch size: run it
    # once for each, as the kernel's explorer does.
    key = (spec["id"], setting)
    if key not in _baseline_cache:
        _baseline_cache[key] = compute()
    return _baseline_cache[key]


def run(spec: Mapping[str, Any], positions: Mapping[str, int], data: Any = None) -> dict[str, Any]:
    """One run of the explorer ``spec`` at the sliders' ``positions`` (name -> position).

    ``data`` is the airfoil data as ``(rows, targets)`` (loss-curve explorers only).

    Returns a dict: ``values`` and ``readouts`` of the sliders, ``hyperparameters`` (the
    constructor's arguments), ``title``, ``message`` and ``summary`` (text), ``lines``
    (pixel polylines, each with its ``role``: ``"path"`` or ``"baseline"``), and ``final``:
    the last point (trajectory) or the last loss (curve). A setting the optimizer refuses
    gives ``error`` (its message) and no lines, as the kernel's figure shows it.
    """
    sliders = _sliders(spec)
    values = _values(sliders, positions)
    readouts = {slider.name: slider.readout(positions[slider.name]) for slider in sliders}
    setting_name = "steps" if spec["kind"] == "trajectory" else "batch_size"
    # A schedule explorer's sliders "warmup" and "decay" pick the schedule (see _scheduled_loss_curve).
    settings = {setting_name, *(_SCHEDULE_SLIDERS if spec.get("schedule") else ())}
    names = [slider.name for slider in sliders if slider.name not in settings]
    given = hyperparameters(names, values, spec["fixed"])
    setting = values[setting_name]
    result: dict[str, Any] = {"values": values, "readouts": readouts, "hyperparameters": given, "lines": []}
    if spec["kind"] == "trajectory":
        title = text.describe_run(spec["optimizer"], given)
    else:
        title = text.loss_title(spec["optimizer"], given, setting)
        if spec.get("schedule"):
            title = schedules.title(title, values["warmup"], values["decay"])
    # Padded below to the lines the background leaves for it, as the kernel's figure does.
    lines = text.wrap_title(title).split("\n")
    result["title"] = lines + [""] * (spec["figure"]["title"]["lines"] - len(lines))
    try:
        group = _group(spec["optimizer"], spec["defaults"], given)
    except (ValueError, TypeError) as error:
        message = str(error)
        result.update(error=message, message=text.wrap_message(message), summary=f"cannot run: {message}")
        return result
    geometry = Geometry(spec["figure"])
    if spec["kind"] == "trajectory":
        result.update(_trajectory(spec, group, setting, geometry))
    elif spec.get("schedule"):
        result.update(_scheduled_loss_curve(spec, group, setting, values["warmup"], values["decay"], geometry, data))
    else:
        result.update(_loss_curve(spec, group, setting, geometry, data)[0])
    return result


_SCHEDULE_SLIDERS = ("warmup", "decay")


def _trajectory(spec: Mapping[str, Any], group: Mapping[str, Any], steps: int, geometry: Geometry) -> dict[str, Any]:
    landscape = LANDSCAPES[spec["landscape"]]
    start = spec["start"]

    def one(optimizer: str, group: Mapping[str, Any]) -> tuple[list[tuple[float, float]], int | None]:
        return run_2d(rule_for(optimizer, group), group, landscape.grad, start, steps)

    points, diverged_at = one(spec["optimizer"], group)
    boxes = (landscape.x1_range, landscape.x2_range)
    message = text.trajectory_message(points, diverged_at, *boxes)
    summary = text.trajectory_summary(points[-1], len(points) - 1, diverged_at)
    lines = [_drawn("path", points, geometry)]
    baseline = spec.get("baseline")
    if baseline is not None:
        base_group = _group(baseline["optimizer"], baseline["defaults"], baseline["hyperparameters"])
        base_points, base_diverged = _cached_baseline(spec, steps, lambda: one(baseline["optimizer"], base_group))
        message = text.with_baseline_message(message, text.trajectory_message(base_points, base_diverged, *boxes))
        summary += (f"\nbaseline {baseline['optimizer']}: "
                    + text.trajectory_summary(base_points[-1], len(base_points) - 1, base_diverged))
        lines.insert(0, _drawn("baseline", base_points, geometry))
        extra = {"baseline_final": list(base_points[-1])}
    else:
        extra = {}
    return {"lines": lines, "message": text.wrap_message(message), "summary": summary,
            "final": list(points[-1]), "diverged_at": diverged_at, **extra}


def _drawn(role: str, points: Sequence[Sequence[float]], geometry: Geometry) -> dict[str, Any]:
    """A line as the page draws it: clipped polylines and the markers of its points."""
    return {"role": role, "pieces": geometry.polylines(points), "markers": geometry.markers(points)}


def airfoil_moments(data: Any) -> Moments:
    """The second moments of the airfoil rows, computed once per worker."""
    rows, targets = data
    key = f"{id(rows)}:{len(targets)}"
    if key not in _moments_cache:
        _moments_cache[key] = second_moments(rows, targets)
    return _moments_cache[key]


def _loss_curve(spec: Mapping[str, Any], group: Mapping[str, Any], batch_size: int, geometry: Geometry,
                data: Any, groups: Sequence[Mapping[str, Any]] | None = None) -> tuple[dict[str, Any], Any, Any]:
    """What the page draws of the loss curve (and the baseline's), trained at ``group``'s
    hyperparameters, or at ``groups[k]``'s in step ``k`` (a learning-rate schedule; the
    baseline keeps its own constant learning rate); and the two runs (the baseline ``None``
    if there is none)."""
    if data is None:
        raise ValueError("a loss-curve explorer needs the airfoil data")
    rows, targets = data
    moments = airfoil_moments(data)
    top = geometry.ylim[1]

    def one(optimizer: str, group: Mapping[str, Any], groups: Sequence[Mapping[str, Any]] | None = None) -> Any:
        return train(rule_for(optimizer, group), group, rows, targets, spec["theta0"], spec["orders"],
                     batch_size=batch_size, record_every=spec["record_every"], moments=moments, schedule=groups)

    def finite(curve: Any) -> list[tuple[float, float]]:
        return [(e, loss) for e, loss in zip(curve.epochs, curve.losses) if math.isfinite(loss)]

    curve = one(spec["optimizer"], group, groups)
    message = text.loss_curve_message(curve.epochs, curve.losses, curve.diverged_at, top)
    summary = text.loss_summary(curve.epochs, curve.losses, curve.seconds, curve.diverged_at)
    lines = [_drawn("path", finite(curve), geometry)]
    baseline = spec.get("baseline")
    if baseline is not None:
        base_group = _group(baseline["optimizer"], baseline["defaults"], baseline["hyperparameters"])
        base = _cached_baseline(spec, batch_size, lambda: one(baseline["optimizer"], base_group))
        message = text.with_baseline_message(
            message, text.loss_curve_message(base.epochs, base.losses, base.diverged_at, top))
        summary += f"\nbaseline {baseline['optimizer']}: " + text.loss_summary(
            base.epochs, base.losses, base.seconds, base.diverged_at)
        lines.insert(0, _drawn("baseline", finite(base), geometry))
        extra = {"baseline_final": _finite_or_none(base.losses[-1])}
    else:
        base, extra = None, {}
    return {"lines": lines, "message": text.wrap_message(message), "summary": summary,
            "final": _finite_or_none(curve.losses[-1]), "diverged_at": curve.diverged_at, **extra}, curve, base


def _scheduled_loss_curve(spec: Mapping[str, Any], group: Mapping[str, Any], batch_size: int, warmup: float,
                          decay: str, geometry: Geometry, data: Any) -> dict[str, Any]:
    """The schedule explorer: the loss curve at the schedule's learning rates (torch's, in
    plain Python: :mod:`.schedule`), and, in the learning-rate panel, each step's learning
    rate against the epoch at which the step ends; the panel's top and its tick labels follow
    the largest learning rate shown, as the kernel's figure does."""
    examples = spec["data"]["rows"]
    plan = schedules.plan(decay, schedules.steps(examples, batch_size, spec["epochs"]), warmup)
    rates = plan.learning_rates(group["lr"])
    result, curve, base = _loss_curve(spec, group, batch_size, geometry, data, [{**group, "lr": rate} for rate in rates])
    per_epoch = -(-examples // batch_size)
    drawn = [("lr_path", rates[: curve.steps])]
    summary = schedules.summary(plan, text.loss_summary(curve.epochs, curve.losses, curve.seconds, curve.diverged_at))
    if base is not None:
        # As the kernel draws it: the lr it was given (none given: no line), at every step its curve covers.
        base_lr = float(spec["baseline"]["hyperparameters"].get("lr", math.nan))
        drawn.insert(0, ("lr_baseline", [base_lr] * round(base.epochs[-1] * per_epoch)))
        summary += schedules.baseline_summary(spec["baseline"]["optimizer"], text.loss_summary(
            base.epochs, base.losses, base.seconds, base.diverged_at))
    shown = [rate for _, points in drawn for rate in points if math.isfinite(rate)]
    top = schedules.lr_axis_top(max(shown)) if shown and max(shown) > 0 else schedules.lr_axis_top(group["lr"])
    panel = Geometry({**spec["figure"]["panels"]["lr"], "ylim": [0.0, top]})
    for role, points in drawn:
        line = _drawn(role, [((k + 1) / per_epoch, rate) for k, rate in enumerate(points)], panel)
        result["lines"].append({**line, "panel": "lr"})
    result["lr_ticks"] = [{"text": schedules.tick_label(value), "y": panel.pixel(0.0, value)[1]}
                          for value in schedules.lr_ticks(top)]
    result["summary"] = summary
    return result


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


# --- What the page's worker calls (JSON in, JSON out) ------------------------------------------


def load_airfoil_rows(path: str, sha1: str, features: int) -> None:
    """Read the airfoil rows the site ships (see :func:`~.regression.pack_rows`) and check
    that they are the rows the kernel trained on."""
    if sha1 in _airfoil:
        return
    with open(path, "rb") as file:
        payload = file.read()
    digest = hashlib.sha1(payload).hexdigest()
    if digest != sha1:
        raise ValueError(f"the airfoil rows shipped with the site (SHA-1 {digest}) are not the ones the book "
                         f"was built with (SHA-1 {sha1}): rebuild the book")
    _airfoil[sha1] = unpack_rows(payload, features)


def register(spec_json: str) -> None:
    """Remember an explorer of the page, by its ``id``."""
    spec = json.loads(spec_json)
    if spec.get("version") != 1:
        raise ValueError(f"this worker runs explorer specs of version 1; got {spec.get('version')!r}: rebuild the book")
    _specs[spec["id"]] = spec


def run_json(explorer_id: str, positions_json: str) -> str:
    """:func:`run` for a registered explorer; the result as JSON."""
    spec = _specs[explorer_id]
    data = _airfoil[spec["data"]["sha1"]] if spec["kind"] == "loss" else None
    return json.dumps(run(spec, json.loads(positions_json), data), allow_nan=False)
