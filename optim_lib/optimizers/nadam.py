"""``NAdam``: a drop-in for ``torch.optim.NAdam`` on the rule :func:`~optim_lib.rules.nadam.nadam_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.nadam import NADAM_RULE, nadam_init, nadam_update
from .base import RuleOptimizer

__all__ = ["NAdam", "nadam_init", "nadam_update"]


class NAdam(RuleOptimizer):
    """NAdam; a drop-in for ``torch.optim.NAdam`` (same arguments and defaults). The update is
    :func:`~optim_lib.rules.nadam.nadam_update`.

    ``weight_decay`` is L2 regularization unless ``decoupled_weight_decay=True`` (NAdamW), as
    in torch. ``foreach`` is accepted and changes nothing; ``capturable=True`` and
    ``differentiable=True`` are refused with what to use instead.
    """

    rule = NADAM_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
            capturable=capturable, differentiable=differentiable,
        )
        super().__init__(params, defaults)
