"""The exercise of chapter 6: Adadelta.

The reference (optim_lib's rule with everything else fixed), the catalogue of classic mistakes,
the starter code and the :class:`~optim_lib.exercises.checking.Exercise`.
"""

from __future__ import annotations

import numpy as np

from ..rules.adadelta import adadelta_init, adadelta_update
from .checking import _DEFAULT_NAN_HINT, _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State


# --------------------------------------------------------------------------------------
# References: optim_lib's rules with the exercise's signature
# --------------------------------------------------------------------------------------


def _adadelta_reference(p: np.ndarray, g: np.ndarray, state: State, *, rho: float, eps: float) -> Arrays:
    return adadelta_update(p, g, state, lr=1.0, rho=rho, eps=eps, weight_decay=0.0, maximize=False)


# --------------------------------------------------------------------------------------
# The catalogue of classic mistakes, one small function each
# --------------------------------------------------------------------------------------

# Adadelta: s <- rho s + (1 - rho) g**2;  g' <- sqrt(delta + eps) / sqrt(s + eps) * g;
#           delta <- rho delta + (1 - rho) g'**2;  p <- p - g'


def _adadelta_delta_with_g(p: np.ndarray, g: np.ndarray, state: State, *, rho: float, eps: float) -> Arrays:
    s = rho * state["s"] + (1 - rho) * g * g
    g_prime = np.sqrt(state["delta"] + eps) / np.sqrt(s + eps) * g
    delta = rho * state["delta"] + (1 - rho) * g * g
    return p - g_prime, {"t": state["t"] + 1, "s": s, "delta": delta}


def _adadelta_delta_before_g_prime(p: np.ndarray, g: np.ndarray, state: State, *, rho: float, eps: float) -> Arrays:
    s = rho * state["s"] + (1 - rho) * g * g
    delta = rho * state["delta"] + (1 - rho) * g * g
    g_prime = np.sqrt(delta + eps) / np.sqrt(s + eps) * g
    return p - g_prime, {"t": state["t"] + 1, "s": s, "delta": delta}


def _adadelta_ratio_inverted(p: np.ndarray, g: np.ndarray, state: State, *, rho: float, eps: float) -> Arrays:
    s = rho * state["s"] + (1 - rho) * g * g
    g_prime = np.sqrt(s + eps) / np.sqrt(state["delta"] + eps) * g
    delta = rho * state["delta"] + (1 - rho) * g_prime * g_prime
    return p - g_prime, {"t": state["t"] + 1, "s": s, "delta": delta}


def _adadelta_eps_outside(p: np.ndarray, g: np.ndarray, state: State, *, rho: float, eps: float) -> Arrays:
    s = rho * state["s"] + (1 - rho) * g * g
    g_prime = (np.sqrt(state["delta"]) + eps) / (np.sqrt(s) + eps) * g
    delta = rho * state["delta"] + (1 - rho) * g_prime * g_prime
    return p - g_prime, {"t": state["t"] + 1, "s": s, "delta": delta}


def _adadelta_rho_swapped(p: np.ndarray, g: np.ndarray, state: State, *, rho: float, eps: float) -> Arrays:
    s = (1 - rho) * state["s"] + rho * g * g
    g_prime = np.sqrt(state["delta"] + eps) / np.sqrt(s + eps) * g
    delta = (1 - rho) * state["delta"] + rho * g_prime * g_prime
    return p - g_prime, {"t": state["t"] + 1, "s": s, "delta": delta}


def _adadelta_ascends(p: np.ndarray, g: np.ndarray, state: State, *, rho: float, eps: float) -> Arrays:
    s = rho * state["s"] + (1 - rho) * g * g
    g_prime = np.sqrt(state["delta"] + eps) / np.sqrt(s + eps) * g
    delta = rho * state["delta"] + (1 - rho) * g_prime * g_prime
    return p + g_prime, {"t": state["t"] + 1, "s": s, "delta": delta}


_DELTA_AFTER_G_PRIME = (
    "compute the rescaled step from the old delta first, g_prime = np.sqrt(delta + eps) / np.sqrt(s + eps) * g, "
    "and only then update delta with that step: delta = rho * delta + (1 - rho) * g_prime**2."
)

ADADELTA_MISTAKES = (
    Mistake("delta_with_g", "Adadelta with delta updated with the wrong step (it averages g**2 instead of g_prime**2)",
            "delta tracks the squared rescaled steps, not the gradients; " + _DELTA_AFTER_G_PRIME,
            _adadelta_delta_with_g),
    # Computing g_prime with the old s (before averaging in g**2) gives exactly the same numbers:
    # in both, delta equals s at every step, so g_prime equals g.
    Mistake("delta_before_g_prime",
            "Adadelta with delta updated before g_prime is computed (delta averages g**2, and g_prime is "
            "rescaled with this new delta), or with g_prime computed from the old s; both make delta equal "
            "to s, so every step is just p - g",
            "update s, s = rho * s + (1 - rho) * g**2; then compute the rescaled step from the new s and the "
            "old delta, g_prime = np.sqrt(delta + eps) / np.sqrt(s + eps) * g; and only then update delta with that "
            "step: delta = rho * delta + (1 - rho) * g_prime**2.",
            _adadelta_delta_before_g_prime),
    Mistake("ratio_inverted", "the ratio upside down, g_prime = np.sqrt(s + eps) / np.sqrt(delta + eps) * g",
            "the past steps go on top: g_prime = np.sqrt(delta + eps) / np.sqrt(s + eps) * g.",
            _adadelta_ratio_inverted),
    Mistake("eps_outside", "eps outside the square roots, (np.sqrt(delta) + eps) / (np.sqrt(s) + eps)",
            "Adadelta puts eps inside both roots: np.sqrt(delta + eps) / np.sqrt(s + eps). Since delta starts "
            "at 0, np.sqrt(eps) is what sets the size of the first steps.", _adadelta_eps_outside),
    Mistake("rho_swapped", "rho and 1 - rho swapped in the averages",
            "rho is the weight of the old average: s = rho * s + (1 - rho) * g**2 and "
            "delta = rho * delta + (1 - rho) * g_prime**2.", _adadelta_rho_swapped),
    Mistake("ascends", "a step uphill, p + g_prime",
            "subtract the rescaled step: p = p - g_prime.", _adadelta_ascends),
)


# --------------------------------------------------------------------------------------
# Starter code
# --------------------------------------------------------------------------------------

ADADELTA_SKELETON = f'''\
import numpy as np


def my_adadelta_update(p, g, state, *, rho, eps):
    """One step of Adadelta (no learning rate: torch's lr = 1).

        s       <- rho * s + (1 - rho) * g**2
        g_prime <- sqrt(delta + eps) / sqrt(s + eps) * g     (with the old delta)
        delta   <- rho * delta + (1 - rho) * g_prime**2
        p       <- p - g_prime

    p, g, state["s"] and state["delta"] are NumPy float64 arrays of the same shape; both
    start at 0. Use np.sqrt for the square roots. (state also holds a step count "t".)
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"s": s, "delta": delta}}.
    """
    # Your code here.

    return new_p, {{"s": s, "delta": delta}}
'''


# --------------------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="adadelta", title="Adadelta",
        hyperparameters=("rho", "eps"), ranges={"rho": Range(0.7, 0.95), "eps": Range(1e-6, 1e-3, log=True)},
        fixed={"lr": 1.0},
        init=adadelta_init, reference=_adadelta_reference, state_keys=("s", "delta"),
        mistakes=ADADELTA_MISTAKES,
        variable_hints={
            "s": "s is a leaky average of the squared gradients, from the old s in state: "
                 "s = rho * s + (1 - rho) * g**2.",
            "delta": "delta is a leaky average of the squared rescaled steps, updated after g_prime is "
                     "computed from the old delta: delta = rho * delta + (1 - rho) * g_prime**2.",
            "p": "the step is g_prime = np.sqrt(delta + eps) / np.sqrt(s + eps) * g, with the new s and the old "
                 "delta, and p = p - g_prime (no learning rate).",
        },
        nan_hint=_DEFAULT_NAN_HINT, skeleton=ADADELTA_SKELETON,
    ),
)
"""The exercise ``adadelta``."""
