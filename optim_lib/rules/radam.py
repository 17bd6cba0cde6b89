"""RAdam: Adam whose adaptive step is switched on, and scaled up, only once the variance of
the adaptive learning rate is tractable."""

from __future__ import annotations

import math

from ._arrays import Array, sqrt, zeros_like
from ._checks import check_bool
from .adam import adam_family_arguments, check_adam_family
from .base import Group, Rule, State


def radam_init(p: Array) -> State:
    """``t = 0`` and the moments ``m``, ``v`` at 0."""
    return {"t": 0, "m": zeros_like(p), "v": zeros_like(p)}


def radam_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of RAdam (rectified Adam).

    .. math::
        g &\leftarrow \nabla f(x) + \lambda x
            \quad\text{or, decoupled,}\quad x \leftarrow (1 - \eta\lambda)\, x \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g^2 \\
        \hat m_t &\leftarrow m_t / (1 - \beta_1^t) \\
        \rho_\infty &\leftarrow 2 / (1 - \beta_2) - 1, \qquad
        \rho_t \leftarrow \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t) \\
        \text{if } \rho_t > 5: \quad
        r_t &\leftarrow \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\, \rho_\infty}
                                  {(\rho_\infty - 4)(\rho_\infty - 2)\, \rho_t}}, \qquad
        l_t \leftarrow \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon}, \qquad
        x \leftarrow x - \eta\, \hat m_t\, l_t\, r_t \\
        \text{else}: \quad x &\leftarrow x - \eta\, \hat m_t

    :math:`\rho_t` is the length of the simple moving average that the exponential average
    :math:`v_t` approximates; while it is short, the variance of :math:`l_t` is large (or
    infinite), and RAdam takes a plain momentum step instead. :math:`r_t` rises towards 1
    as :math:`t` grows.

    Args:
        p: the parameter :math:`x`.
        g: its gradient.
        state: ``t``; ``m`` and ``v`` (first and second moment estimates).
        lr: learning rate :math:`\eta`.
        beta1: :math:`\beta_1`, decay of :math:`m`; torch's ``betas[0]``.
        beta2: :math:`\beta_2`, decay of :math:`v`; torch's ``betas[1]``.
        eps: :math:`\epsilon`.
        weight_decay: :math:`\lambda`: an L2 penalty added to the gradient, or, with
            ``decoupled_weight_decay=True``, AdamW's decay of the weights.
        decoupled_weight_decay: decay the weights instead of adding :math:`\lambda x` to
            the gradient.
        maximize: ascend instead of descend.

    Convention:
        torch (and this code) takes the rectified step when :math:`\rho_t > 5`; the paper's
        Algorithm 2 writes :math:`\rho_t > 4`. :math:`\epsilon` is added to
        :math:`\sqrt{v_t}` *before* its bias correction (inside :math:`l_t`), unlike Adam,
        where it is added to :math:`\sqrt{\hat v_t}`.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Liu, Jiang, He, Chen, Liu, Gao & Han (2020), *On the variance of the adaptive
        learning rate and beyond*, ICLR.
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p = (1 - lr * weight_decay) * p  # (radam-decay)
        else:
            g = g + weight_decay * p  # (radam-g)
    m = beta1 * state["m"] + (1 - beta1) * g  # (radam-m)
    v = beta2 * state["v"] + (1 - beta2) * g * g  # (radam-v)
    m_hat = m / (1 - beta1**t)  # (radam-hat)
    rho_inf = 2 / (1 - beta2) - 1  # (radam-rho)
    rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)  # (radam-rho)
    if rho_t > 5.0:
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))  # (radam-r)
        l = math.sqrt(1 - beta2**t) / (sqrt(v) + eps)  # (radam-l)
        p = p - m_hat * lr * l * r  # (radam-x)
    else:
        p = p - m_hat * lr  # (radam-sgd)
    return p, {"t": t, "m": m, "v": v}


def check_radam(group: Group) -> None:
    check_adam_family(group)
    check_bool("decoupled_weight_decay", group["decoupled_weight_decay"])


def radam_arguments(group: Group) -> dict:
    return {**adam_family_arguments(group), "decoupled_weight_decay": group["decoupled_weight_decay"]}


RADAM_RULE = Rule("RAdam", init=radam_init, update=radam_update, check=check_radam, arguments=radam_arguments)
