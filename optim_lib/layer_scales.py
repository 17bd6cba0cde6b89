"""How large each layer's gradients and steps are on the digits network, layer by layer.

An adaptive method divides each coordinate's gradient by a running root mean square of its
own gradients, so a layer whose gradients are a hundred times smaller than another's still
takes steps of about the same length; gradient descent's steps are the learning rate times
the gradient and keep the hundredfold difference. :func:`measure_layers` trains the network
as :func:`~optim_lib.network.train_network` does and records, at every step and for every
``Linear`` layer's weight matrix, the root mean square of its gradient and of the change
the step made, so that the classic chapters can show the difference on a network deep
enough for it to matter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .digits import DigitsData
from .network import NetworkRun, train_network

__all__ = ["LayerScales", "measure_layers"]


def _rms(tensor: torch.Tensor) -> float:
    return float(torch.sqrt((tensor.detach().double() ** 2).mean()))


@dataclass(frozen=True)
class LayerScales:
    """A run of the digits network and its layers' gradient and step sizes at every step.

    Rows are steps, columns are the ``Linear`` layers' weight matrices from the input (the
    first hidden layer) to the output (the logits); the biases are left out."""

    run: NetworkRun
    gradient_rms: np.ndarray
    """``[t, k]``: the root mean square of layer ``k``'s weight gradient at step ``t + 1``."""
    step_rms: np.ndarray
    """``[t, k]``: the root mean square of the change step ``t + 1`` made to layer ``k``'s
    weights, divided by that step's learning rate (weight decay's shrink included). For
    plain SGD it equals ``gradient_rms``; for a step of ``±eta`` in every weight it is 1."""

    @property
    def layers(self) -> int:
        return self.gradient_rms.shape[1]

    def median(self, which: str, start: int = 0) -> np.ndarray:
        """The median over steps ``start + 1`` to the last of ``"gradient"`` or ``"step"``,
        one number per layer."""
        if which not in ("gradient", "step"):
            raise ValueError(f"which must be 'gradient' or 'step'; got {which!r}")
        values = self.gradient_rms if which == "gradient" else self.step_rms
        if not 0 <= start < len(values):
            raise ValueError(f"start must be in [0, {len(values)}); got {start!r}")
        return np.median(values[start:], axis=0)


def measure_layers(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    data: DigitsData,
    *,
    batch_size: int = 32,
    epochs: int = 10,
    seed: int = 0,
    hidden: Sequence[int] = (64,),
) -> LayerScales:
    """Train the network as :func:`~optim_lib.network.train_network` does (same arguments,
    same run, bit for bit) and measure each layer's weight gradient and step at every step.

    The steps are watched through the optimizer's step hooks, installed from the trainer's
    ``scheduler`` argument with a scheduler that leaves the learning rate as it is (as
    :func:`~optim_lib.update_sizes.network_update_rms` does); so this function takes no
    scheduler.
    """
    gradients: list[list[float]] = []
    steps: list[list[float]] = []

    def watch(optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        weights = parameters[0::2]  # the network's parameters are W1, b1, W2, b2, ...
        before: list[torch.Tensor] = []

        def keep(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            before[:] = [W.detach().clone() for W in weights]
            gradients.append([_rms(W.grad) for W in weights])

        def measure(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            lr = float(opt.param_groups[0]["lr"])
            steps.append([_rms(W.detach() - old) / lr for W, old in zip(weights, before)])

        optimizer.register_step_pre_hook(keep)
        optimizer.register_step_post_hook(measure)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

    run = train_network(optimizer_class, hyperparameters, data, batch_size=batch_size, epochs=epochs, seed=seed,
                        hidden=hidden, scheduler=watch)
    layers = len(tuple(hidden)) + 1
    return LayerScales(run=run, gradient_rms=np.array(gradients, dtype=float).reshape(-1, layers),
                       step_rms=np.array(steps, dtype=float).reshape(-1, layers))
