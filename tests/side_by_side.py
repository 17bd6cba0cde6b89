"""Two optimizers on the same noisy problem, step by step: the comparison the oracle tests make."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

STEPS = 120


Shape = tuple[int, ...]


def noisy_quadratic(shapes: list[Shape], seed: int, steps: int = STEPS) -> tuple[list[torch.Tensor], ...]:
    """A random convex quadratic ``0.5 a x^2 + (b + noise_t) x`` in parameters of the given
    shapes, and a start point, in float64: lists of ``a``, ``b``, starts and noises."""
    generator = torch.Generator().manual_seed(seed)
    a = [torch.rand(shape, generator=generator, dtype=torch.float64) * 1.5 + 0.5 for shape in shapes]
    b = [torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1 for shape in shapes]
    starts = [torch.randn(shape, generator=generator, dtype=torch.float64) for shape in shapes]
    noise = [0.5 * torch.randn((steps, *shape), generator=generator, dtype=torch.float64) for shape in shapes]
    return a, b, starts, noise


def run_side_by_side(
    ours: Callable[..., torch.optim.Optimizer],
    theirs: Callable[..., torch.optim.Optimizer],
    hyperparameters: dict[str, Any],
    shape: Shape | list[Shape],
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
    optimizers need ``train()``). ``shape`` is one parameter's shape, or a list of shapes:
    several parameters in one param group."""
    shapes = [shape] if all(isinstance(n, int) for n in shape) else list(shape)
    a, b, starts, noise = noisy_quadratic(shapes, seed, steps)
    sign = -1.0 if hyperparameters.get("maximize") else 1.0
    xs_ours = [start.clone().requires_grad_(True) for start in starts]
    xs_theirs = [start.clone().requires_grad_(True) for start in starts]
    runs = ((xs_ours, ours(xs_ours, **hyperparameters)), (xs_theirs, theirs(xs_theirs, **hyperparameters)))
    if before_steps is not None:
        for _, opt in runs:
            before_steps(opt)
    worst = 0.0
    for step in range(steps):
        for xs, opt in runs:
            opt.zero_grad()
            sum((sign * (0.5 * ai * x * x + (bi + ni[step]) * x)).sum()
                for x, ai, bi, ni in zip(xs, a, b, noise)).backward()
            opt.step()
        worst = max(worst, *(float((x - y).detach().abs().max()) for x, y in zip(xs_ours, xs_theirs)))
    return worst
