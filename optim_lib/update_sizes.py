"""How long an optimizer's steps are on the digits network, measured at every step.

Adam's learning rate is a step length only roughly: its step per coordinate,
:math:`\\eta\\,\\hat m/(\\sqrt{\\hat v}+\\epsilon)`, is :math:`\\eta` at the first step and shorter
once the gradients are noisy (chapter 7). Lion's is exactly :math:`\\eta` in every coordinate
whose direction is not 0. :func:`network_update_rms` measures the difference on the network
experiment, in the units of the learning rate, so that two optimizers' learning rates can be
compared by the steps they take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .digits import DigitsData
from .network import NetworkRun, train_network

__all__ = ["network_update_rms"]


def network_update_rms(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    data: DigitsData,
    *,
    batch_size: int = 32,
    epochs: int = 10,
    seed: int = 0,
    hidden: Sequence[int] = (64,),
) -> tuple[NetworkRun, np.ndarray]:
    """Train the network as :func:`~optim_lib.network.train_network` does (same arguments,
    same run, bit for bit) and measure every step.

    Returns:
        The run, and for each step :math:`t` the root mean square over all the network's
        parameters (weights and biases) of the change the step made, divided by the step's
        learning rate: :math:`\\sqrt{\\operatorname{mean}_i (x_{t,i} - x_{t-1,i})^2} / \\eta_t`.
        A step of exactly :math:`\\pm\\eta` in every coordinate gives 1; a coordinate that
        does not move (a pixel that is 0 in every image gets no gradient) counts as 0. The
        weight decay's shrink is part of the change.

    The steps are watched through the optimizer's step hooks (``register_step_pre_hook`` and
    ``register_step_post_hook``), installed from the trainer's ``scheduler`` argument with a
    scheduler that leaves the learning rate as it is; so this function takes no scheduler.
    """
    sizes: list[float] = []

    def watch(optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        count = sum(p.numel() for p in parameters)
        before: list[torch.Tensor] = []

        def keep(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            before[:] = [p.detach().clone() for p in parameters]

        def measure(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            squares = sum(float(((p.detach() - old) ** 2).sum()) for p, old in zip(parameters, before))
            sizes.append((squares / count) ** 0.5 / float(opt.param_groups[0]["lr"]))

        optimizer.register_step_pre_hook(keep)
        optimizer.register_step_post_hook(measure)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

    run = train_network(optimizer_class, hyperparameters, data, batch_size=batch_size, epochs=epochs, seed=seed,
                        hidden=hidden, scheduler=watch)
    return run, np.array(sizes)
