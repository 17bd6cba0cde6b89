"""``Lion``: a drop-in for lion-pytorch's ``lion_pytorch.Lion`` on the rule
:func:`~optim_lib.rules.lion.lion_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules._checks import check_bool
from ..rules.lion import LION_RULE, lion_init, lion_update
from .base import RuleOptimizer, _scalar

__all__ = ["Lion", "lion_init", "lion_update"]


class Lion(RuleOptimizer):
    """Lion; a drop-in for ``lion_pytorch.Lion`` (lion-pytorch 0.2.5: same arguments and
    defaults). The update is :func:`~optim_lib.rules.lion.lion_update`.

    ``decoupled_weight_decay=True`` divides ``weight_decay`` by the learning rate given to
    the constructor, as lion-pytorch does, so the decay per step is the learning rate's
    ratio to that initial one times ``weight_decay``: a schedule's multiplier scales the
    decay, the learning rate's size does not. That initial rate is kept in each param group as ``init_lr``
    (lion-pytorch keeps it on the instance), so a saved ``state_dict`` carries it.
    ``use_triton=True`` (lion-pytorch's CUDA kernel) is refused.
    """

    rule = LION_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        use_triton: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_bool("use_triton", use_triton)
        if use_triton:
            raise ValueError(
                "use_triton=True is not supported by optim_lib.Lion: it asks for lion-pytorch's Triton "
                "kernel (CUDA); leave use_triton unset, or use lion_pytorch.Lion(use_triton=True)"
            )
        defaults = dict(
            lr=lr, betas=betas, weight_decay=weight_decay, decoupled_weight_decay=decoupled_weight_decay,
            init_lr=_scalar("lr", lr),
        )
        super().__init__(params, defaults)
