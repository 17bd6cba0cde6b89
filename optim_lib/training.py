"""Train linear regression on the airfoil data and return the loss curve.

The setup of Dive into Deep Learning's optimization chapter: a linear model
``y_hat = X w + b`` with ``w ~ N(0, 0.01²)`` and ``b = 0``, the squared loss
``(y_hat - y)² / 2`` averaged over a minibatch, and the full-data loss recorded every
``record_every`` examples. The gradient is written out by hand (it is two lines for a
linear model) and computed in NumPy, which on 10 × 5 minibatches is several times faster
than autograd or torch operations; it is handed to the optimizer as tensors through
``.grad``, so any ``torch.optim.Optimizer`` class can be trained.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .airfoil import AirfoilData
from .optimizers._arrays import Array
from .optimizers._checks import check_whole

LOSS_LIMIT = 1e6
"""A run counts as diverged once the loss exceeds this, or is not finite."""


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

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def summary(self) -> str:
        """Dive into Deep Learning's one-line summary."""
        if self.diverged_at is not None:
            return f"diverged at epoch {self.diverged_at:.2f}"
        epochs = float(self.epochs[-1])  # the last step is always recorded
        if epochs == 0:
            return f"loss: {self.final_loss:.3f} (no training)"
        return f"loss: {self.final_loss:.3f}, {self.seconds / epochs:.3f} sec/epoch"


def squared_loss(X: Array, y: Array, w: Array, b: Array) -> float:
    """Mean of ``(X w + b - y)² / 2`` (NumPy arrays or tensors)."""
    residual = X @ w + b - y
    return float((residual @ residual) / (2 * len(y)))


def linear_regression_gradient(X: Array, y: Array, w: Array, b: Array) -> tuple[Array, Array]:
    """Gradients of the mean squared loss ``(X w + b - y)² / 2`` with respect to ``w`` and
    ``b`` (NumPy arrays or tensors, returned as the same kind)."""
    residual = X @ w + b - y
    return X.T @ residual / len(y), residual.mean().reshape(1)


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
    """
    check_whole("batch_size", batch_size, 1)
    check_whole("epochs", epochs, 0)
    check_whole("record_every", record_every, 1)
    hyperparameters = dict(hyperparameters or {})
    X, y = data.X.numpy(), data.y.numpy()
    n = len(y)
    generator = torch.Generator().manual_seed(seed)
    w = torch.normal(0.0, 0.01, size=(X.shape[1],), generator=generator).requires_grad_(True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optimizer_class([w, b], **hyperparameters)

    recorded_epochs = [0.0]
    losses = [squared_loss(X, y, *_arrays(w, b))]
    diverged_at = 0.0 if _is_diverged(losses[0]) else None
    seen = 0
    seconds = 0.0
    # A diverging run overflows to inf on the way: that is reported in the curve, not warned.
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs if diverged_at is None else 0):
            order = torch.randperm(n, generator=generator).numpy()
            for start in range(0, n, batch_size):
                tic = time.perf_counter()
                batch = order[start : start + batch_size]
                grad_w, grad_b = linear_regression_gradient(X[batch], y[batch], *_arrays(w, b))
                w.grad, b.grad = torch.from_numpy(grad_w), torch.from_numpy(grad_b)
                optimizer.step()
                seconds += time.perf_counter() - tic
                seen += len(batch)
                # Every record_every examples, and always after the last step.
                if seen // record_every > (seen - len(batch)) // record_every or seen == n * epochs:
                    recorded_epochs.append(seen / n)
                    losses.append(squared_loss(X, y, *_arrays(w, b)))
                    if _is_diverged(losses[-1]):
                        diverged_at = seen / n
                        break
            if diverged_at is not None:
                break
    return LossCurve(
        epochs=np.array(recorded_epochs),
        losses=np.array(losses),
        seconds=seconds,
        optimizer=optimizer_class.__name__,
        hyperparameters=hyperparameters,
        batch_size=batch_size,
        diverged_at=diverged_at,
    )
