"""``Muon``: a drop-in for ``torch.optim.Muon`` on the rule :func:`~optim_lib.rules.muon.muon_update`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from ..rules.muon import MUON_RULE, NS_COEFFICIENTS, muon_init, muon_update, newton_schulz
from .base import RuleOptimizer

__all__ = ["Muon", "muon_init", "muon_update", "newton_schulz"]


class Muon(RuleOptimizer):
    """Muon; a drop-in for ``torch.optim.Muon`` (same arguments and defaults). The update is
    :func:`~optim_lib.rules.muon.muon_update`.

    Muon orthogonalizes a matrix, so, as torch's, it takes 2-D parameters only and refuses
    any other with a ``ValueError`` naming its shape (at construction and in
    ``add_param_group``); biases, norms and embeddings belong to another optimizer, e.g.
    AdamW. Unlike torch, the Newton–Schulz iteration runs in the parameter's precision, not
    in bfloat16 (see the rule's *Convention*).
    """

    rule = MUON_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
    ) -> None:
        defaults = dict(
            lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
            ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        params = param_group["params"]
        if not isinstance(params, set):  # torch refuses a set (unordered) itself
            params = [params] if isinstance(params, torch.Tensor) else list(params)
            for item in params:
                p = item[1] if isinstance(item, tuple) else item  # (name, parameter) pairs too
                if isinstance(p, torch.Tensor) and p.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2-D parameters (matrices); got a parameter of shape {tuple(p.shape)}. "
                        "Optimize vectors and scalars (biases, norms) with another optimizer, e.g. AdamW"
                    )
            param_group = {**param_group, "params": params}
        super().add_param_group(param_group)
