"""Lion: a step of the same size in every coordinate, the sign of an interpolated momentum."""

from __future__ import annotations

from ._arrays import Array, sign, zeros_like
from ._checks import check_at_least_zero, check_betas, check_bool, check_positive, check_unit_closed
from .base import Group, Rule, State


def lion_init(p: Array) -> State:
    """The momentum ``m`` at 0 (Lion needs no step count)."""
    return {"m": zeros_like(p)}


def lion_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.99,
    weight_decay: float = 0.0,
) -> tuple[Array, State]:
    r"""One step of Lion (EvoLved Sign Momentum).

    .. math::
        x &\leftarrow (1 - \eta\lambda)\, x \\
        c_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g \\
        x &\leftarrow x - \eta\, \operatorname{sign}(c_t) \\
        m_t &\leftarrow \beta_2 m_{t-1} + (1 - \beta_2)\, g

    The direction mixes the gradient into the momentum with :math:`\beta_1`; the momentum
    itself is kept with the slower :math:`\beta_2`. Every coordinate moves by exactly
    :math:`\eta` (before the decay), whatever the gradient's size; the paper (section 5)
    finds a suitable learning rate typically 3 to 10 times smaller than AdamW's.

    Args:
        p: the parameter :math:`x`.
        g: its gradient :math:`\nabla f(x)`.
        state: ``m``, the momentum.
        lr: learning rate :math:`\eta`.
        beta1: :math:`\beta_1`, the interpolation that gives the direction; the package's
            ``betas[0]``.
        beta2: :math:`\beta_2`, decay of the momentum; ``betas[1]``.
        weight_decay: :math:`\lambda`, decoupled decay of the weights, multiplied by
            :math:`\eta` (as in AdamW). ``Lion(decoupled_weight_decay=True)`` hands this rule
            :math:`\lambda / \eta_0` instead, :math:`\eta_0` the learning rate it was
            constructed with, so that the decay per step is
            :math:`(\eta / \eta_0)\, \lambda`: the schedule's multiplier times
            :math:`\lambda`, whatever the learning rate.

    Convention:
        The paper's Algorithm 2 writes :math:`x \leftarrow x - \eta(\operatorname{sign}(c_t)
        + \lambda x)`, the same step as here, with :math:`\beta_1 = 0.9`,
        :math:`\beta_2 = 0.99`; lion-pytorch (the reference implementation) defaults to
        :math:`\eta = 10^{-4}`. :math:`\operatorname{sign}(0) = 0`. Here
        :math:`\operatorname{sign}(\mathrm{NaN})` is NaN, so a NaN gradient shows in the
        weights; torch's ``sgn``, which lion-pytorch uses, gives 0 and the weight stops
        silently.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Chen, Liang, Huang, Real, Wang, Pham, Dong, Luong, Hsieh, Lu & Le (2023), *Symbolic
        discovery of optimization algorithms*, NeurIPS.
    """
    m = state["m"]
    p = (1 - lr * weight_decay) * p  # (lion-decay)
    c = beta1 * m + (1 - beta1) * g  # (lion-c)
    p = p - lr * sign(c)  # (lion-update)
    m = beta2 * m + (1 - beta2) * g  # (lion-m)
    return p, {"m": m}


def check_lion(group: Group) -> None:
    """lion-pytorch asserts ``lr > 0`` and each beta in [0, 1]."""
    check_positive("lr", group["lr"])
    check_betas(group["betas"], check_unit_closed, check_unit_closed)
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_bool("decoupled_weight_decay", group["decoupled_weight_decay"])
    if "init_lr" in group:
        check_positive("init_lr", group["init_lr"])


def lion_arguments(group: Group) -> dict:
    """``decoupled_weight_decay=True`` divides the decay by the learning rate the optimizer
    was constructed with (``init_lr``, which the class puts in each group; a group without it,
    such as one made of the constructor's arguments alone, uses its own ``lr``), as
    lion-pytorch does."""
    beta1, beta2 = group["betas"]
    weight_decay = group["weight_decay"]
    if group["decoupled_weight_decay"]:
        weight_decay = weight_decay / group.get("init_lr", group["lr"])
    return dict(lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=weight_decay)


LION_RULE = Rule("Lion", init=lion_init, update=lion_update, check=check_lion, arguments=lion_arguments)
