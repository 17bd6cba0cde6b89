"""``RAdam``: a drop-in for ``torch.optim.RAdam`` on the rule :func:`~optim_lib.rules.radam.radam_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.radam import RADAM_RULE, radam_init, radam_update
from .base import RuleOptimizer

__all__ = ["RAdam", "radam_init", "radam_update"]


class RAdam(RuleOptimizer):
    """RAdam; a drop-in for ``torch.optim.RAdam`` (same arguments and defaults). The update is
    :func:`~optim_lib.rules.radam.radam_update`.

    ``weight_decay`` is L2 regularization unless ``decoupled_weight_decay=True`` (RAdamW), as
    in torch. ``foreach`` is accepted and changes nothing; ``capturable=True`` and
    ``differentiable=True`` are refused with what to use instead.
    """

    rule = RADAM_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
            capturable=capturable, decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable,
        )
        super().__init__(params, defaults)
