"""``SGD``: a drop-in for ``torch.optim.SGD`` on the rule :func:`~optim_lib.rules.sgd.sgd_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.sgd import SGD_RULE, sgd_init, sgd_update
from .base import RuleOptimizer

__all__ = ["SGD", "sgd_init", "sgd_update"]


class SGD(RuleOptimizer):
    """Stochastic gradient descent, optionally with momentum; a drop-in for ``torch.optim.SGD``
    (same arguments and defaults). The update is :func:`~optim_lib.rules.sgd.sgd_update`.

    ``foreach`` is accepted and changes nothing; ``fused=True`` compiles the same rule (see
    :mod:`optim_lib.optimizers.base`); ``differentiable=True`` is refused with what to use
    instead.
    """

    rule = SGD_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)
