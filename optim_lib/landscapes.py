"""Two-dimensional test functions: small frozen objects the runners and plots share.

Each landscape knows its formula, its gradient, a default start, a plot box that shows
the interesting part, and where its minimum is. ``f`` and ``grad`` work elementwise on
floats or NumPy arrays (so a contour plot can evaluate a whole grid). This module imports
no NumPy: the website's live explorers run it in the reader's browser.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ArrayLike = Any
"""A float or a NumPy array: the formulas are plain arithmetic."""


@dataclass(frozen=True)
class Landscape:
    """A function of two variables ``f(x1, x2)`` with what is needed to run and draw it."""

    name: str
    latex: str
    f: Callable[[ArrayLike, ArrayLike], ArrayLike]
    grad: Callable[[ArrayLike, ArrayLike], tuple[ArrayLike, ArrayLike]]
    start: tuple[float, float]
    x1_range: tuple[float, float]
    x2_range: tuple[float, float]
    minima: tuple[tuple[float, float], ...]


def _quadratic(x1: ArrayLike, x2: ArrayLike) -> ArrayLike:
    return 0.1 * x1**2 + 2 * x2**2


def _quadratic_grad(x1: ArrayLike, x2: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    return 0.2 * x1, 4 * x2


QUADRATIC = Landscape(
    name="Elongated quadratic",
    latex=r"f(\mathbf{x}) = 0.1\,x_1^2 + 2\,x_2^2",
    f=_quadratic,
    grad=_quadratic_grad,
    start=(-5.0, -2.0),
    x1_range=(-5.5, 2.0),
    x2_range=(-3.0, 2.5),
    minima=((0.0, 0.0),),
)
"""The course's main function (Dive into Deep Learning's): curvature 0.2 along x1 and 4 along
x2, a condition number of 20, so one learning rate cannot suit both directions. The plot box
is Dive into Deep Learning's, widened so that the first overshoots of its published runs
(x2 = 1.2 at lr 0.4, x1 near 1 for Adam) stay in view."""


def _rosenbrock(x1: ArrayLike, x2: ArrayLike) -> ArrayLike:
    return (1 - x1) ** 2 + 100 * (x2 - x1**2) ** 2


def _rosenbrock_grad(x1: ArrayLike, x2: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    return -2 * (1 - x1) - 400 * x1 * (x2 - x1**2), 200 * (x2 - x1**2)


ROSENBROCK = Landscape(
    name="Rosenbrock",
    latex=r"f(\mathbf{x}) = (1 - x_1)^2 + 100\,(x_2 - x_1^2)^2",
    f=_rosenbrock,
    grad=_rosenbrock_grad,
    start=(-1.5, 2.0),
    x1_range=(-2.0, 2.0),
    x2_range=(-1.0, 3.0),
    minima=((1.0, 1.0),),
)
"""A curved, narrow valley: easy to reach, slow to follow to the minimum at (1, 1)."""


def _saddle(x1: ArrayLike, x2: ArrayLike) -> ArrayLike:
    return 0.5 * x1**2 + 0.25 * x2**4 - 0.5 * x2**2


def _saddle_grad(x1: ArrayLike, x2: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    return x1, x2**3 - x2


SADDLE = Landscape(
    name="Saddle",
    latex=r"f(\mathbf{x}) = \tfrac12 x_1^2 + \tfrac14 x_2^4 - \tfrac12 x_2^2",
    f=_saddle,
    grad=_saddle_grad,
    start=(-2.0, 0.01),
    x1_range=(-2.5, 2.5),
    x2_range=(-1.6, 1.6),
    minima=((0.0, -1.0), (0.0, 1.0)),
)
"""A saddle point at the origin between two minima at (0, ±1): starting almost on the
ridge, gradient descent crawls away from the saddle; methods that rescale small
gradients escape fast."""


_ROOT_HALF = math.sqrt(0.5)
"""cos 45° = sin 45°."""


def _rotated_coordinates(x1: ArrayLike, x2: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """The point's coordinates ``u = Rᵀ x`` along the bowl's own axes, R the rotation by 45°."""
    return _ROOT_HALF * (x1 + x2), _ROOT_HALF * (x2 - x1)


def _rotated_quadratic(x1: ArrayLike, x2: ArrayLike) -> ArrayLike:
    u1, u2 = _rotated_coordinates(x1, x2)
    return _quadratic(u1, u2)


def _rotated_quadratic_grad(x1: ArrayLike, x2: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    # Chain rule: the gradient in x is R times the gradient in u.
    g1, g2 = _quadratic_grad(*_rotated_coordinates(x1, x2))
    return _ROOT_HALF * (g1 - g2), _ROOT_HALF * (g1 + g2)


ROTATED_QUADRATIC = Landscape(
    name="Rotated quadratic",
    latex=r"f(\mathbf{x}) = 0.1\,u_1^2 + 2\,u_2^2,\ u_1 = \tfrac{x_1 + x_2}{\sqrt 2},\ u_2 = \tfrac{x_2 - x_1}{\sqrt 2}",
    f=_rotated_quadratic,
    grad=_rotated_quadratic_grad,
    start=(-1.5 * math.sqrt(2), -3.5 * math.sqrt(2)),
    x1_range=(-6.0, 2.0),
    x2_range=(-5.5, 1.5),
    minima=((0.0, 0.0),),
)
"""The elongated quadratic turned by 45°: ``f_rot(R x) = f(x)`` for the rotation R. The same
curvatures, 0.2 along the diagonal (1, 1) and 4 across it, but they no longer lie along the
coordinate axes: ``f = 1.05 x1² - 1.9 x1 x2 + 1.05 x2²``, and each coordinate's gradient mixes
both coordinates. The start is the quadratic's start turned the same way, ``R (-5, -2)`` =
(-2.12, -4.95), so a method that does not depend on the coordinates (gradient descent,
momentum) follows the same path, turned, and reaches the same f at every step; a method that
scales each coordinate separately does not. The plot box holds the start, the minimum and the
first overshoots across the valley of the course's methods."""

LANDSCAPES = {"quadratic": QUADRATIC, "rotated": ROTATED_QUADRATIC, "rosenbrock": ROSENBROCK, "saddle": SADDLE}
