r"""The matrix experiment: learn a weight matrix from correlated inputs, and look at the
singular values of each optimizer's update.

A 2-D point is no matrix, so Muon (which orthogonalizes a matrix update) needs an
experiment of its own. This one is a linear layer in miniature: find the
:math:`n \times m` matrix :math:`W` that maps inputs :math:`\mathbf{x} \in \mathbb{R}^m` to
targets :math:`\mathbf{y} = W^\star \mathbf{x}`, from minibatches of inputs drawn from
:math:`N(0, \Sigma)`. The loss is the expected squared error,

.. math::
    L(W) = \tfrac12\, \mathbb{E}\, \lVert (W - W^\star)\,\mathbf{x} \rVert^2
         = \tfrac12 \operatorname{tr}\!\big((W - W^\star)\, \Sigma\, (W - W^\star)^\top\big),

computed exactly, and the minibatch gradient is :math:`(W - W^\star)\, X^\top X / B` for
the :math:`B \times m` inputs :math:`X`. Its expectation, :math:`(W - W^\star)\Sigma`, is
as badly conditioned as :math:`\Sigma`: the covariance's eigenvalues are spread evenly in
the logarithm from 1 down to :math:`1/\kappa`, so a gradient step moves the weights far
along a few directions of the input space and hardly at all along the others.

:func:`matrix_problem` builds the problem *aligned* (:math:`\Sigma` diagonal: the inputs'
features are independent, each with its own scale) or *rotated* (:math:`\Sigma = Q \Lambda
Q^\top` for a random rotation :math:`Q`: the same scales, mixed across the features). The
rotated problem is the aligned one in other coordinates, exactly: :math:`W^\star` is turned
with it, and the same random numbers give inputs :math:`X Q^\top`, so an optimizer whose
step turns with the gradient (SGD, Muon) has the same loss at every step on both, while a
per-coordinate method (Adam) does not.

:func:`train_matrix` runs any ``torch.optim`` class on it from :math:`W = 0`, with a
constant learning rate or one that decays linearly to 0, and records the loss at every step
and the singular values of every update :math:`W_t - W_{t-1}`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .live import text
from .optimizers.base import RuleOptimizer, plain_hyperparameters
from .rules._checks import check_whole

__all__ = ["LOSS_LIMIT", "SCHEDULES", "MatrixProblem", "MatrixRun", "matrix_problem", "sweep_matrix", "train_matrix"]

SCHEDULES = ("linear", "constant")
"""``"linear"``: the learning rate falls from :math:`\\eta` at the first step to
:math:`\\eta/T` at the last of :math:`T` (``LambdaLR`` with the factor ``1 - t/T``);
``"constant"``: :math:`\\eta` throughout."""

LOSS_LIMIT = 1e8
"""A loss above this (or not finite) counts as diverged; the start is about 500 (32 x 32)."""


@dataclass(frozen=True)
class MatrixProblem:
    """A matrix least-squares problem: covariance :math:`\\Sigma`, its factor
    :math:`R` (:math:`R^\\top R = \\Sigma`; a minibatch is :math:`X = Z R` for standard normal
    :math:`Z`), and the target :math:`W^\\star`."""

    covariance: np.ndarray
    factor: np.ndarray
    target: np.ndarray
    eigenvalues: np.ndarray
    """:math:`\\Sigma`'s eigenvalues, from 1 down to :math:`1/\\kappa`."""
    rotated: bool
    condition: float
    seed: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.target.shape

    @property
    def name(self) -> str:
        rows, columns = self.shape
        kind = "rotated" if self.rotated else "aligned"
        return f"{rows} × {columns} least squares, {kind} inputs, κ = {self.condition:g}"

    def loss(self, W: np.ndarray) -> float:
        """:math:`\\frac12 \\operatorname{tr}((W - W^\\star)\\Sigma(W - W^\\star)^\\top)`."""
        E = np.asarray(W, dtype=np.float64) - self.target
        return 0.5 * float(np.einsum("ij,jk,ik->", E, self.covariance, E))

    def gradient(self, W: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The minibatch gradient :math:`(W - W^\\star) X^\\top X / B` of the squared error
        :math:`\\frac{1}{2B}\\lVert X (W - W^\\star)^\\top \\rVert_F^2` of the inputs ``X``."""
        return ((W - self.target) @ X.T) @ X / len(X)


def matrix_problem(rows: int = 32, columns: int = 32, *, condition: float = 1000.0, rotated: bool = True,
                   seed: int = 0) -> MatrixProblem:
    """The problem of the module docstring: an ``rows × columns`` target with standard normal
    entries, inputs whose covariance has eigenvalues :math:`\\kappa^{-k/(m-1)}`, ``k = 0 ..
    m - 1`` (``condition`` is :math:`\\kappa`), aligned with the coordinates or turned by a
    random rotation (the same ``seed`` gives the same target and eigenvalues, and the rotated
    problem is exactly the aligned one turned).

    Raises:
        ValueError: a size below 1 or a condition number below 1.
    """
    check_whole("rows", rows, 1)
    check_whole("columns", columns, 1)
    check_whole("seed", seed, 0)
    if not (isinstance(condition, (int, float)) and 1.0 <= condition < math.inf):
        raise ValueError(f"condition must be a number in [1, inf); got {condition!r}")
    if not isinstance(rotated, bool):
        raise ValueError(f"rotated must be True or False; got {rotated!r}")
    rng = np.random.default_rng(seed)
    target = rng.normal(size=(rows, columns))
    eigenvalues = condition ** (-np.arange(columns) / max(columns - 1, 1))
    root = np.diag(np.sqrt(eigenvalues))
    if rotated:
        Q, upper = np.linalg.qr(rng.normal(size=(columns, columns)))
        Q = Q * np.sign(np.diag(upper))  # a rotation drawn uniformly (Haar), the same on every machine
        target, root = target @ Q.T, root @ Q.T
    return MatrixProblem(covariance=root.T @ root, factor=root, target=target, eigenvalues=eigenvalues,
                         rotated=rotated, condition=float(condition), seed=seed)


@dataclass(frozen=True)
class MatrixRun:
    """What a run on a :class:`MatrixProblem` did."""

    losses: np.ndarray
    """:math:`L(W_t)` for ``t = 0 .. steps`` (shorter if the run diverged)."""
    singular_values: np.ndarray
    """Row ``t - 1``: the singular values of the update :math:`W_t - W_{t-1}`, largest first
    (empty rows when not recorded)."""
    learning_rates: np.ndarray
    optimizer: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""
    batch_size: int = 32
    schedule: str = "linear"
    seconds: float = 0.0
    diverged_at: int | None = None
    weights: np.ndarray | None = field(default=None, repr=False, compare=False)
    """:math:`W` after the last step."""

    @property
    def steps(self) -> int:
        return len(self.losses) - 1

    @property
    def final_loss(self) -> float:
        """The last loss; ``inf`` if the run diverged."""
        return math.inf if self.diverged_at is not None else float(self.losses[-1])

    def summary(self) -> str:
        if self.diverged_at is not None:
            return f"diverged at step {self.diverged_at}"
        return f"loss {self.losses[0]:.3g} -> {self.final_loss:.3g} after {self.steps} steps"

    def title(self) -> str:
        schedule = "η decaying linearly to 0" if self.schedule == "linear" else "constant η"
        return f"{text.describe_run(self.optimizer, self.hyperparameters)}, batch {self.batch_size}, {schedule}"


def _is_diverged(loss: float) -> bool:
    return not (math.isfinite(loss) and loss <= LOSS_LIMIT)


def train_matrix(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    problem: MatrixProblem,
    *,
    steps: int = 200,
    batch_size: int = 32,
    seed: int = 0,
    schedule: str = "linear",
    record_singular_values: bool = True,
) -> MatrixRun:
    """Train :math:`W` from 0 on ``problem`` and return the losses and the updates' spectra.

    Args:
        optimizer_class: an optim_lib class (its rule runs on NumPy arrays) or any
            ``torch.optim.Optimizer`` class (stepped through ``.grad`` in float64).
        hyperparameters: its constructor arguments, e.g. ``{"lr": 0.1}``.
        problem: from :func:`matrix_problem`.
        steps: optimizer steps :math:`T`.
        batch_size: inputs per minibatch :math:`B`.
        seed: the minibatches' random numbers (the same seed gives the same inputs, turned
            with the problem).
        schedule: one of :data:`SCHEDULES`.
        record_singular_values: compute each update's singular values (an SVD per step).

    Divergence (a loss above :data:`LOSS_LIMIT` or not finite) stops the run; nothing is
    raised or printed.
    """
    if not isinstance(problem, MatrixProblem):
        raise TypeError(f"problem must be a MatrixProblem (from matrix_problem); got {type(problem).__name__}")
    check_whole("steps", steps, 1)
    check_whole("batch_size", batch_size, 1)
    check_whole("seed", seed, 0)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}; got {schedule!r}")
    hyperparameters = dict(hyperparameters or {})
    rows, columns = problem.shape
    parameter = torch.zeros((rows, columns), dtype=torch.float64, requires_grad=True)
    optimizer = optimizer_class([parameter], **hyperparameters)  # checks the hyperparameters
    group = optimizer.param_groups[0]
    base_lr = float(group["lr"])
    rule = optimizer.rule_for(group) if isinstance(optimizer, RuleOptimizer) else None
    if rule is not None:
        arguments = rule.arguments(plain_hyperparameters(group))
        state = rule.initial_state(np.zeros((rows, columns)), group)
    noise = np.random.default_rng(seed).standard_normal((steps, batch_size, columns))
    W = np.zeros((rows, columns))
    losses, spectra, learning_rates = [problem.loss(W)], [], []
    diverged_at = None
    tic = time.perf_counter()
    with np.errstate(all="ignore"):
        for t in range(steps):
            lr = base_lr * (1 - t / steps) if schedule == "linear" else base_lr
            G = problem.gradient(W, noise[t] @ problem.factor)
            if rule is not None:
                new_W, state = rule.update(W, G, state, **{**arguments, "lr": lr})
            else:
                group["lr"] = lr
                parameter.grad = torch.from_numpy(G)
                optimizer.step()
                new_W = parameter.detach().numpy().copy()
            learning_rates.append(lr)
            update, W = new_W - W, np.asarray(new_W, dtype=np.float64)
            losses.append(problem.loss(W))
            if _is_diverged(losses[-1]):
                diverged_at = t + 1
                break
            spectra.append(np.linalg.svd(update, compute_uv=False) if record_singular_values else np.empty(0))
    return MatrixRun(
        losses=np.array(losses), singular_values=np.array(spectra), learning_rates=np.array(learning_rates),
        optimizer=optimizer_class.__name__, hyperparameters=hyperparameters, problem=problem.name,
        batch_size=batch_size, schedule=schedule, seconds=time.perf_counter() - tic, diverged_at=diverged_at,
        weights=W,
    )


def sweep_matrix(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    learning_rates: Any,
    problem: MatrixProblem,
    *,
    seeds: tuple[int, ...] = (0, 1, 2),
    steps: int = 200,
    batch_size: int = 32,
    schedule: str = "linear",
) -> Any:
    """The final loss of :func:`train_matrix` at each learning rate and seed, as a
    :class:`~optim_lib.sweeps.SweepResult` (metric ``"final loss"``; NaN where a run
    diverged), so that :func:`~optim_lib.sweeps.choose` and
    :func:`~optim_lib.plotting.plot_sweeps` apply; cached like the other sweeps (the key
    holds this module's source and the problem's numbers)."""
    import hashlib
    import inspect
    import sys

    from .sweeps import _run_grid

    if not isinstance(problem, MatrixProblem):
        raise TypeError(f"problem must be a MatrixProblem (from matrix_problem); got {type(problem).__name__}")

    def one(lr: float, seed: int) -> float:
        run = train_matrix(optimizer_class, {**dict(hyperparameters or {}), "lr": lr}, problem, steps=steps,
                           batch_size=batch_size, seed=seed, schedule=schedule, record_singular_values=False)
        return math.nan if run.diverged_at is not None else run.final_loss

    digest = hashlib.sha1(inspect.getsource(sys.modules[__name__]).encode())
    for array in (problem.factor, problem.target):
        digest.update(np.ascontiguousarray(array).tobytes())
    settings = {"steps": steps, "batch_size": batch_size, "schedule": schedule, "problem": digest.hexdigest()}
    return _run_grid("matrix", optimizer_class, hyperparameters or {}, learning_rates, seeds, settings,
                     "final loss", one)
