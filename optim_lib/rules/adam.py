"""Adam: momentum on the gradient plus RMSProp's scaling, both bias-corrected."""

from __future__ import annotations

from ._arrays import Array, maximum, sqrt, zeros_like
from ._checks import check_at_least_zero, check_betas, check_bool
from .base import Group, Rule, State


def adam_init(p: Array, amsgrad: bool = True) -> State:
    """``t = 0``; the moments ``m``, ``v`` and AMSGrad's running maximum ``v_max`` at 0. The
    ``Adam`` and ``AdamW`` classes pass ``amsgrad=False`` unless AMSGrad is on, so that, as
    in torch, they keep two arrays, not three."""
    state = {"t": 0, "m": zeros_like(p), "v": zeros_like(p)}
    return {**state, "v_max": zeros_like(p)} if amsgrad else state


def adam_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of Adam (and, with ``amsgrad=True``, AMSGrad).

    .. math::
        g &\leftarrow \nabla f(x) + \lambda x \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g^2 \\
        v^{\max}_t &\leftarrow \max(v^{\max}_{t-1}, v_t)
            \quad\text{(AMSGrad only; then } v_t \text{ below means } v^{\max}_t) \\
        \hat m_t &\leftarrow m_t / (1 - \beta_1^t) \\
        \hat v_t &\leftarrow v_t / (1 - \beta_2^t) \\
        x &\leftarrow x - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Args:
        p: the parameter :math:`x`.
        g: its gradient.
        state: ``t``; ``m`` and ``v`` (first and second moment estimates); ``v_max``
            (AMSGrad only).
        lr: learning rate :math:`\eta`.
        beta1: :math:`\beta_1`, decay of :math:`m`; torch's ``betas[0]``.
        beta2: :math:`\beta_2`, decay of :math:`v`; torch's ``betas[1]``.
        eps: :math:`\epsilon`.
        weight_decay: L2 penalty :math:`\lambda`, *added to the gradient* (so it is
            rescaled like the gradient: see :func:`~optim_lib.rules.adamw.adamw_update`
            for decoupled decay).
        amsgrad: use the running maximum of :math:`v` (Reddi, Kale & Kumar, 2018).
        maximize: ascend instead of descend.

    Convention:
        :math:`\epsilon` is added *outside* the square root, after bias correction, as in the
        paper and torch, with default :math:`\epsilon = 10^{-8}`; Dive into Deep Learning
        writes the same, with :math:`\epsilon = 10^{-6}` in its code; Keras and TensorFlow
        use :math:`10^{-7}`, added to the *uncorrected* :math:`\sqrt{v_t}`. torch's AMSGrad
        keeps the maximum of the raw :math:`v_t` and bias-corrects it with the current
        :math:`t`, as here.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Papers:
        Kingma & Ba (2015), *Adam: A method for stochastic optimization*, ICLR;
        Reddi, Kale & Kumar (2018), *On the convergence of Adam and beyond*, ICLR.
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p  # (adam-g)
    m = beta1 * state["m"] + (1 - beta1) * g  # (adam-m)
    v = beta2 * state["v"] + (1 - beta2) * g * g  # (adam-v)
    new_state = {"t": t, "m": m, "v": v}
    if amsgrad:
        new_state["v_max"] = maximum(state["v_max"], v)  # (adam-amsgrad)
    m_hat = m / (1 - beta1**t)  # (adam-hat)
    v_hat = new_state["v_max" if amsgrad else "v"] / (1 - beta2**t)  # (adam-hat) (adam-amsgrad)
    p = p - lr * m_hat / (sqrt(v_hat) + eps)  # (adam-x)
    return p, new_state


def check_adam_family(group: Group) -> None:
    """The checks Adam and its variants (AdamW, NAdam, RAdam, Adamax) share: ``lr``,
    ``betas``, ``eps``, ``weight_decay``, ``maximize``."""
    check_at_least_zero("lr", group["lr"])
    check_betas(group["betas"])
    check_at_least_zero("eps", group["eps"])
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_bool("maximize", group["maximize"])


def adam_family_arguments(group: Group) -> dict:
    """The arguments Adam and its variants share; torch's ``betas`` tuple becomes the rule's
    ``beta1``, ``beta2``."""
    beta1, beta2 = group["betas"]
    return dict(
        lr=group["lr"],
        beta1=beta1,
        beta2=beta2,
        eps=group["eps"],
        weight_decay=group["weight_decay"],
        maximize=group["maximize"],
    )


def check_adam(group: Group) -> None:
    """The checks Adam and AdamW share."""
    check_adam_family(group)
    check_bool("amsgrad", group["amsgrad"])


def adam_arguments(group: Group) -> dict:
    """Adam's and AdamW's arguments."""
    return {**adam_family_arguments(group), "amsgrad": group["amsgrad"]}


def adam_init_arguments(group: Group) -> dict:
    """AMSGrad's maximum only when it is on."""
    return {"amsgrad": bool(group["amsgrad"])}


ADAM_RULE = Rule("Adam", init=adam_init, update=adam_update, check=check_adam, arguments=adam_arguments,
                 init_arguments=adam_init_arguments)
