"""Two optimizers on the same noisy problem, step by step: the comparison the oracle tests make."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

STEPS = 120


def noisy_quadratic(shape: tuple[int, ...], seed: int, steps: int = STEPS) -> tuple[torch.Tensor, ...]:
    """A random convex quadratic ``0.5 a x^2 + (b + noise_t) x`` and a start point, in float64."""
    generator = torch.Generator().manual_seed(seed)
    a = torch.rand(shape, generator=generator, dtype=torch.float64) * 1.5 + 0.5
    b = torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1
    start = torch.randn(shape, generator=generator, dtype=torch.float64)
    noise = 0.5 * torch.randn((steps, *shape), generator=generator, dtype=torch.float64)
    return a, b, start, noise


def run_side_by_side(
    ours: Callable[..., torch.optim.Optimizer],
    theirs: Callable[..., torch.optim.Optimizer],
    hyperparameters: dict[str, Any],
    shape: tuple[int, ...],
    seed: int,
    steps: int = STEPS,
    before_steps: Callable[[torch.optim.Optimizer], None] | None = None,
) -> float:
    """The largest difference between the two runs' parameters over ``steps`` steps.

    Optimize a random convex quadratic (concave when maximizing, so both converge) with a
    noisy gradient, as in SGD. The noise matters: on an exact quadratic, sign-like methods
    (RMSProp, Adam) end up bouncing chaotically around the minimum, where torch's fused
    multiply-adds and NumPy's separate roundings (both correct) drift apart exponentially.
    ``before_steps`` is called on each optimizer once, before the first step (schedule-free
    optimizers need ``train()``)."""
    a, b, start, noise = noisy_quadratic(shape, seed, steps)
    sign = -1.0 if hyperparameters.get("maximize") else 1.0
    x_ours = start.clone().requires_grad_(True)
    x_theirs = start.clone().requires_grad_(True)
    runs = ((x_ours, ours([x_ours], **hyperparameters)), (x_theirs, theirs([x_theirs], **hyperparameters)))
    if before_steps is not None:
        for _, opt in runs:
            before_steps(opt)
    worst = 0.0
    for step in range(steps):
        for x, opt in runs:
            opt.zero_grad()
            (sign * (0.5 * a * x * x + (b + noise[step]) * x)).sum().backward()
            opt.step()
        worst = max(worst, float((x_ours - x_theirs).detach().abs().max()))
    return worst
