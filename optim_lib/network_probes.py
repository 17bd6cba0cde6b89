r"""Measurements on the digits network beyond its loss curves (chapters 2 and 4).

- :func:`largest_curvature`: the largest eigenvalue of the Hessian of the training loss at
  the network's weights, the :math:`h_{\max}` of chapter 2's stability limit
  :math:`\eta < 2/h_{\max}`, which on a network changes as the weights move.
- :func:`loss_along_line`: the training loss at weights on the straight line between two
  networks, :math:`(1 - a)\,\mathbf{x}_A + a\,\mathbf{x}_B`. A convex loss can never be
  higher there than the mean of its two ends; the network's loss can.
- :func:`layer_step_rms`: for every step, the root mean square of each layer's weight
  change in units of the learning rate (one number per ``Linear`` layer, where
  :func:`~optim_lib.update_sizes.network_update_rms` gives one for the whole network).

Each computes with torch's own ``torch.nn.functional.cross_entropy`` and autograd on the
``torch.nn`` network, independently of the trainer's written-out NumPy backpropagation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .digits import DigitsData
from .layer_scales import measure_layers
from .network import NetworkRun
from .rules._checks import check_whole

__all__ = ["largest_curvature", "layer_step_rms", "loss_along_line"]


def _check_network(name: str, network: Any) -> list[torch.Tensor]:
    if not isinstance(network, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module (e.g. a NetworkRun's network); got {network!r}")
    return list(network.parameters())


def _check_data(data: Any) -> None:
    if not isinstance(data, DigitsData):
        raise TypeError(f"data must be the DigitsData that load_digits returns; got {type(data).__name__}")


def largest_curvature(network: torch.nn.Module, data: DigitsData, *, iterations: int = 30, seed: int = 0) -> float:
    r"""The largest eigenvalue of the Hessian of the mean cross-entropy on all training
    images, at the network's current weights, by power iteration.

    Each iteration multiplies a unit vector by the Hessian (autograd's Hessian-vector
    product: the gradient of :math:`\nabla f \cdot \mathbf{v}`), in float64 on a copy of
    the weights; the start is a Gaussian vector drawn from a ``torch.Generator`` seeded
    with ``seed``. The result is the Rayleigh quotient :math:`\mathbf{v}^\top H \mathbf{v}`
    of the last vector: the eigenvalue of largest magnitude (on these networks a positive
    one) once the iteration has converged: thirty iterations gave the top eigenvalue to
    0.5 % on the tests' small networks (against the full Hessian's eigenvalues).

    Args:
        network: the network (``NetworkRun.network``, or :func:`~optim_lib.network.build_network`);
            it is not changed.
        data: from :func:`~optim_lib.digits.load_digits`; its training images are used.
        iterations: power iterations, at least 1.
        seed: seeds the start vector.
    """
    _check_network("network", network)
    _check_data(data)
    check_whole("iterations", iterations, 1)
    check_whole("seed", seed, 0)
    copy = _float64_copy(network)
    parameters = list(copy.parameters())
    loss = torch.nn.functional.cross_entropy(copy(data.X_train.double()), data.y_train)
    gradients = torch.autograd.grad(loss, parameters, create_graph=True)
    generator = torch.Generator().manual_seed(seed)
    vector = [torch.randn(p.shape, generator=generator, dtype=torch.float64) for p in parameters]
    eigenvalue = float("nan")
    for _ in range(iterations):
        norm = torch.sqrt(sum((v**2).sum() for v in vector))
        vector = [v / norm for v in vector]
        product = torch.autograd.grad(gradients, parameters, grad_outputs=vector, retain_graph=True)
        eigenvalue = float(sum((hv * v).sum() for hv, v in zip(product, vector)))
        vector = [hv.detach() for hv in product]
    return eigenvalue


def _float64_copy(network: torch.nn.Module) -> torch.nn.Module:
    import copy

    twin = copy.deepcopy(network).double()
    for p in twin.parameters():
        p.requires_grad_(True)
    return twin


def loss_along_line(network_a: torch.nn.Module, network_b: torch.nn.Module, data: DigitsData,
                    fractions: Sequence[float]) -> np.ndarray:
    r"""The mean cross-entropy on all training images at the weights
    :math:`(1 - a)\,\mathbf{x}_A + a\,\mathbf{x}_B`, for each ``a`` in ``fractions``
    (0 is ``network_a``, 1 is ``network_b``; values outside [0, 1] extend the line).

    Both networks must have the same shapes (the same ``hidden``); neither is changed.
    """
    a_parameters, b_parameters = _check_network("network_a", network_a), _check_network("network_b", network_b)
    _check_data(data)
    if [p.shape for p in a_parameters] != [p.shape for p in b_parameters]:
        raise ValueError("network_a and network_b must have parameters of the same shapes; got "
                         f"{[tuple(p.shape) for p in a_parameters]} and {[tuple(p.shape) for p in b_parameters]}")
    fractions = [float(a) for a in fractions]
    if not fractions or not np.isfinite(fractions).all():
        raise ValueError(f"fractions must be finite numbers, at least one; got {fractions!r}")
    start = torch.nn.utils.parameters_to_vector(a_parameters).detach().double()
    end = torch.nn.utils.parameters_to_vector(b_parameters).detach().double()
    between = _float64_copy(network_a)
    X = data.X_train.double()
    losses = []
    with torch.no_grad():
        for a in fractions:
            torch.nn.utils.vector_to_parameters((1 - a) * start + a * end, between.parameters())
            losses.append(float(torch.nn.functional.cross_entropy(between(X), data.y_train)))
    return np.array(losses)


def layer_step_rms(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    data: DigitsData,
    *,
    batch_size: int = 32,
    epochs: int = 10,
    seed: int = 0,
    hidden: Sequence[int] = (64,),
) -> tuple[NetworkRun, np.ndarray]:
    r"""Train as :func:`~optim_lib.network.train_network` does (same arguments, same run)
    and measure every step, layer by layer.

    Returns:
        The run, and an array of shape (steps, layers): entry ``[t, k]`` is the root mean
        square of the change step ``t + 1`` made to the weight matrix of the ``k``-th
        ``Linear`` layer (from the pixels to the logits; biases left out), divided by that
        step's learning rate. A coordinate that did not move counts as 0.

    The steps are those :func:`~optim_lib.layer_scales.measure_layers` records.
    """
    scales = measure_layers(optimizer_class, hyperparameters, data, batch_size=batch_size, epochs=epochs,
                            seed=seed, hidden=hidden)
    return scales.run, scales.step_rms
