"""NAdam: Adam with Nesterov momentum, the momentum coefficient warming up over the steps."""

from __future__ import annotations

from ._arrays import Array, sqrt, zeros_like
from ._checks import check_at_least_zero, check_bool
from .adam import adam_family_arguments, check_adam_family
from .base import Group, Rule, State


def nadam_init(p: Array) -> State:
    """``t = 0``, the moments ``m`` and ``v`` at 0 and the product of the momentum
    coefficients so far, ``mu_product`` (an empty product: 1)."""
    return {"t": 0, "m": zeros_like(p), "v": zeros_like(p), "mu_product": 1.0}


def nadam_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of NAdam.

    .. math::
        g &\leftarrow \nabla f(x) + \lambda x
            \quad\text{or, decoupled,}\quad x \leftarrow (1 - \eta\lambda)\, x \\
        \mu_t &\leftarrow \beta_1 \bigl(1 - \tfrac12\, 0.96^{t\psi}\bigr), \qquad
        \mu_{t+1} \leftarrow \beta_1 \bigl(1 - \tfrac12\, 0.96^{(t+1)\psi}\bigr) \\
        \Pi_t &\leftarrow \Pi_{t-1}\, \mu_t \qquad (\Pi_0 = 1) \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g^2 \\
        \hat v_t &\leftarrow v_t / (1 - \beta_2^t) \\
        x &\leftarrow x - \eta\, \frac{1 - \mu_t}{1 - \Pi_t}\, \frac{g}{\sqrt{\hat v_t} + \epsilon}
              - \eta\, \frac{\mu_{t+1}}{1 - \Pi_t\, \mu_{t+1}}\, \frac{m_t}{\sqrt{\hat v_t} + \epsilon}

    The last line is Adam's step with Nesterov's look-ahead: the momentum part uses the
    *next* step's coefficient :math:`\mu_{t+1}`, and each part is bias-corrected by the
    product of the coefficients it has seen.

    Args:
        p: the parameter :math:`x`.
        g: its gradient.
        state: ``t``; ``m`` and ``v`` (first and second moment estimates); ``mu_product``
            (:math:`\Pi_t`).
        lr: learning rate :math:`\eta`.
        beta1: :math:`\beta_1`, decay of :math:`m` and the ceiling of :math:`\mu_t`;
            torch's ``betas[0]``.
        beta2: :math:`\beta_2`, decay of :math:`v`; torch's ``betas[1]``.
        eps: :math:`\epsilon`.
        weight_decay: :math:`\lambda`: an L2 penalty added to the gradient, or, with
            ``decoupled_weight_decay=True``, AdamW's decay of the weights (NAdamW).
        momentum_decay: :math:`\psi`, how fast :math:`\mu_t` rises from
            :math:`\beta_1/2` towards :math:`\beta_1`.
        decoupled_weight_decay: decay the weights instead of adding :math:`\lambda x` to
            the gradient.
        maximize: ascend instead of descend.

    Convention:
        The schedule :math:`\mu_t = \beta_1(1 - \frac12 0.96^{t\psi})` is torch's (with
        :math:`\psi = 0.004`, :math:`\mu_t` starts near :math:`\beta_1/2` and approaches
        :math:`\beta_1` only after many thousand steps). There is no bias correction
        :math:`1 - \beta_1^t` of :math:`m`: the products :math:`\Pi` play that part.
        :math:`\epsilon` is added outside the square root after bias correction, as in Adam. torch keeps :math:`\Pi_t` in a float32 scalar
        tensor unless the default dtype is float64 (its ``_get_scalar_dtype``), so with
        float64 parameters and the float32 default its steps carry float32's rounding of
        that product (in the tests, 120 steps at :math:`\eta = 0.01` end
        :math:`1.6 \times 10^{-10}` from this code's); this code keeps :math:`\Pi_t` as a
        Python float (float64).

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Dozat (2016), *Incorporating Nesterov momentum into Adam*, ICLR workshop.
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p = (1 - lr * weight_decay) * p  # (nadam-decay)
        else:
            g = g + weight_decay * p  # (nadam-g)
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))  # (nadam-mu)
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))  # (nadam-mu)
    mu_product = state["mu_product"] * mu  # (nadam-mu-product)
    m = beta1 * state["m"] + (1 - beta1) * g  # (nadam-m)
    v = beta2 * state["v"] + (1 - beta2) * g * g  # (nadam-v)
    v_hat = v / (1 - beta2**t)  # (nadam-hat)
    denominator = sqrt(v_hat) + eps
    p = (p - lr * (1 - mu) / (1 - mu_product) * g / denominator  # (nadam-x)
         - lr * mu_next / (1 - mu_product * mu_next) * m / denominator)  # (nadam-x)
    return p, {"t": t, "m": m, "v": v, "mu_product": mu_product}


def check_nadam(group: Group) -> None:
    check_adam_family(group)
    check_at_least_zero("momentum_decay", group["momentum_decay"])
    check_bool("decoupled_weight_decay", group["decoupled_weight_decay"])


def nadam_arguments(group: Group) -> dict:
    return {
        **adam_family_arguments(group),
        "momentum_decay": group["momentum_decay"],
        "decoupled_weight_decay": group["decoupled_weight_decay"],
    }


NADAM_RULE = Rule("NAdam", init=nadam_init, update=nadam_update, check=check_nadam, arguments=nadam_arguments)
