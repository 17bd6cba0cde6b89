"""An optimizer's path on a 2-D landscape, computed on plain Python floats.

Every classic rule is elementwise: each coordinate is updated from its own gradient and
state only. So the rule runs once per coordinate per step, on floats, with a state of its
own for each coordinate; the arithmetic is the same IEEE arithmetic NumPy does on the whole
array, and the path is the same, number for number. (On two coordinates this is also several
times faster than NumPy, whose per-operation cost dominates on tiny arrays.) A rule that
mixes the coordinates (Adafactor) runs on the point as a :class:`~optim_lib.rules._vector.Vector`
of two floats instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..rules._vector import Vector
from ..rules.base import Rule

DIVERGENCE_LIMIT = 1e6
"""A run counts as diverged once a coordinate exceeds this in size, or is not finite."""

Point = tuple[float, float]


def is_diverged(point: Sequence[float]) -> bool:
    return not all(math.isfinite(x) and abs(x) <= DIVERGENCE_LIMIT for x in point)


def run_2d(
    rule: Rule,
    group: Mapping[str, Any],
    grad: Callable[[float, float], tuple[float, float]],
    start: Sequence[float],
    steps: int,
) -> tuple[list[Point], int | None]:
    """Run ``rule`` with the hyperparameters ``group`` (torch's names, checked by the
    caller) from ``start`` for ``steps`` steps on the gradient ``grad``.

    Returns the points visited (the start first) and the first step whose point was not
    finite or beyond :data:`DIVERGENCE_LIMIT` (that point is left out), or ``None``. For a
    rule whose model is evaluated elsewhere than at its parameter (schedule-free AdamW), the
    points are its ``evaluation_point``.
    """
    if not rule.elementwise:
        return _run_on_a_vector(rule, group, grad, start, steps)
    arguments = rule.arguments(group)
    x1, x2 = float(start[0]), float(start[1])
    state1, state2 = rule.initial_state(x1, group), rule.initial_state(x2, group)
    points: list[Point] = [(x1, x2)]
    update = rule.update
    evaluated = rule.evaluation_point
    for step in range(1, steps + 1):
        g1, g2 = grad(x1, x2)
        try:
            x1, state1 = update(x1, g1, state1, **arguments)
            x2, state2 = update(x2, g2, state2, **arguments)
            point = (x1, x2) if evaluated is None else (evaluated(x1, state1, group), evaluated(x2, state2, group))
        except (OverflowError, ZeroDivisionError):
            # Where NumPy would give inf or NaN (and the run would stop here), floats raise.
            return points, step
        if is_diverged(point):
            return points, step
        points.append(point)
    return points, None


def _run_on_a_vector(
    rule: Rule,
    group: Mapping[str, Any],
    grad: Callable[[float, float], tuple[float, float]],
    start: Sequence[float],
    steps: int,
) -> tuple[list[Point], int | None]:
    """:func:`run_2d` for a rule that is not elementwise: the point as one vector."""
    arguments = rule.arguments(group)
    x = Vector(start)
    state = rule.initial_state(x, group)
    points: list[Point] = [(x.values[0], x.values[1])]
    for step in range(1, steps + 1):
        try:
            x, state = rule.update(x, Vector(grad(*x.values)), state, **arguments)
            point = x if rule.evaluation_point is None else rule.evaluation_point(x, state, group)
        except (OverflowError, ZeroDivisionError):
            return points, step
        if is_diverged(point.values):
            return points, step
        points.append((point.values[0], point.values[1]))
    return points, None
