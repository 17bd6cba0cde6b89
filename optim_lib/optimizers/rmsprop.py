"""``RMSprop``: a drop-in for ``torch.optim.RMSprop`` on the rule
:func:`~optim_lib.rules.rmsprop.rmsprop_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.rmsprop import RMSPROP_RULE, rmsprop_init, rmsprop_update
from .base import RuleOptimizer

__all__ = ["RMSprop", "rmsprop_init", "rmsprop_update"]


class RMSprop(RuleOptimizer):
    """RMSProp; a drop-in for ``torch.optim.RMSprop`` (same arguments and defaults). The
    update is :func:`~optim_lib.rules.rmsprop.rmsprop_update`; torch's ``alpha`` is the
    rule's ``gamma``.

    ``foreach`` is accepted and changes nothing; ``capturable=True`` and
    ``differentiable=True`` are refused with what to use instead.
    """

    rule = RMSPROP_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
            capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable,
        )
        super().__init__(params, defaults)
