"""``Adadelta``: a drop-in for ``torch.optim.Adadelta`` on the rule
:func:`~optim_lib.rules.adadelta.adadelta_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.adadelta import ADADELTA_RULE, adadelta_init, adadelta_update
from .base import RuleOptimizer

__all__ = ["Adadelta", "adadelta_init", "adadelta_update"]


class Adadelta(RuleOptimizer):
    """Adadelta; a drop-in for ``torch.optim.Adadelta`` (same arguments and defaults). The
    update is :func:`~optim_lib.rules.adadelta.adadelta_update`.

    ``foreach`` is accepted and changes nothing; ``capturable=True`` and
    ``differentiable=True`` are refused with what to use instead.
    """

    rule = ADADELTA_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
            foreach=foreach, capturable=capturable, maximize=maximize, differentiable=differentiable,
        )
        super().__init__(params, defaults)
