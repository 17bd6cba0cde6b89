"""Gradient descent, stochastic gradient descent and momentum (heavy ball and Nesterov)."""

from __future__ import annotations

from ._arrays import Array, zeros_like
from ._checks import check_at_least_zero, check_bool, check_unit_closed, check_unit_half_open
from .base import Group, Rule, State


def sgd_init(p: Array, velocity: bool = True) -> State:
    """``t = 0`` and the velocity ``v = 0``, which only momentum uses: the ``SGD`` class
    passes ``velocity=False`` when ``momentum = 0``, so that, as in torch, plain SGD keeps
    no array."""
    return {"t": 0, "v": zeros_like(p)} if velocity else {"t": 0}


def sgd_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of SGD with optional momentum.

    .. math::
        g &\leftarrow \nabla f(x) + \lambda x \\
        v_t &\leftarrow \beta v_{t-1} + (1 - \tau)\, g \qquad (v_1 = g) \\
        d &\leftarrow g + \beta v_t \ \text{(Nesterov)} \quad\text{or}\quad d \leftarrow v_t \\
        x &\leftarrow x - \eta\, d

    Without momentum (``momentum = 0``) the direction is the gradient itself: ``d = g``.

    Args:
        p: the parameter :math:`x`.
        g: its gradient :math:`\nabla f(x)`.
        state: ``t`` (steps taken) and the velocity ``v`` (:math:`v`).
        lr: learning rate :math:`\eta`.
        momentum: :math:`\beta`, how much of the last velocity is kept.
        dampening: :math:`\tau`, shrinks the new gradient's share of the velocity.
        weight_decay: L2 penalty :math:`\lambda`, added to the gradient.
        nesterov: look ahead along the velocity (Nesterov's accelerated gradient).
        maximize: ascend instead of descend (use :math:`-g`).

    Convention:
        torch (and this code) keeps the velocity as a *sum*, :math:`v \leftarrow \beta v + g`,
        and the first velocity is the gradient itself, even with dampening. Some texts keep an
        *average*, :math:`v \leftarrow \beta v + (1-\beta) g`, which is the same direction with
        a step :math:`1-\beta` times smaller: use ``dampening = momentum`` to get it (after
        the first step). Dive into Deep Learning uses the sum, as here. Nesterov here is
        torch's reformulation (Sutskever et al., 2013), evaluated at the current point.
        "First" means step 1 of the run: torch starts the velocity at the first step taken
        *with momentum*, which differs only if momentum is switched on mid-run with
        dampening.

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Papers:
        Robbins & Monro (1951), *A stochastic approximation method*; Polyak (1964), *Some
        methods of speeding up the convergence of iteration methods*; Nesterov (1983), *A
        method for solving the convex programming problem with convergence rate O(1/k^2)*.
    """
    t = state["t"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    new_state = {"t": t}
    if momentum != 0:
        v = g if t == 1 else momentum * state["v"] + (1 - dampening) * g  # (momentum-v) (momentum-dampening)
        g = g + momentum * v if nesterov else v  # (nesterov-x)
        new_state["v"] = v
    p = p - lr * g  # (gd-update) (momentum-x) (nesterov-x)
    return p, new_state


def check_sgd(group: Group) -> None:
    check_at_least_zero("lr", group["lr"])
    check_unit_half_open("momentum", group["momentum"])
    check_unit_closed("dampening", group["dampening"])
    check_at_least_zero("weight_decay", group["weight_decay"])
    check_bool("nesterov", group["nesterov"])
    check_bool("maximize", group["maximize"])
    if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
        raise ValueError(
            "nesterov=True needs momentum in (0, 1) and dampening = 0; "
            f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}"
        )


def sgd_arguments(group: Group) -> dict:
    return dict(
        lr=group["lr"],
        momentum=group["momentum"],
        dampening=group["dampening"],
        weight_decay=group["weight_decay"],
        nesterov=group["nesterov"],
        maximize=group["maximize"],
    )


def sgd_init_arguments(group: Group) -> dict:
    """A velocity only for momentum."""
    return {"velocity": group["momentum"] != 0}


SGD_RULE = Rule("SGD", init=sgd_init, update=sgd_update, check=check_sgd, arguments=sgd_arguments,
                init_arguments=sgd_init_arguments)
