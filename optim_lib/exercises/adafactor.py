"""The exercise of chapter 13: Adafactor on a matrix (the factored second moment).

The reference (optim_lib's rule with weight decay off), the catalogue of classic mistakes, the
starter code and the :class:`~optim_lib.exercises.checking.Exercise`. The parameter is a matrix
in every trial, so that the second moment is factored: the state holds a column ``R`` (one
number per row) and a row ``C`` (one per column), not arrays of ``p``'s shape, which the
exercise's ``state_shapes`` tells the checker.

The hyperparameters are sampled where each part of the rule shows in the numbers: ``lr`` from
0.1 to 1, so that the relative step :math:`\\rho_t = \\min(\\eta, 1/\\sqrt t)` is sometimes
capped by :math:`1/\\sqrt t`; ``eps2`` from 0.5 to 2, around the root mean square of the
trials' weights (about 1), so that its floor sometimes wins (the default, 1e-3, would never
show); ``eps1`` from 0.01 to 0.3, where the floor :math:`\\epsilon_1^2` on :math:`\\hat V`
meets the smaller squared gradients; ``d`` from 1 to 2, so that the update is clipped in some
steps and not in others.
"""

from __future__ import annotations

import numpy as np

from ..rules.adafactor import adafactor_init, adafactor_update
from .checking import _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State


def _reference(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta2_decay: float, eps1: float,
               eps2: float, d: float) -> Arrays:
    return adafactor_update(p, g, state, lr=lr, beta2_decay=beta2_decay, eps1=eps1, eps2=eps2, d=d,
                            weight_decay=0.0, maximize=False)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x)))


def _adafactor(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta2_decay: float, eps1: float,
               eps2: float, d: float, sums: bool = False, normalize: bool = True, relative: bool = True,
               floor: bool = True, cap: bool = True, clip: bool = True, always_clip: bool = False,
               eps_in_g2: bool = False, root: bool = True, old_factors: bool = False,
               weights_swapped: bool = False) -> Arrays:
    """Adafactor on a matrix, written out, with switches that turn it into each mistake."""
    t = state["t"] + 1
    beta2_hat = 1 - t**beta2_decay
    rho = min(lr, 1 / t**0.5) if cap else lr
    alpha = (max(eps2, _rms(p)) if floor else _rms(p)) * rho if relative else rho
    g2 = g * g + eps1 if eps_in_g2 else g * g
    reduce = np.sum if sums else np.mean
    old, new = (beta2_hat, 1 - beta2_hat) if not weights_swapped else (1 - beta2_hat, beta2_hat)
    R = old * state["R"] + new * reduce(g2, axis=-1, keepdims=True)
    C = old * state["C"] + new * reduce(g2, axis=-2, keepdims=True)
    R_used, C_used = (state["R"], state["C"]) if old_factors else (R, C)
    if normalize:
        V_hat = R_used * C_used / (np.maximum(reduce(R_used), eps1) if not eps_in_g2 else reduce(R_used))
    else:
        V_hat = R_used * C_used
    denominator = (np.maximum(V_hat, eps1 * eps1) if not eps_in_g2 else V_hat) if root else V_hat
    U = g / np.sqrt(denominator) if root else g / np.maximum(denominator, eps1 * eps1)
    if always_clip:
        U = U / (_rms(U) / d)
    elif clip:
        U = U / max(1.0, _rms(U) / d)
    return p - alpha * U, {"t": t, "R": R, "C": C}


def _mistake(**switches: bool):
    def update(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta2_decay: float, eps1: float,
               eps2: float, d: float) -> Arrays:
        return _adafactor(p, g, state, lr=lr, beta2_decay=beta2_decay, eps1=eps1, eps2=eps2, d=d, **switches)

    return update


_ALPHA = "alpha = max(eps2, rms(p)) * rho, with rho = min(lr, 1 / np.sqrt(t)) and rms(p) = np.sqrt(np.mean(p**2))."

ADAFACTOR_MISTAKES = (
    Mistake("sums", "row and column sums instead of means (the paper's convention)",
            "torch (and this course) keeps the means: R = beta2_hat * R + (1 - beta2_hat) * np.mean(g**2, axis=1, "
            "keepdims=True), the same for C with axis=0, and V_hat = R * C / np.mean(R). The step is the same as "
            "with sums; the state is not.", _mistake(sums=True)),
    Mistake("not_normalized", "V_hat = R * C, without dividing by the mean of R",
            "R * C is the mean of g**2 times itself: divide once by it, V_hat = R * C / max(np.mean(R), eps1).",
            _mistake(normalize=False)),
    Mistake("weights_swapped", "beta2_hat and 1 - beta2_hat swapped in the averages",
            "beta2_hat is the weight of the old factor: R = beta2_hat * R + (1 - beta2_hat) * np.mean(g**2, ...).",
            _mistake(weights_swapped=True)),
    Mistake("old_factors", "V_hat from the old R and C (taken before they are updated)",
            "update R and C with this step's g**2 first, then build V_hat from the new ones.",
            _mistake(old_factors=True)),
    Mistake("eps1_in_g2", "eps1 added to g**2 (as in the paper) instead of as a floor",
            "torch uses eps1 as a floor: V_hat = R * C / max(np.mean(R), eps1), then "
            "U = g / np.sqrt(np.maximum(V_hat, eps1**2)).", _mistake(eps_in_g2=True)),
    Mistake("no_root", "U = g / V_hat instead of g / np.sqrt(V_hat)",
            "divide by the root: U = g / np.sqrt(np.maximum(V_hat, eps1**2)).", _mistake(root=False)),
    Mistake("absolute_step", "an absolute step, alpha = rho, without the weights' root mean square",
            "the step is relative to the size of the weights: " + _ALPHA, _mistake(relative=False)),
    Mistake("no_eps2_floor", "alpha = rms(p) * rho, without the floor eps2",
            "the weights' scale has a floor, so that weights near 0 still move: " + _ALPHA, _mistake(floor=False)),
    Mistake("no_cap", "rho = lr, without the cap 1 / sqrt(t)",
            "the relative step decays once 1 / sqrt(t) is below lr: rho = min(lr, 1 / np.sqrt(t)).",
            _mistake(cap=False)),
    Mistake("no_clipping", "no update clipping",
            "clip the update's root mean square to d: U = U / max(1, rms(U) / d).", _mistake(clip=False)),
    Mistake("always_clipping", "U divided by rms(U) / d at every step, without the max with 1",
            "clipping only shrinks: U = U / max(1, rms(U) / d), which leaves U alone when rms(U) <= d.",
            _mistake(always_clip=True)),
)


ADAFACTOR_SKELETON = f'''\
import numpy as np


def my_adafactor_update(p, g, state, *, lr, beta2_decay, eps1, eps2, d):
    """One step of Adafactor on an n x m matrix p (no weight decay).

        t         <- t + 1
        beta2_hat <- 1 - t**beta2_decay
        rho       <- min(lr, 1 / sqrt(t))
        alpha     <- max(eps2, rms(p)) * rho            rms(x) = sqrt(mean(x**2))
        R         <- beta2_hat * R + (1 - beta2_hat) * (row means of g**2)      (n x 1)
        C         <- beta2_hat * C + (1 - beta2_hat) * (column means of g**2)   (1 x m)
        V_hat     <- R * C / max(mean(R), eps1)
        U         <- g / sqrt(max(V_hat, eps1**2))      (entry by entry)
        p         <- p - alpha / max(1, rms(U) / d) * U

    p and g are NumPy float64 arrays of shape (n, m); state["R"] has shape (n, 1) and
    state["C"] shape (1, m), both 0 before the first step (np.mean(..., axis=1,
    keepdims=True) keeps the shapes); state["t"] is the number of steps taken so far.
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"t": t, "R": R, "C": C}}.
    """
    # Your code here.

    return new_p, {{"t": t, "R": R, "C": C}}
'''


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="adafactor", title="Adafactor",
        hyperparameters=("lr", "beta2_decay", "eps1", "eps2", "d"),
        ranges={"lr": Range(0.1, 1.0, log=True), "beta2_decay": Range(-1.0, -0.5), "eps1": Range(0.01, 0.3, log=True),
                "eps2": Range(0.5, 2.0, log=True), "d": Range(1.0, 2.0)},
        fixed={},
        init=adafactor_init, reference=_reference, state_keys=("t", "R", "C"),
        mistakes=ADAFACTOR_MISTAKES,
        variable_hints={
            "t": 't counts the steps: t = state["t"] + 1, returned in the new state.',
            "R": "R is a leaky average of the row means of g**2, with the weight beta2_hat = 1 - t**beta2_decay "
                 "of this step's t: R = beta2_hat * R + (1 - beta2_hat) * np.mean(g**2, axis=1, keepdims=True).",
            "C": "C is the same for the column means: np.mean(g**2, axis=0, keepdims=True).",
            "p": "V_hat = R * C / max(np.mean(R), eps1); U = g / np.sqrt(np.maximum(V_hat, eps1**2)); then "
                 "p = p - alpha / max(1, rms(U) / d) * U with " + _ALPHA,
        },
        nan_hint=("NaN or inf comes from a division by zero: mean(R) and V_hat need their floors eps1 and eps1**2, "
                  "and beta2_hat = 1 - t**beta2_decay needs t >= 1 (increment t first)."),
        skeleton=ADAFACTOR_SKELETON,
        shapes=((3, 4), (5, 2), (4, 4), (2, 6), (6, 3)),
        state_shapes=lambda shape: {"R": (shape[0], 1), "C": (1, shape[1])},
    ),
)
"""The exercise ``adafactor``."""
