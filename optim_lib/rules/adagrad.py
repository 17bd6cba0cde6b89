"""AdaGrad: a learning rate per coordinate, shrinking with the gradients seen so far."""

from __future__ import annotations

from ._arrays import Array, full_like, sqrt
from ._checks import check_at_least_zero, check_bool
from .base import Group, Rule, State


def adagrad_init(p: Array, initial_accumulator_value: float = 0.0) -> State:
    """``t = 0`` and the sum of squared gradients ``s = s0``."""
    return {"t": 0, "s": full_like(p, initial_accumulator_value)}


def adagrad_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of AdaGrad.

    .. math::
        g &\leftarrow \nabla f(x) + \lambda x \\
        \eta_t &\leftarrow \eta / (1 + (t - 1)\,\kappa) \\
        s_t &\leftarrow s_{t-1} + g^2 \\
        x &\leftarrow x - \eta_t\, g / (\sqrt{s_t} + \epsilon)

    All operations are per coordinate.

    Args:
        p: the parameter :math:`x`.
        g: its gradient.
        state: ``t`` (steps taken) and ``s`` (:math:`s`, the running sum of squared gradients).
        lr: learning rate :math:`\eta`.
        lr_decay: :math:`\kappa`, an extra 1/t decay of the learning rate (torch's addition).
        weight_decay: L2 penalty :math:`\lambda`, added to the gradient.
        eps: :math:`\epsilon`, keeps the division finite.
        maximize: ascend instead of descend.

    Convention:
        torch (and this code) adds :math:`\epsilon = 10^{-10}` *outside* the square root;
        Dive into Deep Learning adds :math:`\epsilon = 10^{-6}` *inside*,
        :math:`g / \sqrt{s + \epsilon}`. The two agree to about 6 digits on the course's
        problems. Duchi et al. write the same rule with a full matrix and then its diagonal.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Duchi, Hazan & Singer (2011), *Adaptive subgradient methods for online learning and
        stochastic optimization*, JMLR 12.
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p  # (adagrad-g)
    lr_t = lr / (1 + (t - 1) * lr_decay)  # (adagrad-lr)
    s = state["s"] + g * g  # (adagrad-s)
    p = p - lr_t * g / (sqrt(s) + eps)  # (adagrad-x)
    return p, {"t": t, "s": s}


def check_adagrad(group: Group) -> None:
    check_at_least_zero("lr", group["lr"])
    check_at_least_zero("lr_decay", group["lr_decay"])
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_at_least_zero("initial_accumulator_value", group["initial_accumulator_value"])
    check_at_least_zero("eps", group["eps"])
    check_bool("maximize", group["maximize"])


def adagrad_arguments(group: Group) -> dict:
    return dict(
        lr=group["lr"],
        lr_decay=group["lr_decay"],
        weight_decay=group["weight_decay"],
        eps=group["eps"],
        maximize=group["maximize"],
    )


def adagrad_init_arguments(group: Group) -> dict:
    return {"initial_accumulator_value": group["initial_accumulator_value"]}


ADAGRAD_RULE = Rule(
    "Adagrad", init=adagrad_init, update=adagrad_update, check=check_adagrad, arguments=adagrad_arguments,
    init_arguments=adagrad_init_arguments,
)
