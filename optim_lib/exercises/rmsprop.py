"""The exercise of chapter 5: RMSProp.

The reference (optim_lib's rule with everything else fixed), the catalogue of classic mistakes,
the starter code and the :class:`~optim_lib.exercises.checking.Exercise`.
"""

from __future__ import annotations

import numpy as np

from ..rules.rmsprop import rmsprop_init, rmsprop_update
from .checking import (
    _DEFAULT_NAN_HINT, _EPS, _EPS_OUTSIDE, _LR, _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State,
)


# --------------------------------------------------------------------------------------
# References: optim_lib's rules with the exercise's signature
# --------------------------------------------------------------------------------------


def _rmsprop_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float
) -> Arrays:
    return rmsprop_update(
        p, g, state, lr=lr, gamma=gamma, eps=eps, weight_decay=0.0, momentum=0.0, centered=False, maximize=False
    )


# --------------------------------------------------------------------------------------
# The catalogue of classic mistakes, one small function each
# --------------------------------------------------------------------------------------

# RMSProp: s <- gamma * s + (1 - gamma) * g**2;  p <- p - lr * g / (sqrt(s) + eps)


def _rmsprop_eps_inside(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float) -> Arrays:
    s = gamma * state["s"] + (1 - gamma) * g * g
    return p - lr * g / np.sqrt(s + eps), {"t": state["t"] + 1, "s": s}


def _rmsprop_gamma_swapped(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float
) -> Arrays:
    s = (1 - gamma) * state["s"] + gamma * g * g
    return p - lr * g / (np.sqrt(s) + eps), {"t": state["t"] + 1, "s": s}


def _rmsprop_sum(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float) -> Arrays:
    s = gamma * state["s"] + g * g
    return p - lr * g / (np.sqrt(s) + eps), {"t": state["t"] + 1, "s": s}


def _rmsprop_old_s(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float) -> Arrays:
    s = gamma * state["s"] + (1 - gamma) * g * g
    return p - lr * g / (np.sqrt(state["s"]) + eps), {"t": state["t"] + 1, "s": s}


def _rmsprop_no_square(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float) -> Arrays:
    s = gamma * state["s"] + (1 - gamma) * g
    return p - lr * g / (np.sqrt(s) + eps), {"t": state["t"] + 1, "s": s}


def _rmsprop_no_sqrt(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float) -> Arrays:
    s = gamma * state["s"] + (1 - gamma) * g * g
    return p - lr * g / (s + eps), {"t": state["t"] + 1, "s": s}


def _rmsprop_ascends(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float) -> Arrays:
    s = gamma * state["s"] + (1 - gamma) * g * g
    return p + lr * g / (np.sqrt(s) + eps), {"t": state["t"] + 1, "s": s}


RMSPROP_MISTAKES = (
    Mistake("eps_inside", "RMSProp with eps inside the square root instead of outside, g / np.sqrt(s + eps)",
            _EPS_OUTSIDE, _rmsprop_eps_inside),
    Mistake("gamma_swapped", "gamma and 1 - gamma swapped, s = (1 - gamma) * s + gamma * g**2",
            "gamma is the weight of the old average: s = gamma * s + (1 - gamma) * g**2.", _rmsprop_gamma_swapped),
    Mistake("sum", "a leaky sum, s = gamma * s + g**2, without the factor 1 - gamma",
            "s is a leaky average: s = gamma * s + (1 - gamma) * g**2.", _rmsprop_sum),
    Mistake("old_s", "a step divided by the old s (before it is updated)",
            "update s first, s = gamma * s + (1 - gamma) * g**2, then step with the new s: "
            "p = p - lr * g / (np.sqrt(s) + eps).", _rmsprop_old_s),
    Mistake("no_square", "s averaging g instead of g**2",
            "s averages the squared gradients: s = gamma * s + (1 - gamma) * g**2.", _rmsprop_no_square),
    Mistake("no_sqrt", "a step divided by s instead of its square root",
            "divide by the root: p = p - lr * g / (np.sqrt(s) + eps).", _rmsprop_no_sqrt),
    Mistake("ascends", "a step uphill, p + lr * g / (np.sqrt(s) + eps)",
            "subtract the step: p = p - lr * g / (np.sqrt(s) + eps).", _rmsprop_ascends),
)


# --------------------------------------------------------------------------------------
# Starter code
# --------------------------------------------------------------------------------------

RMSPROP_SKELETON = f'''\
import numpy as np


def my_rmsprop_update(p, g, state, *, lr, gamma, eps):
    """One step of RMSProp (torch calls gamma "alpha").

        s <- gamma * s + (1 - gamma) * g**2
        p <- p - lr * g / (sqrt(s) + eps)      (eps outside the square root, as in torch)

    p, g and state["s"] are NumPy float64 arrays of the same shape; s starts at 0.
    Use np.sqrt for the square root. (state also holds entries this rule does not need:
    "t", and "g_bar" and "v" for the centered and momentum variants.)
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"s": s}}.
    """
    # Your code here.

    return new_p, {{"s": s}}
'''


# --------------------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="rmsprop", title="RMSProp",
        hyperparameters=("lr", "gamma", "eps"),
        ranges={"lr": _LR, "gamma": Range(0.7, 0.99), "eps": _EPS}, fixed={},
        init=rmsprop_init, reference=_rmsprop_reference, state_keys=("s",),
        mistakes=RMSPROP_MISTAKES,
        variable_hints={
            "s": "s is a leaky average of the squared gradients, from the old s in state: "
                 "s = gamma * s + (1 - gamma) * g**2.",
            "p": "the step divides by the root of the new s, eps outside the root: "
                 "p = p - lr * g / (np.sqrt(s) + eps).",
        },
        nan_hint=_DEFAULT_NAN_HINT, skeleton=RMSPROP_SKELETON,
    ),
)
"""The exercise ``rmsprop``."""
