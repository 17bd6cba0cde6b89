"""``AdamWScheduleFree``: a drop-in for the schedulefree package's
``schedulefree.AdamWScheduleFree`` on the rule
:func:`~optim_lib.rules.schedule_free.adamw_schedule_free_update`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from ..rules.schedule_free import (
    ADAMW_SCHEDULE_FREE_RULE, adamw_schedule_free_init, adamw_schedule_free_update, schedule_free_x,
    schedule_free_y,
)
from .base import RuleOptimizer, plain_hyperparameters

__all__ = ["AdamWScheduleFree", "adamw_schedule_free_init", "adamw_schedule_free_update"]


class AdamWScheduleFree(RuleOptimizer):
    """Schedule-free AdamW; a drop-in for ``schedulefree.AdamWScheduleFree`` (schedulefree
    1.4.1: same arguments and defaults). The update is
    :func:`~optim_lib.rules.schedule_free.adamw_schedule_free_update`.

    As with the package, the parameters hold one of two points, and the optimizer has a
    mode that says which: in **train** mode the point :math:`y` where gradients are taken,
    in **eval** mode the average :math:`x`, the point to evaluate, test and save.
    :meth:`train` and :meth:`eval` move the parameters between the two (and do nothing if
    already in that mode). The optimizer starts in eval mode and :meth:`step` refuses to
    run in it: call ``optimizer.train()`` before training, ``optimizer.eval()`` before
    evaluating or saving a checkpoint, as the package asks. The mode is kept per param
    group (``train_mode``) and saved in the ``state_dict``; a group added later takes the
    first group's mode (its parameters have no state yet, so nothing moves).

    The runners know about this: :func:`~optim_lib.run_trajectory` and
    :func:`~optim_lib.train_linear_regression` record :math:`x` (the rule's
    ``evaluation_point``), for this class and for the package's.

    ``foreach`` is accepted and changes nothing. The package's logging entry
    ``scheduled_lr`` and its per-group counters ``k``, ``weight_sum``, ``lr_max`` are not
    in the param groups: the rule keeps :math:`t`, the weight sum and the largest learning
    rate per parameter, in its state.
    """

    rule = ADAMW_SCHEDULE_FREE_RULE

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
        foreach: bool | None = hasattr(torch, "_foreach_mul_"),
    ) -> None:
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, warmup_steps=warmup_steps, r=r,
            weight_lr_power=weight_lr_power, foreach=foreach, train_mode=False,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups and "train_mode" not in param_group:
            param_group = {**param_group, "train_mode": self.param_groups[0]["train_mode"]}
        super().add_param_group(param_group)

    def _move(self, to_train: bool, point: Callable[[Any, Any, float], Any]) -> None:
        for group in self.param_groups:
            if group["train_mode"] == to_train:
                continue
            beta1 = plain_hyperparameters(group)["betas"][0]
            with torch.no_grad():
                for p in group["params"]:
                    state = self.state.get(p)
                    if state:
                        p.copy_(point(p, state["z"], beta1))
            group["train_mode"] = to_train

    def train(self) -> None:
        """Train mode: the parameters become the gradient point :math:`y = (1-\\beta_1) z +
        \\beta_1 x` (:func:`~optim_lib.rules.schedule_free.schedule_free_y`)."""
        self._move(True, schedule_free_y)

    def eval(self) -> None:
        """Eval mode: the parameters become the average :math:`x` (:func:`~optim_lib.rules.
        schedule_free.schedule_free_x`), the point to evaluate and to save."""
        self._move(False, schedule_free_x)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One step in train mode; ``closure`` re-evaluates the loss, as in torch."""
        for index, group in enumerate(self.param_groups):
            if not group["train_mode"]:
                raise RuntimeError(
                    f"AdamWScheduleFree.step() needs train mode, and param group {index} is in eval mode: "
                    "call optimizer.train() before training steps (and optimizer.eval() before evaluating "
                    "or saving)"
                )
        return super().step(closure)
