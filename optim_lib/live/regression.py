"""Linear regression on the airfoil data by minibatches, on plain Python floats.

The model is ``y_hat = x . w + b`` and the loss the mean of ``(y_hat - y)^2 / 2``, as in Dive
into Deep Learning's optimization chapter. Each step computes the minibatch gradient from
the batch's rows; the full-data loss, recorded every few hundred examples, is a quadratic
form in ``theta = (w, b)`` of the data's second moments, computed once:

    loss(theta) = (theta' M theta - 2 theta' c + q) / 2,
    M = mean of z z',  c = mean of z y,  q = mean of y^2,  with z = (x, 1),

so a record costs 42 multiplications instead of a pass over the 1500 rows. The kernel and
the reader's browser run this same code, on the same rows, initial weights and minibatch
order (both handed in by the caller), and get the same curve.

Dot products use :func:`math.fsum` (the correctly rounded sum), never the built-in ``sum``:
from Python 3.12 on, ``sum`` of floats compensates its rounding errors and 3.11's does not,
so the browser's Python (3.14) and an older kernel would differ in the last bit, and a
chaotic run (a huge learning rate) would amplify that into different curves.
"""

from __future__ import annotations

import math
import operator
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..rules._vector import Vector
from ..rules.base import Rule

LOSS_LIMIT = 1e6
"""A run counts as diverged once the loss exceeds this, or is not finite."""


@dataclass(frozen=True)
class Moments:
    """The second moments of ``z = (x, 1)`` and ``y`` over the data (see the module)."""

    M: tuple[tuple[float, ...], ...]
    c: tuple[float, ...]
    q: float


def pack_rows(rows: Sequence[Sequence[float]], targets: Sequence[float]) -> bytes:
    """The data as little-endian float64, each row's features then its target (how the
    website ships the airfoil rows to the reader's browser)."""
    values = [v for x, y in zip(rows, targets) for v in (*x, y)]
    return struct.pack(f"<{len(values)}d", *values)


def unpack_rows(payload: bytes, features: int) -> tuple[list[list[float]], list[float]]:
    """The inverse of :func:`pack_rows`."""
    values = struct.unpack(f"<{len(payload) // 8}d", payload)
    width = features + 1
    rows = [list(values[i : i + features]) for i in range(0, len(values), width)]
    return rows, [values[i + features] for i in range(0, len(values), width)]


def second_moments(rows: Sequence[Sequence[float]], targets: Sequence[float]) -> Moments:
    n = len(targets)
    d = len(rows[0]) + 1
    M = [[0.0] * d for _ in range(d)]
    c = [0.0] * d
    q = 0.0
    for x, y in zip(rows, targets):
        z = (*x, 1.0)
        for i in range(d):
            zi = z[i]
            Mi = M[i]
            for j in range(i, d):
                Mi[j] += zi * z[j]
            c[i] += zi * y
        q += y * y
    for i in range(d):
        for j in range(i, d):
            M[i][j] /= n
            M[j][i] = M[i][j]
    return Moments(M=tuple(tuple(row) for row in M), c=tuple(v / n for v in c), q=q / n)


def full_loss(moments: Moments, theta: Sequence[float]) -> float:
    """The mean of ``(x . w + b - y)^2 / 2`` over the data, for ``theta = (w..., b)``."""
    quadratic = 0.0
    linear = 0.0
    for i, ti in enumerate(theta):
        row = moments.M[i]
        quadratic += ti * math.fsum(map(operator.mul, row, theta))
        linear += ti * moments.c[i]
    return (quadratic - 2.0 * linear + moments.q) / 2.0


def minibatch_gradient(rows: Sequence[Sequence[float]], targets: Sequence[float], batch: Sequence[int],
                       theta: Sequence[float]) -> list[float]:
    """The gradient of the batch's mean loss with respect to ``theta = (w..., b)``."""
    d = len(theta) - 1
    w, b = theta[:d], theta[d]
    gradient_w = [0.0] * d
    gradient_b = 0.0
    for index in batch:
        x = rows[index]
        residual = math.fsum(map(operator.mul, x, w)) + b - targets[index]
        gradient_w = [gj + xj * residual for gj, xj in zip(gradient_w, x)]
        gradient_b += residual
    size = len(batch)
    return [gj / size for gj in gradient_w] + [gradient_b / size]


def _evaluated(rule: Rule, theta: list[float], states: list[dict[str, Any]], group: Mapping[str, Any]) -> list[float]:
    """Where the model is evaluated: ``theta``, or the rule's ``evaluation_point``."""
    if rule.evaluation_point is None:
        return theta
    try:
        return [rule.evaluation_point(v, state, group) for v, state in zip(theta, states)]
    except (OverflowError, ZeroDivisionError):
        return [math.nan] * len(theta)


def _is_diverged(loss: float) -> bool:
    return not (math.isfinite(loss) and loss <= LOSS_LIMIT)


@dataclass(frozen=True)
class Curve:
    """What :func:`train` returns: the full-data loss where it was recorded."""

    epochs: list[float]
    losses: list[float]
    seconds: float
    diverged_at: float | None
    steps: int = 0
    """The steps taken."""


def train(
    rule: Rule,
    group: Mapping[str, Any],
    rows: Sequence[Sequence[float]],
    targets: Sequence[float],
    theta0: Sequence[float],
    orders: Sequence[Sequence[int]],
    *,
    batch_size: int,
    record_every: int,
    moments: Moments | None = None,
    schedule: Sequence[Mapping[str, Any]] | None = None,
) -> Curve:
    """Train with ``rule`` (an elementwise rule, hyperparameters ``group`` under torch's
    names, checked by the caller) from ``theta0 = (w..., b)``, one epoch per permutation in
    ``orders``, and record the full-data loss every ``record_every`` examples and after the
    last step (at the rule's ``evaluation_point``, for schedule-free AdamW).

    ``schedule``: ``None``, or the hyperparameters of every step (a learning-rate schedule
    read off a torch scheduler by the caller: step ``k`` runs with ``schedule[k]`` instead of
    ``group``)."""
    if moments is None:
        moments = second_moments(rows, targets)
    n = len(targets)
    arguments = rule.arguments(group)
    update = rule.update
    theta = [float(v) for v in theta0]
    if not rule.elementwise:
        return _train_on_vectors(rule, group, rows, targets, theta, orders, batch_size=batch_size,
                                 record_every=record_every, moments=moments, schedule=schedule)
    states = [rule.initial_state(v, group) for v in theta]
    recorded = [0.0]
    losses = [full_loss(moments, theta)]
    diverged_at = 0.0 if _is_diverged(losses[0]) else None
    seen = 0
    seconds = 0.0
    total = n * len(orders)
    coordinates = range(len(theta))
    steps = 0
    for order in orders if diverged_at is None else ():
        for start in range(0, n, batch_size):
            tic = time.perf_counter()
            batch = order[start : start + batch_size]
            gradient = minibatch_gradient(rows, targets, batch, theta)
            if schedule is not None:
                group = schedule[steps]
                arguments = rule.arguments(group)
            steps += 1
            try:
                for i in coordinates:
                    theta[i], states[i] = update(theta[i], gradient[i], states[i], **arguments)
            except (OverflowError, ZeroDivisionError):
                theta = [math.nan] * len(theta)  # where NumPy would have given inf or NaN
            seconds += time.perf_counter() - tic
            seen += len(batch)
            if seen // record_every > (seen - len(batch)) // record_every or seen == total:
                recorded.append(seen / n)
                losses.append(full_loss(moments, _evaluated(rule, theta, states, group)))
                if _is_diverged(losses[-1]):
                    diverged_at = seen / n
                    return Curve(recorded, losses, seconds, diverged_at, steps)
    return Curve(recorded, losses, seconds, diverged_at, steps)


def _train_on_vectors(rule: Rule, group: Mapping[str, Any], rows: Sequence[Sequence[float]],
                      targets: Sequence[float], theta: list[float], orders: Sequence[Sequence[int]], *,
                      batch_size: int, record_every: int, moments: Moments,
                      schedule: Sequence[Mapping[str, Any]] | None = None) -> Curve:
    """:func:`train` for a rule that is not elementwise (it looks at a whole parameter, as
    Adafactor does): the weights ``w`` and the bias ``b`` as two parameters, each a
    :class:`~optim_lib.rules._vector.Vector`, as the torch model has them."""
    n = len(targets)
    arguments = rule.arguments(group)
    params = [Vector(theta[:-1]), Vector(theta[-1:])]
    states = [rule.initial_state(p, group) for p in params]

    def evaluated() -> list[float]:
        try:
            points = params if rule.evaluation_point is None else [
                rule.evaluation_point(p, state, group) for p, state in zip(params, states)]
        except (OverflowError, ZeroDivisionError):
            return [math.nan] * len(theta)
        return [*points[0].values, *points[1].values]

    recorded = [0.0]
    losses = [full_loss(moments, evaluated())]
    seen, seconds, total, steps = 0, 0.0, n * len(orders), 0
    for order in orders if _is_diverged(losses[0]) is False else ():
        for start in range(0, n, batch_size):
            tic = time.perf_counter()
            batch = order[start : start + batch_size]
            if schedule is not None:
                group = schedule[steps]
                arguments = rule.arguments(group)
            steps += 1
            gradient = minibatch_gradient(rows, targets, batch, [*params[0].values, *params[1].values])
            pieces = (Vector(gradient[:-1]), Vector(gradient[-1:]))
            try:
                for i, g in enumerate(pieces):
                    params[i], states[i] = rule.update(params[i], g, states[i], **arguments)
            except (OverflowError, ZeroDivisionError):
                params = [Vector([math.nan] * len(p)) for p in params]
            seconds += time.perf_counter() - tic
            seen += len(batch)
            if seen // record_every > (seen - len(batch)) // record_every or seen == total:
                recorded.append(seen / n)
                losses.append(full_loss(moments, evaluated()))
                if _is_diverged(losses[-1]):
                    return Curve(recorded, losses, seconds, seen / n, steps)
    return Curve(recorded, losses, seconds, 0.0 if _is_diverged(losses[0]) else None, steps)
