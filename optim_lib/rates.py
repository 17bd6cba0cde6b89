"""How fast gradient descent, the heavy ball and Nesterov's method converge on a quadratic.

Along a direction of curvature ``h`` each method is a linear recurrence in the distance to
the minimum (chapter 3): gradient descent ``x_t = (1 - lr h) x_{t-1}``; the heavy ball
``x_t = (1 + beta - lr h) x_{t-1} - beta x_{t-2}``; Nesterov's method in PyTorch's form
``x_t = (1 + beta)(1 - lr h) x_{t-1} - beta (1 - lr h) x_{t-2}``. The error shrinks, in the
long run, by the largest root in absolute value of the recurrence's characteristic
polynomial: the *factor per step*. On a quadratic with several curvatures the slowest
direction decides, so the factor is the largest over the curvatures.

:func:`best_factor` searches the learning rate (and momentum) that make that worst factor
smallest. The closed forms it can be checked against, for curvatures from ``mu`` to ``L``
and ``c = L / mu``: gradient descent ``(c - 1) / (c + 1)`` at ``lr = 2 / (L + mu)``; the heavy
ball ``(sqrt(c) - 1) / (sqrt(c) + 1)`` (Polyak, 1964); Nesterov's method with a constant
momentum ``1 - 2 / sqrt(3 c + 1)`` at ``lr = 4 / (3 L + mu)`` (Lessard, Recht & Packard,
2016, Proposition 1).

Standard library only, like the update rules.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from dataclasses import dataclass

METHODS = ("gradient descent", "heavy ball", "nesterov")


def _largest_root(a: float, b: float) -> float:
    """The largest absolute value of a root of ``z**2 - a z + b``."""
    root = cmath.sqrt(a * a - 4 * b)
    return max(abs((a + root) / 2), abs((a - root) / 2))


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")


def factor_per_step(method: str, curvature: float, lr: float, momentum: float = 0.0) -> float:
    """The factor by which ``method`` shrinks the distance to the minimum per step, in the
    long run, along a direction of curvature ``curvature``; 1 or more means it does not
    converge."""
    _check_method(method)
    if not 0.0 <= lr < math.inf:
        raise ValueError(f"lr must be in [0, inf); got {lr!r}")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1); got {momentum!r}")
    if method == "gradient descent":
        if momentum != 0.0:
            raise ValueError(f"gradient descent has no momentum; got momentum={momentum!r}")
        return abs(1 - lr * curvature)
    if method == "heavy ball":
        return _largest_root(1 + momentum - lr * curvature, momentum)
    shrink = 1 - lr * curvature
    return _largest_root((1 + momentum) * shrink, momentum * shrink)


def worst_factor(method: str, curvatures: Sequence[float], lr: float, momentum: float = 0.0) -> float:
    """The largest :func:`factor_per_step` over ``curvatures``: the rate of the slowest direction."""
    return max(factor_per_step(method, h, lr, momentum) for h in curvatures)


@dataclass(frozen=True)
class BestFactor:
    """The smallest worst factor :func:`best_factor` found, and where."""

    factor: float
    lr: float
    momentum: float


def best_factor(method: str, curvatures: Sequence[float]) -> BestFactor:
    """The learning rate (and, for the heavy ball and Nesterov, the momentum) that make the
    worst factor over ``curvatures`` smallest, found by a search: a 201 x 200 grid over
    ``lr`` in (0, 4 / max(curvatures)] and ``momentum`` in [0, 1), then forty rounds, each on a
    41 x 41 grid around the best point so far, in a box half as wide. Accurate to about
    1e-9 in the factor on the course's problems (the tests check it against the closed forms).
    """
    _check_method(method)
    curvatures = [float(h) for h in curvatures]
    if not curvatures or not all(0 < h < math.inf for h in curvatures):
        raise ValueError(f"curvatures must be positive finite numbers; got {curvatures!r}")
    lr_high = 4 / max(curvatures)
    momenta = [0.0] if method == "gradient descent" else [k / 200 for k in range(200)]

    def worst(lr: float, momentum: float) -> float:
        return worst_factor(method, curvatures, lr, momentum)

    best = min(((worst(lr_high * k / 200, m), lr_high * k / 200, m) for k in range(1, 201) for m in momenta))
    lr_width, momentum_width = lr_high / 200, (0.0 if method == "gradient descent" else 1 / 200)
    for _ in range(40):
        _, lr0, m0 = best
        candidates = [best]
        for i in range(-20, 21):
            lr = lr0 + lr_width * i / 20
            if lr <= 0:
                continue
            for j in range(-20, 21) if momentum_width else (0,):
                m = m0 + momentum_width * j / 20
                if 0.0 <= m < 1.0:
                    candidates.append((worst(lr, m), lr, m))
        best = min(candidates)
        lr_width, momentum_width = lr_width / 2, momentum_width / 2
    factor, lr, momentum = best
    return BestFactor(factor=factor, lr=lr, momentum=momentum)
