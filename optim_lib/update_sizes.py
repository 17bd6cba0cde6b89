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

__all__ = ["network_update_rms", "network_v_hat_spread"]


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


def network_v_hat_spread(
    data: DigitsData,
    *,
    seeds: Sequence[int] = tuple(range(10)),
    lr: float = 1e-3,
    beta2: float = 0.999,
    batch_size: int = 32,
    steps: int = 47,
    hidden: Sequence[int] = (64,),
) -> np.ndarray:
    r"""How much Adam's bias-corrected second moment :math:`\hat v_t` of each weight varies
    from one seed to another in the first ``steps`` steps on the digits network.

    Trains optim_lib's ``Adam`` (``lr``, ``betas=(0.9, beta2)``) once per seed (each seed
    draws its own initial weights and minibatch order, as in
    :func:`~optim_lib.network.train_network`), reads :math:`\hat v_t = v_t / (1 - \beta_2^t)`
    of every parameter after each step, and returns, for each step :math:`t`, the median over
    the parameters of the relative spread across seeds, :math:`\operatorname{std}_s(\hat
    v_{t,i}) / \operatorname{mean}_s(\hat v_{t,i})` (parameters whose :math:`\hat v` is 0 in
    every seed, e.g. weights on blank pixels, are left out). A single squared normal number
    has a relative spread of :math:`\sqrt 2 \approx 1.41`; an average of :math:`k`
    independent ones, :math:`\sqrt{2/k}`.
    """
    from .optimizers import Adam

    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least two seeds; got {seeds!r}")
    epochs = -(-steps * batch_size // data.n_train)
    per_seed = []
    for seed in seeds:
        v_hats: list[np.ndarray] = []

        def watch(optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
            parameters = [p for group in optimizer.param_groups for p in group["params"]]

            def read(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
                if len(v_hats) < steps:
                    t = opt.state[parameters[0]]["t"]
                    v = torch.cat([opt.state[p]["v"].reshape(-1) for p in parameters])
                    v_hats.append((v / (1 - beta2**t)).numpy().copy())

            optimizer.register_step_post_hook(read)
            return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

        train_network(Adam, {"lr": lr, "betas": (0.9, beta2)}, data, batch_size=batch_size, epochs=epochs,
                      seed=seed, hidden=hidden, scheduler=watch)
        per_seed.append(np.array(v_hats[:steps]))
    v_hat = np.stack(per_seed)  # seeds x steps x parameters
    mean, spread = v_hat.mean(axis=0), v_hat.std(axis=0)
    spreads = []
    for t in range(steps):
        keep = mean[t] > 0
        spreads.append(float(np.median(spread[t][keep] / mean[t][keep])))
    return np.array(spreads)
