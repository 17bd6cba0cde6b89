"""``Adamax``: a drop-in for ``torch.optim.Adamax`` on the rule
:func:`~optim_lib.rules.adamax.adamax_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.adamax import ADAMAX_RULE, adamax_init, adamax_update
from .base import RuleOptimizer

__all__ = ["Adamax", "adamax_init", "adamax_update"]


class Adamax(RuleOptimizer):
    """Adamax; a drop-in for ``torch.optim.Adamax`` (same arguments and defaults). The update
    is :func:`~optim_lib.rules.adamax.adamax_update`.

    ``foreach`` is accepted and changes nothing; ``capturable=True`` and
    ``differentiable=True`` are refused with what to use instead.
    """

    rule = ADAMAX_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
            differentiable=differentiable, capturable=capturable,
        )
        super().__init__(params, defaults)
