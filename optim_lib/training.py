"""Train linear regression on the airfoil data and return the loss curve.

The setup of Dive into Deep Learning's optimization chapter: a linear model
``y_hat = X w + b`` with ``w ~ N(0, 0.01²)`` and ``b = 0``, the squared loss
``(y_hat - y)² / 2`` averaged over a minibatch, and the full-data loss recorded every
``record_every`` examples.

For optim_lib's classes the trainer is :func:`optim_lib.live.regression.train`: the class's
own update rule, coordinate by coordinate on Python floats, the minibatch gradient written
out (two lines for a linear model) and the full-data loss from the data's second moments.
The website runs that same function in the reader's browser, on the same rows, initial
weights and minibatch order, and draws the same curve. Any other ``torch.optim.Optimizer``
class is trained the classic way, with the gradient handed to it through ``.grad`` (in
float32, the data's precision), from the same start and in the same order; so is an
optim_lib class whose rule is not elementwise (Adafactor; Muon refuses the model's vector
parameters) or is evaluated elsewhere than at its parameters (schedule-free AdamW). An
optimizer with a ``train()``/``eval()`` pair (schedule-free AdamW, optim_lib's or the
schedulefree package's) steps in train mode and the loss is recorded in eval mode, at the
average :math:`x` that one evaluates. A learning-rate ``scheduler`` is stepped after every
optimizer step, as :func:`~optim_lib.network.train_network` steps it; for optim_lib's
classes its hyperparameters of every step (the scheduler changes nothing else) are read off
it before training and handed to the same plain-Python trainer.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .airfoil import AirfoilData
from .live import text
from .live.regression import LOSS_LIMIT, train
from .network import Scheduler, _make_scheduler
from .optimizers.base import RuleOptimizer, has_modes, plain_hyperparameters
from .rules._arrays import Array
from .rules._checks import check_whole

__all__ = ["LOSS_LIMIT", "LossCurve", "train_linear_regression", "squared_loss", "linear_regression_gradient",
           "starting_point"]


@dataclass(frozen=True)
class LossCurve:
    """The full-data loss at regular points of training."""

    epochs: np.ndarray
    """Where each loss was recorded, in epochs (0 is before training)."""
    losses: np.ndarray
    seconds: float
    """Wall time of the training steps (loss recording excluded)."""
    optimizer: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    batch_size: int = 10
    diverged_at: float | None = None
    """The epoch at which the loss stopped being finite or passed ``LOSS_LIMIT``."""
    learning_rates: np.ndarray | None = None
    """With a scheduler: the learning rate of each step (the first param group's ``lr``, as
    the step used it); ``None`` without one (every step used ``hyperparameters["lr"]``)."""

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def summary(self) -> str:
        """Dive into Deep Learning's one-line summary."""
        return text.loss_summary(self.epochs, self.losses, self.seconds, self.diverged_at)


def squared_loss(X: Array, y: Array, w: Array, b: Array) -> float:
    """Mean of ``(X w + b - y)² / 2`` (NumPy arrays or tensors)."""
    residual = X @ w + b - y
    return float((residual @ residual) / (2 * len(y)))


def linear_regression_gradient(X: Array, y: Array, w: Array, b: Array) -> tuple[Array, Array]:
    """Gradients of the mean squared loss ``(X w + b - y)² / 2`` with respect to ``w`` and
    ``b`` (NumPy arrays or tensors, returned as the same kind)."""
    residual = X @ w + b - y
    return X.T @ residual / len(y), residual.mean().reshape(1)


def starting_point(seed: int, features: int, n: int, epochs: int) -> tuple[list[float], list[list[int]]]:
    """The initial ``theta = (w..., b)`` and each epoch's minibatch order for ``seed``:
    ``w ~ N(0, 0.01²)``, ``b = 0``, then a random permutation of the ``n`` examples per
    epoch, all drawn from one seeded torch generator (so the website can be handed them)."""
    generator = torch.Generator().manual_seed(seed)
    w = torch.normal(0.0, 0.01, size=(features,), generator=generator)
    orders = [torch.randperm(n, generator=generator).tolist() for _ in range(epochs)]
    return [*w.tolist(), 0.0], orders


def _arrays(*tensors: torch.Tensor) -> list[np.ndarray]:
    """Zero-copy NumPy views of the parameters, taken afresh each time (an optimizer may
    give a parameter new memory)."""
    return [t.detach().numpy() for t in tensors]


def _is_diverged(loss: float) -> bool:
    return not (math.isfinite(loss) and loss <= LOSS_LIMIT)


def train_linear_regression(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    data: AirfoilData,
    *,
    batch_size: int = 10,
    epochs: int = 2,
    seed: int = 0,
    record_every: int = 200,
    scheduler: Scheduler | None = None,
) -> LossCurve:
    """Train ``y ≈ X w + b`` with minibatches and return the loss curve.

    Args:
        optimizer_class: an optim_lib class or any ``torch.optim.Optimizer`` subclass.
        hyperparameters: its constructor arguments, e.g. ``{"lr": 0.01}``.
        data: the standardized data, from :func:`~optim_lib.airfoil.load_airfoil` (loaded
            once by the caller: a runner never reads files or downloads).
        batch_size: examples per step; ``len(data)`` gives full-batch gradient descent.
        epochs: passes over the data.
        seed: seeds the initial weights and the shuffling; same seed, same curve.
        record_every: record the full-data loss every this many examples.
        scheduler: ``None``, or a function that takes the optimizer and returns a
            ``torch.optim.lr_scheduler.LRScheduler`` on it (e.g. an
            :class:`optim_lib.schedules.Schedule`), called once after the optimizer is made
            and stepped once after every optimizer step, as in
            :func:`~optim_lib.network.train_network`: its lengths count steps (a default run
            takes 300).
    """
    check_whole("batch_size", batch_size, 1)
    check_whole("epochs", epochs, 0)
    check_whole("record_every", record_every, 1)
    if scheduler is not None and not callable(scheduler):
        raise TypeError(f"scheduler must be a function optimizer -> LRScheduler, or None; got {scheduler!r}")
    hyperparameters = dict(hyperparameters or {})
    n, features = data.X.shape
    theta0, orders = starting_point(seed, features, n, epochs)
    w = torch.tensor(theta0[:-1], dtype=data.X.dtype, requires_grad=True)
    b = torch.tensor(theta0[-1:], dtype=data.X.dtype, requires_grad=True)
    optimizer = optimizer_class([w, b], **hyperparameters)  # checks the hyperparameters
    group = optimizer.param_groups[0]
    schedule = None if scheduler is None else _make_scheduler(scheduler, optimizer)
    rule = optimizer.rule_for(group) if isinstance(optimizer, RuleOptimizer) else None
    learning_rates: list[float] | None = None if schedule is None else []
    if rule is not None:
        rows, targets = data.rows
        groups = None
        if schedule is not None:
            groups = _scheduled_groups(optimizer, schedule, len(orders) * math.ceil(n / batch_size))
        curve = train(rule, plain_hyperparameters(group), rows, targets, theta0, orders,
                      batch_size=batch_size, record_every=record_every, moments=data.moments, schedule=groups)
        recorded, losses, seconds, diverged_at = curve.epochs, curve.losses, curve.seconds, curve.diverged_at
        if groups is not None:
            learning_rates = [float(g["lr"]) for g in groups[: curve.steps]]
    else:
        recorded, losses, seconds, diverged_at = _train_torch(optimizer, w, b, data, orders, batch_size,
                                                              record_every, schedule, learning_rates)
    return LossCurve(
        epochs=np.array(recorded),
        losses=np.array(losses),
        seconds=seconds,
        optimizer=optimizer_class.__name__,
        hyperparameters=hyperparameters,
        batch_size=batch_size,
        diverged_at=diverged_at,
        learning_rates=None if learning_rates is None else np.array(learning_rates),
    )


def _scheduled_groups(optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LRScheduler,
                      steps: int) -> list[Mapping[str, Any]]:
    """The first param group's hyperparameters at each of ``steps`` steps, as ``schedule``
    sets them when stepped after each optimizer step (read off without stepping the
    optimizer: a scheduler that needs no metric depends only on its count of steps)."""
    groups = []
    with warnings.catch_warnings():
        # The optimizer is never stepped here (torch warns about that order of calls).
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before")
        for _ in range(steps):
            group = optimizer.param_groups[0]
            groups.append(dict(plain_hyperparameters({key: value for key, value in group.items() if key != "params"})))
            schedule.step()
    return groups


def _train_torch(optimizer: torch.optim.Optimizer, w: torch.Tensor, b: torch.Tensor, data: AirfoilData,
                 orders: list[list[int]], batch_size: int, record_every: int,
                 schedule: torch.optim.lr_scheduler.LRScheduler | None = None,
                 learning_rates: list[float] | None = None) -> tuple[list[float], list[float], float, float | None]:
    """Any torch.optim class: the gradient computed in NumPy, handed over through ``.grad``;
    stepped in train mode and the loss recorded in eval mode if the optimizer has modes;
    ``schedule`` stepped after every step, each step's learning rate appended to
    ``learning_rates``."""
    modes = has_modes(optimizer)
    X, y = data.X.numpy(), data.y.numpy()
    n = len(y)
    recorded = [0.0]
    losses = [squared_loss(X, y, *_arrays(w, b))]
    diverged_at = 0.0 if _is_diverged(losses[0]) else None
    seen = 0
    seconds = 0.0
    # A diverging run overflows to inf on the way: that is reported in the curve, not warned.
    with np.errstate(over="ignore", invalid="ignore"):
        for order in orders if diverged_at is None else ():
            order = np.array(order)
            for start in range(0, n, batch_size):
                if modes:
                    optimizer.train()
                tic = time.perf_counter()
                batch = order[start : start + batch_size]
                grad_w, grad_b = linear_regression_gradient(X[batch], y[batch], *_arrays(w, b))
                w.grad, b.grad = torch.from_numpy(grad_w), torch.from_numpy(grad_b)
                if learning_rates is not None:
                    learning_rates.append(float(optimizer.param_groups[0]["lr"]))
                optimizer.step()
                if schedule is not None:
                    schedule.step()
                seconds += time.perf_counter() - tic
                seen += len(batch)
                # Every record_every examples, and always after the last step.
                if seen // record_every > (seen - len(batch)) // record_every or seen == n * len(orders):
                    if modes:
                        optimizer.eval()
                    recorded.append(seen / n)
                    losses.append(squared_loss(X, y, *_arrays(w, b)))
                    if _is_diverged(losses[-1]):
                        return recorded, losses, seconds, seen / n
    return recorded, losses, seconds, diverged_at
