"""Schedule-free AdamW: no learning-rate schedule, but an average of the iterates, and the
gradient taken between the average and the latest iterate."""

from __future__ import annotations

from typing import Any

from ._arrays import Array, copy, sqrt, zeros_like
from ._checks import check_at_least_zero, check_betas, check_unit_open, check_whole
from .base import Group, Rule, State


def adamw_schedule_free_init(p: Array) -> State:
    """``t = 0``; the iterate ``z`` at the start point (a copy of it); the second moment
    ``v`` at 0; the largest learning rate so far ``lr_max`` and the sum of the averaging
    weights ``weight_sum``, both 0."""
    return {"t": 0, "z": copy(p), "v": zeros_like(p), "lr_max": 0.0, "weight_sum": 0.0}


def adamw_schedule_free_update(
    y: Array,
    g: Array,
    state: State,
    *,
    lr: float = 0.0025,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    warmup_steps: int = 0,
    r: float = 0.0,
    weight_lr_power: float = 2.0,
) -> tuple[Array, State]:
    r"""One step of schedule-free AdamW, on the point :math:`y` where the gradient was taken.

    Three sequences: :math:`z`, the plain (Adam-scaled) gradient steps; :math:`x`, a
    weighted average of the :math:`z`'s, the point to evaluate and to keep; and
    :math:`y = (1 - \beta_1) z + \beta_1 x` between them, where the gradient is taken.

    .. math::
        \eta_t &\leftarrow \eta \min(1, t / T_{\text{warmup}}) \\
        w_t &\leftarrow t^r\, \bigl(\max_{i \le t} \eta_i\bigr)^{p} \\
        c_t &\leftarrow w_t \big/ \textstyle\sum_{i \le t} w_i \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g^2 \\
        \hat g &\leftarrow g \big/ \bigl(\sqrt{v_t / (1 - \beta_2^t)} + \epsilon\bigr)
            + \lambda y \\
        y &\leftarrow (1 - c_t)\, y + c_t z + \eta_t \bigl(\beta_1 (1 - c_t) - 1\bigr)\, \hat g \\
        z &\leftarrow z - \eta_t\, \hat g

    The update of :math:`y` is what :math:`z \leftarrow z - \eta_t \hat g`,
    :math:`x \leftarrow (1 - c_t)\, x + c_t z` and :math:`y = (1 - \beta_1) z + \beta_1 x`
    make of it, so :math:`x` need not be stored: it is
    :math:`x = (y - (1 - \beta_1) z) / \beta_1` (:func:`schedule_free_x`). With
    :math:`r = 0` and no warmup, :math:`c_t = 1/t` and :math:`x` is the plain average of
    the :math:`z`'s.

    Args:
        y: the parameter in training mode, :math:`y`.
        g: its gradient :math:`\nabla f(y)`.
        state: ``t``; ``z``; ``v`` (the second moment); ``lr_max``
            (:math:`\max_{i \le t} \eta_i`); ``weight_sum`` (:math:`\sum_{i \le t} w_i`).
        lr: learning rate :math:`\eta`.
        beta1: :math:`\beta_1`, where :math:`y` sits between :math:`z` (0) and :math:`x`
            (1); the package's ``betas[0]``.
        beta2: :math:`\beta_2`, decay of :math:`v`; ``betas[1]``.
        eps: :math:`\epsilon`.
        weight_decay: :math:`\lambda`, taken at :math:`y` and added to the *scaled*
            gradient (so decoupled from the Adam scaling, as in AdamW).
        warmup_steps: :math:`T_{\text{warmup}}`, the steps over which :math:`\eta_t` rises
            linearly to :math:`\eta` (0: none).
        r: :math:`r`, the power of :math:`t` in the averaging weights.
        weight_lr_power: :math:`p`, the power of the learning rate in the weights (so that
            the warmup steps count less in the average).

    Convention:
        This is the schedulefree package's ``AdamWScheduleFree`` (the authors' code). The
        version of the paper's published experiments (the package's
        ``AdamWScheduleFreePaper``, by its docstring) corrects the bias by scaling
        :math:`\eta_t` with :math:`\sqrt{1 - \beta_2^t}`, which then also enters the
        weights, and adds :math:`\epsilon` to :math:`\sqrt{v_t}`; the package says that
        simpler correction "can cause instability on some problems". The package keeps :math:`t`, the
        weight sum and :math:`\max \eta_i` once per param group, this code once per
        parameter: the same numbers whenever every parameter of a group has a gradient at
        every step.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky (2024), *The road less
        scheduled*, NeurIPS.
    """
    t = state["t"] + 1
    lr_t = lr * (t / warmup_steps if t <= warmup_steps else 1.0)  # (sf-warmup)
    lr_max = max(lr_t, state["lr_max"])
    weight = t**r * lr_max**weight_lr_power  # (sf-weight)
    weight_sum = state["weight_sum"] + weight
    c = weight / weight_sum if weight_sum != 0 else 0.0  # (sf-c)
    z = state["z"]
    v = beta2 * state["v"] + (1 - beta2) * g * g  # (sf-v)
    g_hat = g / (sqrt(v / (1 - beta2**t)) + eps)  # (sf-g)
    if weight_decay != 0:
        g_hat = g_hat + weight_decay * y  # (sf-g)
    y = (1 - c) * y + c * z + lr_t * (beta1 * (1 - c) - 1) * g_hat  # (sf-y)
    z = z - lr_t * g_hat  # (sf-z)
    return y, {"t": t, "z": z, "v": v, "lr_max": lr_max, "weight_sum": weight_sum}


def schedule_free_x(y: Array, z: Array, beta1: float) -> Array:
    r"""The evaluation point :math:`x = (y - (1 - \beta_1) z) / \beta_1` from the training
    point :math:`y` (what ``eval()`` puts in the parameters)."""
    return y + (1 - 1 / beta1) * (z - y)  # (sf-x)


def schedule_free_y(x: Array, z: Array, beta1: float) -> Array:
    r"""The training point :math:`y = (1 - \beta_1) z + \beta_1 x` from the evaluation point
    :math:`x` (what ``train()`` puts back)."""
    return x + (1 - beta1) * (z - x)  # (sf-y-from-x)


def schedule_free_evaluation_point(y: Array, state: State, group: Group) -> Array:
    """The point a model trained with this rule is evaluated at, :math:`x`, from the
    parameter :math:`y` and its state (``y`` itself before the first step)."""
    if not state:
        return y
    return schedule_free_x(y, state["z"], group["betas"][0])


def check_adamw_schedule_free(group: Group) -> None:
    """``eval()`` divides by ``beta1``, so beta1 = 0 (where :math:`x` cannot be recovered
    from :math:`y` and :math:`z`) is refused."""
    check_at_least_zero("lr", group["lr"])
    check_betas(group["betas"], check_beta1=check_unit_open)
    check_at_least_zero("eps", group["eps"])
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_whole("warmup_steps", group["warmup_steps"], 0)
    check_at_least_zero("r", group["r"])
    check_at_least_zero("weight_lr_power", group["weight_lr_power"])


def adamw_schedule_free_arguments(group: Group) -> dict[str, Any]:
    beta1, beta2 = group["betas"]
    return dict(
        lr=group["lr"],
        beta1=beta1,
        beta2=beta2,
        eps=group["eps"],
        weight_decay=group["weight_decay"],
        warmup_steps=group["warmup_steps"],
        r=group["r"],
        weight_lr_power=group["weight_lr_power"],
    )


ADAMW_SCHEDULE_FREE_RULE = Rule(
    "AdamWScheduleFree", init=adamw_schedule_free_init, update=adamw_schedule_free_update,
    check=check_adamw_schedule_free, arguments=adamw_schedule_free_arguments,
    evaluation_point=schedule_free_evaluation_point,
)
