"""``Adam`` and ``AdamW``: drop-ins for ``torch.optim.Adam`` and ``torch.optim.AdamW`` on the
rules :func:`~optim_lib.rules.adam.adam_update` and :func:`~optim_lib.rules.adamw.adamw_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..rules.adam import ADAM_RULE, adam_init, adam_update
from ..rules.adamw import ADAMW_RULE, adamw_update
from ..rules import rule_for
from ..rules.base import Rule
from .base import RuleOptimizer

__all__ = ["Adam", "AdamW", "adam_init", "adam_update", "adamw_update"]


class Adam(RuleOptimizer):
    """Adam; a drop-in for ``torch.optim.Adam`` (same arguments and defaults). The update is
    :func:`~optim_lib.rules.adam.adam_update`.

    ``weight_decay`` is L2 regularization (added to the gradient), unless
    ``decoupled_weight_decay=True``, which makes this AdamW (as in torch 2.13): the update is
    then :func:`~optim_lib.rules.adamw.adamw_update`.

    ``foreach`` is accepted and changes nothing; ``fused=True`` compiles the same rule (see
    :mod:`optim_lib.optimizers.base`); ``capturable=True`` and ``differentiable=True`` are
    refused with what to use instead.
    """

    rule = ADAM_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            foreach=foreach, maximize=maximize, capturable=capturable, differentiable=differentiable,
            fused=fused, decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def rule_for(self, group: Mapping[str, Any]) -> Rule:
        return rule_for("Adam", group)


class AdamW(Adam):
    """AdamW; a drop-in for ``torch.optim.AdamW`` (same arguments and defaults). The update is
    :func:`~optim_lib.rules.adamw.adamw_update`: Adam's step after shrinking the weights.

    As in torch, this is :class:`Adam` with ``decoupled_weight_decay=True``: the same state,
    checks and arguments; only the update rule and the default ``weight_decay`` differ.
    """

    rule = ADAMW_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        # As torch: whatever was saved, AdamW decouples its decay.
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
