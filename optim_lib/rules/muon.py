"""Muon: momentum whose update matrix is orthogonalized (every singular value pushed towards
1) by a few Newton–Schulz iterations."""

from __future__ import annotations

import math

from ._arrays import Array, norm, shape, transpose, zeros_like
from ._checks import (
    check_at_least_zero, check_bool, check_choice, check_real, check_unit_half_open, check_whole,
)
from .base import Group, Rule, State

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
"""Keller Jordan's quintic coefficients :math:`(a, b, c)`, torch's default."""

ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


def muon_init(p: Array) -> State:
    """The momentum buffer ``B`` at 0."""
    return {"B": zeros_like(p)}


def newton_schulz(G: Array, *, a: float, b: float, c: float, steps: int, eps: float) -> Array:
    r"""An approximately orthogonal matrix with the singular vectors of ``G``.

    .. math::
        X_0 &\leftarrow G / \max(\lVert G \rVert_F, \epsilon) \\
        A &\leftarrow X_k X_k^\top, \qquad
        X_{k+1} \leftarrow a X_k + (b A + c A^2)\, X_k \qquad (k = 0, \dots, \text{steps} - 1)

    Each iteration applies the odd polynomial :math:`\phi(\sigma) = a\sigma + b\sigma^3 +
    c\sigma^5` to every singular value :math:`\sigma` (dividing by the Frobenius norm puts
    them all in [0, 1]); the singular vectors are kept. A wide matrix is iterated as it is,
    a tall one as its transpose, so that :math:`A` is the smaller Gram matrix.
    """
    X = G
    tall = shape(X)[0] > shape(X)[1]
    if tall:
        X = transpose(X)
    X = X / max(norm(X), eps)  # (muon-ns-normalize)
    for _ in range(steps):
        A = X @ transpose(X)  # (muon-ns)
        X = a * X + (b * A + c * (A @ A)) @ X  # (muon-ns)
    return transpose(X) if tall else X


def adjusted_lr(lr: float, adjust_lr_fn: str | None, rows: int, columns: int) -> float:
    r"""The learning rate scaled for the matrix's shape :math:`n \times m`:
    :math:`\eta\sqrt{\max(1, n/m)}` (``"original"``, the default ``None``) or
    :math:`0.2\, \eta \sqrt{\max(n, m)}` (``"match_rms_adamw"``)."""
    if adjust_lr_fn == "match_rms_adamw":
        return lr * (0.2 * math.sqrt(max(rows, columns)))
    return lr * math.sqrt(max(1, rows / columns))


def muon_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float = 1e-3,
    weight_decay: float = 0.1,
    momentum: float = 0.95,
    nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    eps: float = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str | None = None,
) -> tuple[Array, State]:
    r"""One step of Muon on a matrix parameter.

    .. math::
        B_t &\leftarrow \mu B_{t-1} + (1 - \mu)\, g \\
        D_t &\leftarrow (1 - \mu)\, g + \mu B_t \ \text{(Nesterov)}
            \quad\text{or}\quad D_t \leftarrow B_t \\
        O_t &\leftarrow \operatorname{NS}^{(a, b, c)}_k(D_t) \\
        \eta' &\leftarrow \eta \sqrt{\max(1, n/m)}
            \quad\text{or}\quad \eta' \leftarrow 0.2\, \eta \sqrt{\max(n, m)} \\
        x &\leftarrow (1 - \eta\lambda)\, x \\
        x &\leftarrow x - \eta' O_t

    :math:`\operatorname{NS}_k` is :func:`newton_schulz`: :math:`O_t` has :math:`D_t`'s
    singular vectors and singular values near 1, so the step changes the weights by the
    same amount in every direction the momentum points to, however unevenly the gradient
    is spread over them. :math:`\eta'` keeps the update's size comparable across shapes.

    Args:
        p: the parameter :math:`x`, an :math:`n \times m` matrix.
        g: its gradient.
        state: ``B``, the momentum buffer.
        lr: learning rate :math:`\eta`.
        weight_decay: :math:`\lambda`, decoupled decay of the weights, multiplied by
            :math:`\eta` (not :math:`\eta'`).
        momentum: :math:`\mu`.
        nesterov: look ahead along the momentum.
        ns_coefficients: :math:`(a, b, c)` of the Newton–Schulz polynomial.
        eps: :math:`\epsilon`, the floor of the norm :math:`D_t` is divided by.
        ns_steps: :math:`k`, the number of Newton–Schulz iterations.
        adjust_lr_fn: ``None`` or ``"original"`` for :math:`\eta\sqrt{\max(1, n/m)}`,
            ``"match_rms_adamw"`` for :math:`0.2\,\eta\sqrt{\max(n, m)}`.

    Convention:
        torch's documentation writes the momentum as a sum, :math:`B_t = \mu B_{t-1} + g`;
        its code, like this one, keeps the average :math:`\mu B_{t-1} + (1 - \mu) g`. The
        sum is the average divided by :math:`1 - \mu`, and so is its Nesterov mix
        :math:`g + \mu B_t`; :math:`\operatorname{NS}` divides by the norm, so the two
        give the same step except through :math:`\epsilon`. torch runs
        the Newton–Schulz iteration in bfloat16 (8 significant bits) whatever the
        parameter's dtype; this code runs it in the parameter's own precision.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Papers:
        Jordan et al. (2024), *Muon: An optimizer for hidden layers in neural networks*, https://kellerjordan.github.io/posts/muon/;
        Liu et al. (2025), *Muon is scalable for LLM training*, arXiv:2502.16982 (the
        ``"match_rms_adamw"`` scaling).
    """
    size = shape(g)
    if len(size) != 2:
        raise ValueError(f"Muon updates matrices (2-D parameters) only; got a gradient of shape {size}")
    B = momentum * state["B"] + (1 - momentum) * g  # (muon-b)
    D = (1 - momentum) * g + momentum * B if nesterov else B  # (muon-nesterov)
    a, b, c = ns_coefficients
    O = newton_schulz(D, a=a, b=b, c=c, steps=ns_steps, eps=eps)  # (muon-ns)
    lr_adjusted = adjusted_lr(lr, adjust_lr_fn, *size)  # (muon-lr)
    p = (1 - lr * weight_decay) * p  # (muon-decay)
    p = p - lr_adjusted * O  # (muon-x)
    return p, {"B": B}


def check_muon(group: Group) -> None:
    check_at_least_zero("lr", group["lr"])
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_unit_half_open("momentum", group["momentum"])
    check_bool("nesterov", group["nesterov"])
    coefficients = group["ns_coefficients"]
    if not isinstance(coefficients, (tuple, list)) or len(coefficients) != 3:
        raise ValueError(f"ns_coefficients must be three numbers (a, b, c); got {coefficients!r}")
    for index, (name, value) in enumerate(zip("abc", coefficients)):
        check_real(f"ns_coefficients[{index}] ({name})", value)
    check_at_least_zero("eps", group["eps"])
    check_whole("ns_steps", group["ns_steps"], 0, 99)
    check_choice("adjust_lr_fn", group["adjust_lr_fn"], ADJUST_LR_FNS)


def muon_arguments(group: Group) -> dict:
    return dict(
        lr=group["lr"],
        weight_decay=group["weight_decay"],
        momentum=group["momentum"],
        nesterov=group["nesterov"],
        ns_coefficients=tuple(group["ns_coefficients"]),
        eps=group["eps"],
        ns_steps=group["ns_steps"],
        adjust_lr_fn=group["adjust_lr_fn"],
    )


MUON_RULE = Rule("Muon", init=muon_init, update=muon_update, check=check_muon, arguments=muon_arguments,
                 elementwise=False)
