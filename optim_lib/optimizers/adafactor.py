"""``Adafactor``: a drop-in for ``torch.optim.Adafactor`` on the rule
:func:`~optim_lib.rules.adafactor.adafactor_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.adafactor import ADAFACTOR_RULE, adafactor_init, adafactor_update
from .base import RuleOptimizer

__all__ = ["Adafactor", "adafactor_init", "adafactor_update"]


class Adafactor(RuleOptimizer):
    """Adafactor; a drop-in for ``torch.optim.Adafactor`` (same arguments and defaults). The
    update is :func:`~optim_lib.rules.adafactor.adafactor_update`: a parameter with two or
    more axes keeps a row and a column factor of its second moment (over its last two axes),
    any other parameter the full second moment.

    ``foreach`` is accepted and changes nothing.
    """

    rule = ADAFACTOR_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults)
