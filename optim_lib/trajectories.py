"""Run an optimizer on a 2-D landscape and return the whole path.

``run_trajectory(Adagrad, {"lr": 0.4})`` reproduces Dive into Deep Learning's trace on
f(x) = 0.1 x1² + 2 x2² from (-5, -2). Any ``torch.optim.Optimizer`` class works; for
optim_lib's own classes the runner calls the class's update rule directly, coordinate by
coordinate on plain floats (:func:`optim_lib.live.trajectory.run_2d`: the same function the
website runs in the reader's browser, without torch's per-step overhead), which is what
makes a slider feel instant.

The path is the sequence of points at which the model is *evaluated*. For most optimizers
that is the parameter itself. Schedule-free AdamW takes its gradients at one point
(:math:`y`) and is evaluated at another (the average :math:`x`): its rule says so through
its ``evaluation_point``, and the path records :math:`x`. Another ``torch.optim`` class
with a ``train()``/``eval()`` pair (the schedulefree package's) is put in train mode to
step and switched to eval mode to read each point, as its documentation asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .landscapes import QUADRATIC, Landscape
from .live import text
from .live.trajectory import DIVERGENCE_LIMIT, run_2d
from .optimizers.base import RuleOptimizer, has_modes, plain_hyperparameters
from .rules._checks import check_whole

__all__ = ["DIVERGENCE_LIMIT", "Trajectory", "run_trajectory", "schedule_free_sequences"]


@dataclass(frozen=True)
class Trajectory:
    """The points an optimizer visited, from the start point on."""

    path: np.ndarray
    """Shape ``(steps_taken + 1, 2)``; row 0 is the start. Stops at divergence."""
    landscape: Landscape
    optimizer: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    diverged_at: int | None = None
    """The first step whose point was not finite or beyond ``DIVERGENCE_LIMIT``, if any
    (that point is not in ``path``)."""

    @property
    def final(self) -> np.ndarray:
        return self.path[-1]

    @property
    def losses(self) -> np.ndarray:
        return self.landscape.f(self.path[:, 0], self.path[:, 1])

    def summary(self) -> str:
        """The final point the way Dive into Deep Learning prints it."""
        return text.trajectory_summary(self.final, len(self.path) - 1, self.diverged_at)


def _is_diverged(x: np.ndarray) -> bool:
    return not (np.isfinite(x).all() and np.abs(x).max() <= DIVERGENCE_LIMIT)


def run_trajectory(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None = None,
    landscape: Landscape = QUADRATIC,
    start: tuple[float, float] | None = None,
    steps: int = 20,
) -> Trajectory:
    """Optimize ``landscape`` from ``start`` (default: the landscape's own) for ``steps`` steps.

    Args:
        optimizer_class: an optim_lib class or any ``torch.optim.Optimizer`` subclass.
        hyperparameters: constructor arguments, e.g. ``{"lr": 0.4}``; checked by the class.
        landscape: the function to minimize (default: the course's quadratic).
        start: the start point ``(x1, x2)``; default ``landscape.start``, (-5, -2) for the
            quadratic.
        steps: the number of optimizer steps.

    Returns:
        A :class:`Trajectory`; a run that blows up stops there and says when.
    """
    check_whole("steps", steps, 0)
    hyperparameters = dict(hyperparameters or {})
    x0 = np.array(landscape.start if start is None else start, dtype=np.float64)
    if x0.shape != (2,) or not np.isfinite(x0).all():
        raise ValueError(f"start must be two finite numbers (x1, x2); got {start!r}")
    # Constructing the optimizer checks the hyperparameters, for both kinds of class.
    parameter = torch.tensor(x0, requires_grad=True)
    optimizer = optimizer_class([parameter], **hyperparameters)
    group = optimizer.param_groups[0]
    rule = optimizer.rule_for(group) if isinstance(optimizer, RuleOptimizer) else None
    if rule is not None:
        points, diverged_at = run_2d(rule, plain_hyperparameters(group), landscape.grad, tuple(x0), steps)
    else:
        points, diverged_at = _run_torch(optimizer, parameter, landscape, x0, steps)
    return Trajectory(
        path=np.array(points, dtype=np.float64),
        landscape=landscape,
        optimizer=optimizer_class.__name__,
        hyperparameters=hyperparameters,
        diverged_at=diverged_at,
    )


def _run_torch(
    optimizer: torch.optim.Optimizer,
    parameter: torch.Tensor,
    landscape: Landscape,
    x0: np.ndarray,
    steps: int,
) -> tuple[list[np.ndarray], int | None]:
    """Any torch.optim class, stepped in train mode if it has modes, each point read in eval
    mode."""
    modes = has_modes(optimizer)
    points = [x0]
    for step in range(1, steps + 1):
        if modes:
            optimizer.train()
        x1, x2 = parameter.detach().tolist()
        parameter.grad = torch.tensor(landscape.grad(x1, x2), dtype=torch.float64)
        optimizer.step()
        if modes:
            optimizer.eval()
        x = parameter.detach().numpy().copy()
        if _is_diverged(x):
            return points, step
        points.append(x)
    return points, None


def schedule_free_sequences(
    hyperparameters: Mapping[str, Any] | None = None,
    landscape: Landscape = QUADRATIC,
    steps: int = 20,
) -> dict[str, Trajectory]:
    r"""Schedule-free AdamW's three sequences on ``landscape``, from its start: the fast
    iterates :math:`z`, the gradient points :math:`y` and the average :math:`x` (the point
    :func:`run_trajectory` records), as one :class:`Trajectory` each, keyed ``"z"``, ``"y"``
    and ``"x"``.

    The rule :func:`~optim_lib.rules.schedule_free.adamw_schedule_free_update` is run on
    NumPy arrays; :math:`x` comes from :func:`~optim_lib.rules.schedule_free.schedule_free_x`.
    ``hyperparameters`` are :class:`~optim_lib.optimizers.schedule_free.AdamWScheduleFree`'s
    (checked by its constructor). If any of the three points is not finite or beyond
    :data:`DIVERGENCE_LIMIT`, all three paths stop before that step and say so.
    """
    from .optimizers.schedule_free import AdamWScheduleFree
    from .rules.schedule_free import adamw_schedule_free_arguments, adamw_schedule_free_init
    from .rules.schedule_free import adamw_schedule_free_update, schedule_free_x

    check_whole("steps", steps, 0)
    hyperparameters = dict(hyperparameters or {})
    x0 = np.array(landscape.start, dtype=np.float64)
    optimizer = AdamWScheduleFree([torch.tensor(x0)], **hyperparameters)  # checks the hyperparameters
    arguments = adamw_schedule_free_arguments(plain_hyperparameters(optimizer.param_groups[0]))
    y, state = x0.copy(), adamw_schedule_free_init(x0)
    paths: dict[str, list[np.ndarray]] = {"z": [x0], "y": [x0], "x": [x0]}
    diverged_at = None
    with np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            y, state = adamw_schedule_free_update(y, np.array(landscape.grad(*y)), state, **arguments)
            points = {"z": state["z"], "y": y, "x": schedule_free_x(y, state["z"], arguments["beta1"])}
            if any(_is_diverged(point) for point in points.values()):
                diverged_at = step
                break
            for name, point in points.items():
                paths[name].append(point)
    names = {"z": "z (fast iterates)", "y": "y (gradient points)", "x": "x (average)"}
    return {
        name: Trajectory(path=np.array(path), landscape=landscape, optimizer=names[name],
                         hyperparameters=hyperparameters, diverged_at=diverged_at)
        for name, path in paths.items()
    }
