"""Adamax: Adam with the infinity norm of the past gradients in place of their root mean
square."""

from __future__ import annotations

from ._arrays import Array, maximum, zeros_like
from .adam import adam_family_arguments, check_adam_family
from .base import Rule, State


def adamax_init(p: Array) -> State:
    """``t = 0``; the moment ``m`` and the infinity norm ``u`` at 0."""
    return {"t": 0, "m": zeros_like(p), "u": zeros_like(p)}


def adamax_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of Adamax.

    .. math::
        g &\leftarrow \nabla f(x) + \lambda x \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g \\
        u_t &\leftarrow \max(\beta_2 u_{t-1},\ |g| + \epsilon) \\
        x &\leftarrow x - \frac{\eta}{1 - \beta_1^t}\, \frac{m_t}{u_t}

    :math:`u_t` is the limit of Adam's :math:`v_t^{1/p}` (with :math:`\beta_2^p` for
    :math:`\beta_2`) as :math:`p \to \infty`: the largest recent gradient size, each past
    one discounted by :math:`\beta_2` per step. It needs no bias correction.

    Args:
        p: the parameter :math:`x`.
        g: its gradient.
        state: ``t``; ``m`` (first moment estimate) and ``u`` (the infinity norm).
        lr: learning rate :math:`\eta`.
        beta1: :math:`\beta_1`, decay of :math:`m`; torch's ``betas[0]``.
        beta2: :math:`\beta_2`, decay of :math:`u`; torch's ``betas[1]``.
        eps: :math:`\epsilon`.
        weight_decay: L2 penalty :math:`\lambda`, added to the gradient.
        maximize: ascend instead of descend.

    Convention:
        torch (and this code) adds :math:`\epsilon` to :math:`|g|` *inside* the maximum,
        so :math:`u_t \geq \epsilon` and the division is always defined; the paper's
        Algorithm 2 has no :math:`\epsilon`, :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)`.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Kingma & Ba (2015), *Adam: A method for stochastic optimization*, ICLR, section 7.1.
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p  # (adamax-g)
    m = beta1 * state["m"] + (1 - beta1) * g  # (adamax-m)
    u = maximum(beta2 * state["u"], abs(g) + eps)  # (adamax-u)
    p = p - lr / (1 - beta1**t) * m / u  # (adamax-x)
    return p, {"t": t, "m": m, "u": u}


# Adamax's hyperparameters are exactly those Adam's variants share.
ADAMAX_RULE = Rule("Adamax", init=adamax_init, update=adamax_update, check=check_adam_family,
                   arguments=adam_family_arguments)
