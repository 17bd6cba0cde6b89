"""RMSProp: AdaGrad with a leaky average of squared gradients, so steps do not die out."""

from __future__ import annotations

from ._arrays import Array, sqrt, zeros_like
from ._checks import check_at_least_zero, check_bool, check_unit_closed, check_unit_half_open
from .base import Group, Rule, State


def rmsprop_init(p: Array, centered: bool = True, momentum: bool = True) -> State:
    """``t = 0``; ``s``, the mean gradient ``g_bar`` (centered) and the velocity ``v`` at 0.
    The ``RMSprop`` class keeps ``g_bar`` only when ``centered`` and ``v`` only with momentum,
    as torch does."""
    state = {"t": 0, "s": zeros_like(p)}
    if centered:
        state["g_bar"] = zeros_like(p)
    if momentum:
        state["v"] = zeros_like(p)
    return state


def rmsprop_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    gamma: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of RMSProp.

    .. math::
        g &\leftarrow \nabla f(x) + \lambda x \\
        s_t &\leftarrow \gamma s_{t-1} + (1 - \gamma)\, g^2 \\
        \bar g_t &\leftarrow \gamma \bar g_{t-1} + (1 - \gamma)\, g
            \qquad\text{(centered only)} \\
        r &\leftarrow \sqrt{s_t} + \epsilon
            \quad\text{or, centered,}\quad r \leftarrow \sqrt{s_t - \bar g_t^2} + \epsilon \\
        v_t &\leftarrow \beta v_{t-1} + g / r \qquad\text{(with momentum)} \\
        x &\leftarrow x - \eta\, v_t \quad\text{or, without momentum,}\quad
            x \leftarrow x - \eta\, g / r

    Args:
        p: the parameter :math:`x`.
        g: its gradient.
        state: ``t``; ``s`` (leaky average of :math:`g^2`); ``g_bar`` (of :math:`g`, centered
            only); ``v`` (velocity, momentum only).
        lr: learning rate :math:`\eta`.
        gamma: :math:`\gamma`, the decay of the averages; torch calls it ``alpha``.
        eps: :math:`\epsilon`.
        weight_decay: L2 penalty :math:`\lambda`, added to the gradient.
        momentum: :math:`\beta`, momentum on the rescaled gradient.
        centered: divide by the estimated standard deviation instead of the RMS.
        maximize: ascend instead of descend.

    Convention:
        torch calls the decay ``alpha`` (default 0.99); Dive into Deep Learning and Hinton's
        lecture call it :math:`\gamma` (0.9 in both). torch adds :math:`\epsilon = 10^{-8}`
        *outside* the square root, Dive into Deep Learning :math:`10^{-6}` *inside*. The
        centered variant and momentum follow Graves (2013).

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Source:
        Tieleman & Hinton (2012), *Lecture 6.5 — RMSProp*, COURSERA: Neural Networks for
        Machine Learning (unpublished, no paper).
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p  # (rmsprop-g)
    s = gamma * state["s"] + (1 - gamma) * g * g  # (rmsprop-s)
    new_state = {"t": t, "s": s}
    if centered:
        g_bar = gamma * state["g_bar"] + (1 - gamma) * g  # (rmsprop-gbar)
        r = sqrt(s - g_bar * g_bar) + eps  # (rmsprop-centered)
        new_state["g_bar"] = g_bar
    else:
        r = sqrt(s) + eps  # (rmsprop-centered)
    if momentum > 0:
        v = momentum * state["v"] + g / r  # (rmsprop-momentum)
        p = p - lr * v  # (rmsprop-momentum)
        new_state["v"] = v
    else:
        p = p - lr * g / r  # (rmsprop-x)
    return p, new_state


def check_rmsprop(group: Group) -> None:
    check_at_least_zero("lr", group["lr"])
    check_unit_closed("alpha", group["alpha"])
    check_at_least_zero("eps", group["eps"])
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_unit_half_open("momentum", group["momentum"])
    check_bool("centered", group["centered"])
    check_bool("maximize", group["maximize"])


def rmsprop_arguments(group: Group) -> dict:
    """torch's ``alpha`` is the rule's ``gamma``."""
    return dict(
        lr=group["lr"],
        gamma=group["alpha"],
        eps=group["eps"],
        weight_decay=group["weight_decay"],
        momentum=group["momentum"],
        centered=group["centered"],
        maximize=group["maximize"],
    )


def rmsprop_init_arguments(group: Group) -> dict:
    """``g_bar`` only for the centered variant, ``v`` only for momentum."""
    return {"centered": bool(group["centered"]), "momentum": group["momentum"] > 0}


RMSPROP_RULE = Rule("RMSprop", init=rmsprop_init, update=rmsprop_update, check=check_rmsprop,
                    arguments=rmsprop_arguments, init_arguments=rmsprop_init_arguments)
