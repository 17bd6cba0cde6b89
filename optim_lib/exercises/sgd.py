"""The exercises of chapters 2 and 3: gradient descent, heavy-ball momentum, Nesterov momentum.

For each: the reference (optim_lib's rule with everything else fixed), the catalogue of classic
mistakes, the starter code and the :class:`~optim_lib.exercises.checking.Exercise`.
"""

from __future__ import annotations

import numpy as np

from ..rules.sgd import sgd_init, sgd_update
from .checking import _DEFAULT_NAN_HINT, _LR, _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State


# --------------------------------------------------------------------------------------
# References: optim_lib's rules with the exercise's signature
# --------------------------------------------------------------------------------------


def _sgd_reference(p: np.ndarray, g: np.ndarray, state: State, *, lr: float) -> Arrays:
    return sgd_update(p, g, state, lr=lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)


def _momentum_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float
) -> Arrays:
    return sgd_update(
        p, g, state, lr=lr, momentum=momentum, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
    )


def _nesterov_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float
) -> Arrays:
    return sgd_update(
        p, g, state, lr=lr, momentum=momentum, dampening=0.0, weight_decay=0.0, nesterov=True, maximize=False
    )


# --------------------------------------------------------------------------------------
# The catalogue of classic mistakes, one small function each
# --------------------------------------------------------------------------------------

# Gradient descent: p <- p - lr * g


def _sgd_ascends(p: np.ndarray, g: np.ndarray, state: State, *, lr: float) -> Arrays:
    return p + lr * g, dict(state)


def _sgd_without_lr(p: np.ndarray, g: np.ndarray, state: State, *, lr: float) -> Arrays:
    return p - g, dict(state)


SGD_MISTAKES = (
    Mistake("ascends", "a step uphill, p + lr * g",
            "gradient descent moves against the gradient: p = p - lr * g.", _sgd_ascends),
    Mistake("no_lr", "a step without the learning rate, p - g",
            "scale the gradient by lr: p = p - lr * g.", _sgd_without_lr),
)

# Heavy-ball momentum: v <- momentum * v + g;  p <- p - lr * v


def _momentum_average(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] + (1 - momentum) * g
    return p - lr * v, {"t": state["t"] + 1, "v": v}


def _momentum_old_velocity(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] + g
    return p - lr * state["v"], {"t": state["t"] + 1, "v": v}


def _momentum_gradient_step(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] + g
    return p - lr * g, {"t": state["t"] + 1, "v": v}


def _momentum_velocity_with_lr(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] + lr * g
    return p - v, {"t": state["t"] + 1, "v": v}


def _momentum_velocity_with_minus_lr(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float
) -> Arrays:
    v = momentum * state["v"] - lr * g
    return p + v, {"t": state["t"] + 1, "v": v}


def _momentum_negative_velocity(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] - g
    return p + lr * v, {"t": state["t"] + 1, "v": v}


def _momentum_ascends(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] + g
    return p + lr * v, {"t": state["t"] + 1, "v": v}


_KEEP_LR_OUT_OF_V = (
    "your p is right (the two forms agree while lr is constant), but this course, like torch, "
    "keeps lr out of the velocity: v = momentum * v + g, then p = p - lr * v."
)

MOMENTUM_MISTAKES = (
    Mistake("average", "momentum as an average, v = momentum * v + (1 - momentum) * g",
            "this course (like torch and Dive into Deep Learning) keeps a sum, v = momentum * v + g. "
            "The average points the same way, but its steps are (1 - momentum) times smaller.",
            _momentum_average),
    Mistake("old_velocity", "a step with the old velocity (p - lr * v taken before v is updated)",
            "update v first, v = momentum * v + g, then step with the new v: p = p - lr * v.",
            _momentum_old_velocity),
    Mistake("gradient_step", "a step along the gradient, p - lr * g, instead of the velocity",
            "your v is right; now step along it: p = p - lr * v.", _momentum_gradient_step),
    Mistake("velocity_with_lr", "a velocity that contains the learning rate, v = momentum * v + lr * g, p = p - v",
            _KEEP_LR_OUT_OF_V, _momentum_velocity_with_lr),
    Mistake("velocity_with_minus_lr",
            "a velocity that contains minus the learning rate, v = momentum * v - lr * g, p = p + v",
            _KEEP_LR_OUT_OF_V, _momentum_velocity_with_minus_lr),
    Mistake("negative_velocity", "a velocity of the opposite sign, v = momentum * v - g, p = p + lr * v",
            "your p is right, but here v points the way g does: v = momentum * v + g, then p = p - lr * v.",
            _momentum_negative_velocity),
    Mistake("ascends", "a step uphill, p + lr * v",
            "subtract the velocity: p = p - lr * v.", _momentum_ascends),
)

# Nesterov (torch's form): v <- momentum * v + g;  p <- p - lr * (g + momentum * v)


def _nesterov_average(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] + (1 - momentum) * g
    return p - lr * (g + momentum * v), {"t": state["t"] + 1, "v": v}


def _nesterov_heavy_ball(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] + g
    return p - lr * v, {"t": state["t"] + 1, "v": v}


def _nesterov_ascends(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float) -> Arrays:
    v = momentum * state["v"] + g
    return p + lr * (g + momentum * v), {"t": state["t"] + 1, "v": v}


NESTEROV_MISTAKES = (
    Mistake("average", "Nesterov momentum with an average, v = momentum * v + (1 - momentum) * g",
            "this course (like torch) keeps a sum, v = momentum * v + g; then p = p - lr * (g + momentum * v).",
            _nesterov_average),
    Mistake("heavy_ball",
            "heavy-ball momentum, p - lr * v, without Nesterov's look-ahead (a look-ahead with the old "
            "velocity, p - lr * (g + momentum * v_old), is the same thing)",
            "torch's Nesterov step looks ahead along the new velocity: update v = momentum * v + g first, "
            "then p = p - lr * (g + momentum * v).",
            _nesterov_heavy_ball),
    Mistake("ascends", "a step uphill, p + lr * (g + momentum * v)",
            "subtract the step: p = p - lr * (g + momentum * v).", _nesterov_ascends),
)


# --------------------------------------------------------------------------------------
# Starter code
# --------------------------------------------------------------------------------------

SGD_SKELETON = f'''\
import numpy as np


def my_sgd_update(p, g, state, *, lr):
    """One step of gradient descent.

        p <- p - lr * g

    p and g are NumPy float64 arrays of the same shape. Gradient descent keeps nothing
    in state: return it as it came.
{_NOT_IN_PLACE}

    Return (new_p, state).
    """
    # Your code here.

    return new_p, state
'''

MOMENTUM_SKELETON = f'''\
import numpy as np


def my_momentum_update(p, g, state, *, lr, momentum):
    """One step of gradient descent with (heavy-ball) momentum.

        v <- momentum * v + g        (a sum, not an average)
        p <- p - lr * v

    p, g and state["v"] are NumPy float64 arrays of the same shape; v starts at 0, so the
    first v is g. (state also holds a step count "t", which this rule does not need.)
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"v": v}}.
    """
    # Your code here.

    return new_p, {{"v": v}}
'''

NESTEROV_SKELETON = f'''\
import numpy as np


def my_nesterov_update(p, g, state, *, lr, momentum):
    """One step of gradient descent with Nesterov momentum, in torch's form.

        v <- momentum * v + g               (a sum, not an average)
        p <- p - lr * (g + momentum * v)    (look ahead along the new v)

    p, g and state["v"] are NumPy float64 arrays of the same shape; v starts at 0, so the
    first v is g. (state also holds a step count "t", which this rule does not need.)
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"v": v}}.
    """
    # Your code here.

    return new_p, {{"v": v}}
'''


# --------------------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------------------

_MOMENTUM = Range(0.5, 0.95)

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="sgd", title="Gradient descent",
        hyperparameters=("lr",), ranges={"lr": _LR}, fixed={},
        init=sgd_init, reference=_sgd_reference, state_keys=(),
        mistakes=SGD_MISTAKES,
        variable_hints={"p": "the step is p = p - lr * g, a new array."},
        nan_hint=_DEFAULT_NAN_HINT, skeleton=SGD_SKELETON,
    ),
    Exercise(
        name="momentum", title="Momentum",
        hyperparameters=("lr", "momentum"), ranges={"lr": _LR, "momentum": _MOMENTUM}, fixed={},
        init=sgd_init, reference=_momentum_reference, state_keys=("v",),
        mistakes=MOMENTUM_MISTAKES,
        variable_hints={
            "v": "v is the velocity, a sum, from the old v in state: v = momentum * v + g (v starts at 0, "
                 "so the first v is g).",
            "p": "p moves along the new velocity: p = p - lr * v. Check the order: update v before using it.",
        },
        nan_hint=_DEFAULT_NAN_HINT, skeleton=MOMENTUM_SKELETON,
    ),
    Exercise(
        name="nesterov", title="Nesterov momentum",
        hyperparameters=("lr", "momentum"), ranges={"lr": _LR, "momentum": _MOMENTUM}, fixed={},
        init=sgd_init, reference=_nesterov_reference, state_keys=("v",),
        mistakes=NESTEROV_MISTAKES,
        variable_hints={
            "v": "v is the velocity, a sum, from the old v in state: v = momentum * v + g (v starts at 0, "
                 "so the first v is g).",
            "p": "torch's Nesterov step looks ahead along the new velocity: p = p - lr * (g + momentum * v). "
                 "Check the order: update v before using it.",
        },
        nan_hint=_DEFAULT_NAN_HINT, skeleton=NESTEROV_SKELETON,
    ),
)
"""The exercises ``sgd``, ``momentum`` and ``nesterov``."""
