"""The exercise of chapter 4: AdaGrad.

The reference (optim_lib's rule with everything else fixed), the catalogue of classic mistakes,
the starter code and the :class:`~optim_lib.exercises.checking.Exercise`.
"""

from __future__ import annotations

import numpy as np

from ..rules.adagrad import adagrad_init, adagrad_update
from .checking import _DEFAULT_NAN_HINT, _EPS, _EPS_OUTSIDE, _LR, _NOT_IN_PLACE, Arrays, Exercise, Mistake, State


# --------------------------------------------------------------------------------------
# References: optim_lib's rules with the exercise's signature
# --------------------------------------------------------------------------------------


def _adagrad_reference(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, eps: float) -> Arrays:
    return adagrad_update(p, g, state, lr=lr, lr_decay=0.0, weight_decay=0.0, eps=eps, maximize=False)


# --------------------------------------------------------------------------------------
# The catalogue of classic mistakes, one small function each
# --------------------------------------------------------------------------------------

# AdaGrad: s <- s + g**2;  p <- p - lr * g / (sqrt(s) + eps)


def _adagrad_eps_inside(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, eps: float) -> Arrays:
    s = state["s"] + g * g
    return p - lr * g / np.sqrt(s + eps), {"t": state["t"] + 1, "s": s}


def _adagrad_old_s(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, eps: float) -> Arrays:
    s = state["s"] + g * g
    return p - lr * g / (np.sqrt(state["s"]) + eps), {"t": state["t"] + 1, "s": s}


def _adagrad_no_square(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, eps: float) -> Arrays:
    s = state["s"] + g
    return p - lr * g / (np.sqrt(s) + eps), {"t": state["t"] + 1, "s": s}


def _adagrad_no_sqrt(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, eps: float) -> Arrays:
    s = state["s"] + g * g
    return p - lr * g / (s + eps), {"t": state["t"] + 1, "s": s}


def _adagrad_ascends(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, eps: float) -> Arrays:
    s = state["s"] + g * g
    return p + lr * g / (np.sqrt(s) + eps), {"t": state["t"] + 1, "s": s}


ADAGRAD_MISTAKES = (
    Mistake("eps_inside", "AdaGrad with eps inside the square root instead of outside, g / np.sqrt(s + eps)",
            _EPS_OUTSIDE, _adagrad_eps_inside),
    Mistake("old_s", "a step divided by the old s (before g**2 is added)",
            "add the new squared gradient first, s = s + g**2, then step with the new s: "
            "p = p - lr * g / (np.sqrt(s) + eps).", _adagrad_old_s),
    Mistake("no_square", "s summing g instead of g**2",
            "s is the sum of the squared gradients: s = s + g**2.", _adagrad_no_square),
    Mistake("no_sqrt", "a step divided by s instead of its square root",
            "divide by the root: p = p - lr * g / (np.sqrt(s) + eps).", _adagrad_no_sqrt),
    Mistake("ascends", "a step uphill, p + lr * g / (np.sqrt(s) + eps)",
            "subtract the step: p = p - lr * g / (np.sqrt(s) + eps).", _adagrad_ascends),
)


# --------------------------------------------------------------------------------------
# Starter code
# --------------------------------------------------------------------------------------

ADAGRAD_SKELETON = f'''\
import numpy as np


def my_adagrad_update(p, g, state, *, lr, eps):
    """One step of AdaGrad.

        s <- s + g**2
        p <- p - lr * g / (sqrt(s) + eps)      (eps outside the square root, as in torch)

    p, g and state["s"] are NumPy float64 arrays of the same shape; s starts at 0.
    Use np.sqrt for the square root. (state also holds a step count "t", not needed here.)
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
        name="adagrad", title="AdaGrad",
        hyperparameters=("lr", "eps"), ranges={"lr": _LR, "eps": _EPS}, fixed={},
        init=adagrad_init, reference=_adagrad_reference, state_keys=("s",),
        mistakes=ADAGRAD_MISTAKES,
        variable_hints={
            "s": "s is the running sum of the squared gradients, from the old s in state: s = s + g**2.",
            "p": "the step divides by the root of the new s, eps outside the root: "
                 "p = p - lr * g / (np.sqrt(s) + eps).",
        },
        nan_hint=_DEFAULT_NAN_HINT, skeleton=ADAGRAD_SKELETON,
    ),
)
"""The exercise ``adagrad``."""
