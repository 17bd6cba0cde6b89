"""``MuonWithAdamW``: Muon for a network's hidden weight matrices, AdamW for every other
parameter, in one ``torch.optim.Optimizer`` with two kinds of param group.

Muon orthogonalizes matrices, so it cannot step a bias (a vector); and its authors keep the
embeddings and the classifier head on AdamW too (Jordan et al. 2024, and the README of
Keller Jordan's Muon repository). A training script therefore runs two
optimizers on one network. This class does that with param groups, as Keller Jordan's own
``MuonWithAuxAdam`` does: each group says ``use_muon=True`` (the rule
:func:`~optim_lib.rules.muon.muon_update`, Muon's hyperparameters) or ``use_muon=False``
(:func:`~optim_lib.rules.adamw.adamw_update`, AdamW's). One ``step()``, one ``state_dict``,
one learning-rate scheduler for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

from ..rules import Rule
from ..rules.adamw import ADAMW_RULE
from ..rules.muon import MUON_RULE, NS_COEFFICIENTS
from .base import RuleOptimizer

__all__ = ["MUON_FOR", "MuonWithAdamW", "split_for_muon"]

MUON_FOR = ("hidden", "all")
"""Which matrices of a flat list of parameters get Muon: ``"hidden"``, every 2-D parameter
but the last one (in a ``torch.nn.Sequential`` of ``Linear`` layers the last matrix is the
output layer); ``"all"``, every 2-D parameter."""


def split_for_muon(params: Iterable[torch.Tensor], muon_for: str = "hidden") -> tuple[list, list]:
    """``(muon, adamw)``: the parameters Muon steps and the ones AdamW steps, in their order.

    ``muon_for="hidden"`` gives Muon every 2-D parameter except the last one; ``"all"``
    every 2-D parameter. Vectors and scalars (biases, norms) always go to AdamW, and so
    does any tensor with more than two axes (Muon takes matrices only).
    """
    if muon_for not in MUON_FOR:
        raise ValueError(f"muon_for must be one of {MUON_FOR}; got {muon_for!r}")
    params = list(params)
    matrices = [i for i, p in enumerate(params) if p.ndim == 2]
    chosen = set(matrices if muon_for == "all" else matrices[:-1])
    return ([p for i, p in enumerate(params) if i in chosen], [p for i, p in enumerate(params) if i not in chosen])


class MuonWithAdamW(RuleOptimizer):
    r"""Muon on the hidden weight matrices, AdamW on the rest: one optimizer, two rules.

    ``params`` is either a list of tensors, split by :func:`split_for_muon` (``muon_for``),
    or a list of param groups, each with ``use_muon`` set to ``True`` or ``False``, as in
    Keller Jordan's ``MuonWithAuxAdam``::

        MuonWithAdamW([{"params": hidden_matrices, "use_muon": True},
                       {"params": everything_else, "use_muon": False, "lr": 3e-4}])

    A Muon group takes Muon's hyperparameters (the arguments up to ``adjust_lr_fn``, with
    ``torch.optim.Muon``'s names and defaults, except ``adjust_lr_fn``); an AdamW group
    takes ``lr``, ``betas``, ``eps`` and ``weight_decay``, whose defaults are the
    ``adamw_`` arguments. ``adamw_lr`` and ``adamw_weight_decay`` default to ``lr`` and
    ``weight_decay``: one learning rate and one decay for both rules, which is what Liu et
    al.'s ``adjust_lr_fn="match_rms_adamw"`` (the default here, unlike torch's Muon) is
    for: it scales Muon's step, :math:`0.2\,\eta\sqrt{\max(n, m)}` times an update whose
    singular values are about 1, so that its root mean square is about :math:`0.2\,\eta`,
    and torch's documentation says that Muon can then reuse AdamW's learning rate and
    weight decay.

    The numbers are those of ``torch.optim.Muon`` on the Muon groups and ``torch.optim.AdamW``
    on the others, with the same hyperparameters (tests/test_muon_adamw.py), up to Muon's
    bfloat16 iteration (see :class:`~optim_lib.optimizers.muon.Muon`).
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
        adjust_lr_fn: str | None = "match_rms_adamw",
        *,
        adamw_lr: float | None = None,
        adamw_betas: tuple[float, float] = (0.9, 0.999),
        adamw_eps: float = 1e-8,
        adamw_weight_decay: float | None = None,
        muon_for: str = "hidden",
    ) -> None:
        self._adamw_defaults = {
            "lr": lr if adamw_lr is None else adamw_lr,
            "betas": adamw_betas,
            "eps": adamw_eps,
            "weight_decay": weight_decay if adamw_weight_decay is None else adamw_weight_decay,
            "amsgrad": False,
            "maximize": False,
        }
        params = list(params)
        if params and not any(isinstance(p, Mapping) for p in params):
            muon, adamw = split_for_muon(params, muon_for)
            params = [group for group in ({"params": muon, "use_muon": True}, {"params": adamw, "use_muon": False})
                      if group["params"]]
        elif muon_for not in MUON_FOR:
            raise ValueError(f"muon_for must be one of {MUON_FOR}; got {muon_for!r}")
        defaults = dict(
            lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
            ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn,
            use_muon=True,
        )
        super().__init__(params, defaults)

    def rule_for(self, group: Mapping[str, Any]) -> Rule:
        return MUON_RULE if group["use_muon"] else ADAMW_RULE

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        use_muon = param_group.get("use_muon")
        if not isinstance(use_muon, bool):
            raise ValueError(f"each param group must set use_muon to True or False; got use_muon={use_muon!r}")
        if use_muon:
            params = param_group["params"]
            params = [params] if isinstance(params, torch.Tensor) else list(params)
            for p in params:
                if isinstance(p, torch.Tensor) and p.ndim != 2:
                    raise ValueError(
                        f"a Muon group (use_muon=True) takes 2-D parameters (matrices) only; got a parameter of "
                        f"shape {tuple(p.shape)}: put it in a group with use_muon=False (AdamW)"
                    )
            super().add_param_group({**param_group, "params": params})
        else:
            super().add_param_group({**self._adamw_defaults, **param_group})
