"""Adadelta: RMSProp whose step size comes from a leaky average of its own past steps."""

from __future__ import annotations

from ._arrays import Array, sqrt, zeros_like
from ._checks import check_at_least_zero, check_bool, check_unit_closed
from .base import Group, Rule, State


def adadelta_init(p: Array) -> State:
    """``t = 0``; ``s`` (squared gradients) and ``delta`` (squared steps) at 0."""
    return {"t": 0, "s": zeros_like(p), "delta": zeros_like(p)}


def adadelta_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float = 1.0,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of Adadelta.

    .. math::
        g &\leftarrow \nabla f(x) + \lambda x \\
        s_t &\leftarrow \rho s_{t-1} + (1 - \rho)\, g^2 \\
        g' &\leftarrow \frac{\sqrt{\Delta x_{t-1} + \epsilon}}{\sqrt{s_t + \epsilon}}\, g \\
        \Delta x_t &\leftarrow \rho \Delta x_{t-1} + (1 - \rho)\, g'^2 \\
        x &\leftarrow x - \eta\, g'

    Args:
        p: the parameter :math:`x`.
        g: its gradient.
        state: ``t``; ``s`` (leaky average of :math:`g^2`); ``delta`` (:math:`\Delta x`, leaky
            average of the squared rescaled steps :math:`g'^2`).
        lr: :math:`\eta`, a factor on the step; 1 in the paper.
        rho: :math:`\rho`, the decay of both averages.
        eps: :math:`\epsilon`, inside both square roots; it also sets the size of the very
            first steps, since :math:`\Delta x_0 = 0`.
        weight_decay: L2 penalty :math:`\lambda`, added to the gradient.
        maximize: ascend instead of descend.

    Convention:
        The paper has no learning rate (Adadelta's selling point); torch adds ``lr``
        (default 1.0, which is the paper). Dive into Deep Learning follows the paper.
        :math:`\Delta x` is updated with the *new* rescaled gradient :math:`g'`, after
        :math:`g'` is computed from the *old* :math:`\Delta x_{t-1}`. :math:`\epsilon` is
        inside the square roots in every version.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Zeiler (2012), *ADADELTA: An adaptive learning rate method*, arXiv:1212.5701.
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p  # (adadelta-g)
    s = rho * state["s"] + (1 - rho) * g * g  # (adadelta-s)
    g_prime = sqrt(state["delta"] + eps) / sqrt(s + eps) * g  # (adadelta-gprime)
    delta = rho * state["delta"] + (1 - rho) * g_prime * g_prime  # (adadelta-delta)
    p = p - lr * g_prime  # (adadelta-x)
    return p, {"t": t, "s": s, "delta": delta}


def check_adadelta(group: Group) -> None:
    check_at_least_zero("lr", group["lr"])
    check_unit_closed("rho", group["rho"])
    check_at_least_zero("eps", group["eps"])
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_bool("maximize", group["maximize"])


def adadelta_arguments(group: Group) -> dict:
    return dict(
        lr=group["lr"],
        rho=group["rho"],
        eps=group["eps"],
        weight_decay=group["weight_decay"],
        maximize=group["maximize"],
    )


ADADELTA_RULE = Rule(
    "Adadelta", init=adadelta_init, update=adadelta_update, check=check_adadelta, arguments=adadelta_arguments,
)
