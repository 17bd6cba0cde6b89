"""Adafactor: a second moment kept as one row and one column per matrix, and a step size
relative to the size of the weights."""

from __future__ import annotations

import math

from ._arrays import Array, clamp_min, machine_epsilon, mean, norm, numel, shape, sqrt, zeros, zeros_like
from ._checks import check_at_least, check_at_least_zero, check_at_most, check_bool, check_pair
from .base import Group, Rule, State


def adafactor_init(p: Array) -> State:
    """``t = 0`` and, for a matrix (or a stack of matrices: the last two axes), the row
    factor ``R`` (one number per row) and the column factor ``C`` (one per column) at 0;
    for a vector or a scalar, the full second moment ``V`` at 0."""
    size = shape(p)
    if len(size) >= 2:
        return {"t": 0, "R": zeros(p, (*size[:-1], 1)), "C": zeros(p, (*size[:-2], 1, size[-1]))}
    return {"t": 0, "V": zeros_like(p)}


def _rms(x: Array) -> float:
    """The root mean square of all of ``x``'s entries."""
    return norm(x) / math.sqrt(numel(x))


def adafactor_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float = 1e-2,
    beta2_decay: float = -0.8,
    eps1: float | None = None,
    eps2: float = 1e-3,
    d: float = 1.0,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of Adafactor, as torch computes it.

    .. math::
        \hat\beta_{2,t} &\leftarrow 1 - t^{\tau} \\
        \rho_t &\leftarrow \min(\eta, 1/\sqrt t) \\
        \alpha_t &\leftarrow \max(\epsilon_2, \operatorname{RMS}(x))\, \rho_t \\
        x &\leftarrow (1 - \eta\lambda)\, x \\
        \text{matrix } (n \times m): \quad
        R_t &\leftarrow \hat\beta_{2,t} R_{t-1} + (1 - \hat\beta_{2,t})\,
            \operatorname{mean}_{\text{columns}}(g^2) \qquad (n \times 1) \\
        C_t &\leftarrow \hat\beta_{2,t} C_{t-1} + (1 - \hat\beta_{2,t})\,
            \operatorname{mean}_{\text{rows}}(g^2) \qquad (1 \times m) \\
        \hat V_t &\leftarrow R_t C_t / \max(\operatorname{mean}(R_t), \epsilon_1) \\
        \text{otherwise}: \quad
        \hat V_t &\leftarrow \hat\beta_{2,t} \hat V_{t-1} + (1 - \hat\beta_{2,t})\, g^2 \\
        U_t &\leftarrow g / \sqrt{\max(\hat V_t, \epsilon_1^2)} \\
        x &\leftarrow x - \frac{\alpha_t}{\max(1, \operatorname{RMS}(U_t)/d)}\, U_t

    For a matrix, :math:`\hat V_t = R_t C_t / \operatorname{mean}(R_t)` is the rank-one
    matrix that has the row and column means of :math:`g^2`'s running average: memory
    :math:`n + m` instead of :math:`nm`. :math:`\hat\beta_{2,t}` rises towards 1 with
    :math:`t` (no bias correction is needed: :math:`\hat\beta_{2,1} = 0`). The step is
    relative: :math:`\alpha_t` scales with the root mean square of the weights (at least
    :math:`\epsilon_2`), and the update is clipped to an RMS of at most :math:`d`. A
    stack of matrices (more than two axes) is factored along its last two.

    Args:
        p: the parameter :math:`x`.
        g: its gradient.
        state: ``t``; ``R`` and ``C`` (row and column factors) for a matrix, ``V``
            (:math:`\hat V`) otherwise.
        lr: :math:`\eta`, the ceiling of the relative step :math:`\rho_t` and the rate of
            the weight decay.
        beta2_decay: :math:`\tau \le 0`, how fast :math:`\hat\beta_{2,t}` approaches 1.
        eps1: :math:`\epsilon_1`, the floor of the denominator; ``None`` means the machine
            epsilon of ``p``'s dtype; torch's ``eps[0]``.
        eps2: :math:`\epsilon_2`, the smallest weight RMS the step is scaled by; torch's
            ``eps[1]``.
        d: the clipping threshold :math:`d \ge 1` on the update's RMS.
        weight_decay: :math:`\lambda`, decoupled decay of the weights, multiplied by
            :math:`\eta`.
        maximize: ascend instead of descend.

    Convention:
        This is torch's Adafactor, which differs from the paper's Algorithms 4 and 5 in
        three ways that its documentation states: :math:`\rho_t = \min(\eta, 1/\sqrt t)`
        where the paper has the constant :math:`10^{-2}` for :math:`\eta` (the default
        here); :math:`\epsilon_1` is a floor on the denominators rather than a term added
        to :math:`g^2`; and the weight decay, which the paper does not have. torch keeps
        row and column *means* where the paper keeps sums; :math:`\hat V_t` is the same.
        :math:`\alpha_t` uses the weights before the decay.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Shazeer & Stern (2018), *Adafactor: Adaptive learning rates with sublinear memory
        cost*, ICML.
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if eps1 is None:
        eps1 = machine_epsilon(p)
    beta2_hat = 1 - t**beta2_decay  # (adafactor-beta2)
    rho = min(lr, 1 / t**0.5)  # (adafactor-rho)
    alpha = max(eps2, _rms(p)) * rho  # (adafactor-alpha)
    if weight_decay != 0:
        p = (1 - lr * weight_decay) * p  # (adafactor-decay)
    g2 = g * g
    if "V" in state:
        V_hat = beta2_hat * state["V"] + (1 - beta2_hat) * g2  # (adafactor-v)
        new_state = {"t": t, "V": V_hat}
    else:
        R = beta2_hat * state["R"] + (1 - beta2_hat) * mean(g2, axis=-1)  # (adafactor-r)
        C = beta2_hat * state["C"] + (1 - beta2_hat) * mean(g2, axis=-2)  # (adafactor-c)
        V_hat = R * C / clamp_min(mean(R, axis=-2), eps1)  # (adafactor-v-hat)
        new_state = {"t": t, "R": R, "C": C}
    U = g / sqrt(clamp_min(V_hat, eps1 * eps1))  # (adafactor-u)
    p = p - alpha / max(1.0, _rms(U) / d) * U  # (adafactor-x)
    return p, new_state


def check_adafactor(group: Group) -> None:
    check_at_least_zero("lr", group["lr"])
    check_at_most("beta2_decay", group["beta2_decay"], 0.0)
    eps = group["eps"]
    check_pair("eps", eps, "eps1", "eps2")
    if eps[0] is not None:
        try:
            check_at_least_zero("eps[0] (eps1)", eps[0])
        except ValueError:
            raise ValueError(f"eps[0] (eps1) must be None or in [0, inf); got {eps[0]!r}") from None
    check_at_least_zero("eps[1] (eps2)", eps[1])
    check_at_least("d", group["d"], 1.0)
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_bool("maximize", group["maximize"])


def adafactor_arguments(group: Group) -> dict:
    """torch's ``eps`` pair becomes ``eps1``, ``eps2``."""
    eps1, eps2 = group["eps"]
    return dict(
        lr=group["lr"],
        beta2_decay=group["beta2_decay"],
        eps1=eps1,
        eps2=eps2,
        d=group["d"],
        weight_decay=group["weight_decay"],
        maximize=group["maximize"],
    )


ADAFACTOR_RULE = Rule(
    "Adafactor", init=adafactor_init, update=adafactor_update, check=check_adafactor,
    arguments=adafactor_arguments, elementwise=False,
)
