"""``Adagrad``: a drop-in for ``torch.optim.Adagrad`` on the rule
:func:`~optim_lib.rules.adagrad.adagrad_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.adagrad import ADAGRAD_RULE, adagrad_init, adagrad_update
from .base import RuleOptimizer

__all__ = ["Adagrad", "adagrad_init", "adagrad_update"]


class Adagrad(RuleOptimizer):
    """AdaGrad; a drop-in for ``torch.optim.Adagrad`` (same arguments and defaults). The
    update is :func:`~optim_lib.rules.adagrad.adagrad_update`.

    ``foreach`` is accepted and changes nothing; ``fused=True`` compiles the same rule (see
    :mod:`optim_lib.optimizers.base`); ``differentiable=True`` is refused with what to use
    instead.
    """

    rule = ADAGRAD_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
            foreach=foreach, maximize=maximize, differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)
