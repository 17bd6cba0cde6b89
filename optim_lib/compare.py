"""Run an optim_lib optimizer and its torch.optim twin side by side and measure the gap."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch


def largest_difference(
    ours: type[torch.optim.Optimizer],
    theirs: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None = None,
    *,
    steps: int = 100,
    shape: tuple[int, ...] = (4, 3),
    seed: int = 0,
) -> float:
    """Largest absolute difference between the two optimizers' parameters over ``steps``
    steps in float64, on ``f(x) = sum(x²/2 + sin(3x))`` from a seeded random start (a
    non-convex function, so errors are not washed out by converging to one minimum)."""
    generator = torch.Generator().manual_seed(seed)
    start = torch.randn(shape, generator=generator, dtype=torch.float64)
    a = start.clone().requires_grad_(True)
    b = start.clone().requires_grad_(True)
    opt_a = ours([a], **dict(hyperparameters or {}))
    opt_b = theirs([b], **dict(hyperparameters or {}))
    worst = 0.0
    for _ in range(steps):
        for x, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            (x * x / 2 + torch.sin(3 * x)).sum().backward()
            opt.step()
        worst = max(worst, float((a - b).detach().abs().max()))
    return worst
