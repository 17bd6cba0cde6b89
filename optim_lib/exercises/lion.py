"""The exercise of chapter 14: Lion.

The reference (optim_lib's rule: the decay multiplied by the learning rate, as in the paper's
Algorithm 2), the catalogue of classic mistakes, the starter code and the
:class:`~optim_lib.exercises.checking.Exercise`.
"""

from __future__ import annotations

import numpy as np

from ..rules.lion import lion_init, lion_update
from .checking import _LR, _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State

# --------------------------------------------------------------------------------------
# The reference: optim_lib's rule with the exercise's signature
# --------------------------------------------------------------------------------------


def _lion_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    return lion_update(p, g, state, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay)


# --------------------------------------------------------------------------------------
# The catalogue of classic mistakes, one small function each
# --------------------------------------------------------------------------------------

# Lion: p <- (1 - lr * weight_decay) * p;  c <- beta1 m + (1 - beta1) g;  p <- p - lr sign(c);
#       m <- beta2 m + (1 - beta2) g


def _lion_momentum_first(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    m = beta2 * state["m"] + (1 - beta2) * g
    c = beta1 * m + (1 - beta1) * g
    return (1 - lr * weight_decay) * p - lr * np.sign(c), {"m": m}


def _lion_betas_swapped(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    return _lion_reference(p, g, state, lr=lr, beta1=beta2, beta2=beta1, weight_decay=weight_decay)


def _lion_no_sign(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    c = beta1 * state["m"] + (1 - beta1) * g
    m = beta2 * state["m"] + (1 - beta2) * g
    return (1 - lr * weight_decay) * p - lr * c, {"m": m}


def _lion_sign_of_gradient(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    m = beta2 * state["m"] + (1 - beta2) * g
    return (1 - lr * weight_decay) * p - lr * np.sign(g), {"m": m}


def _lion_keeps_c(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    c = beta1 * state["m"] + (1 - beta1) * g
    return (1 - lr * weight_decay) * p - lr * np.sign(c), {"m": c}


def _lion_decay_inside_sign(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    c = beta1 * state["m"] + (1 - beta1) * g
    m = beta2 * state["m"] + (1 - beta2) * g
    return p - lr * np.sign(c + weight_decay * p), {"m": m}


def _lion_decay_after_step(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    new_p, new_state = _lion_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, weight_decay=0.0)
    return (1 - lr * weight_decay) * new_p, new_state


def _lion_decay_without_lr(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    new_p, new_state = _lion_reference((1 - weight_decay) * p, g, state, lr=lr, beta1=beta1, beta2=beta2,
                                       weight_decay=0.0)
    return new_p, new_state


def _lion_no_decay(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    return _lion_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, weight_decay=0.0)


def _lion_ascends(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, weight_decay: float
) -> Arrays:
    c = beta1 * state["m"] + (1 - beta1) * g
    m = beta2 * state["m"] + (1 - beta2) * g
    return (1 - lr * weight_decay) * p + lr * np.sign(c), {"m": m}


_C = "c = beta1 * m + (1 - beta1) * g"
_M = "m = beta2 * m + (1 - beta2) * g"
_STEP = "p = (1 - lr * weight_decay) * p - lr * np.sign(c)"

LION_MISTAKES = (
    Mistake("momentum_first", "m updated before the direction, so that c is made from the new m",
            f"take the direction from the old m first, {_C}, step, and only then update the momentum, {_M}.",
            _lion_momentum_first),
    Mistake("betas_swapped", "beta1 and beta2 swapped (c made with beta2, m kept with beta1)",
            f"beta1 mixes the direction, {_C}; beta2 keeps the momentum, {_M}.", _lion_betas_swapped),
    Mistake("no_sign", "a step along c itself, without the sign",
            f"Lion steps by the sign of c: {_STEP}, so every coordinate moves by exactly lr.", _lion_no_sign),
    Mistake("sign_of_gradient", "a step along the sign of g, the momentum left out of the direction",
            f"the direction interpolates the old momentum and the gradient: {_C}, then {_STEP}.",
            _lion_sign_of_gradient),
    Mistake("keeps_c", "c kept as the new momentum, m = c",
            f"c is only the direction; the momentum has its own average with beta2: {_M} (from the old m).",
            _lion_keeps_c),
    Mistake("decay_inside_sign", "the weight decay added to c inside the sign, np.sign(c + weight_decay * p)",
            f"the decay is decoupled: it shrinks the weights outside the sign, {_STEP}.", _lion_decay_inside_sign),
    Mistake("decay_after_step", "the decay applied after the sign step, (1 - lr * weight_decay) * (p - lr * np.sign(c))",
            f"shrink the old weights and subtract the sign step: {_STEP}.", _lion_decay_after_step),
    Mistake("decay_without_lr", "the decay without the learning rate, p = (1 - weight_decay) * p",
            "the paper (and this course) multiplies the decay by lr: p = (1 - lr * weight_decay) * p. "
            "(lion-pytorch's decoupled_weight_decay=True divides weight_decay by the first lr, which at a constant "
            "lr gives your (1 - weight_decay) * p.)", _lion_decay_without_lr),
    Mistake("no_weight_decay", "Lion without the weight decay",
            f"shrink the weights at every step: {_STEP}.", _lion_no_decay),
    Mistake("ascends", "a step uphill, p + lr * np.sign(c)",
            f"subtract the sign step: {_STEP}.", _lion_ascends),
)


# --------------------------------------------------------------------------------------
# Starter code
# --------------------------------------------------------------------------------------

LION_SKELETON = f'''\
import numpy as np


def my_lion_update(p, g, state, *, lr, beta1, beta2, weight_decay):
    """One step of Lion (Chen et al. 2023, Algorithm 2).

        p <- (1 - lr * weight_decay) * p        (decoupled decay, with the old p)
        c <- beta1 * m + (1 - beta1) * g        (the direction, from the old m)
        p <- p - lr * sign(c)
        m <- beta2 * m + (1 - beta2) * g        (the momentum, from the old m)

    p, g and state["m"] are NumPy float64 arrays of the same shape; m starts at 0.
    Use np.sign, which works entry by entry.
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"m": m}}.
    """
    # Your code here.

    return new_p, {{"m": m}}
'''


# --------------------------------------------------------------------------------------
# The exercise
# --------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="lion", title="Lion",
        hyperparameters=("lr", "beta1", "beta2", "weight_decay"),
        # beta1 and beta2 do not overlap, so that swapping them always shows.
        ranges={"lr": _LR, "beta1": Range(0.8, 0.95), "beta2": Range(0.96, 0.999),
                "weight_decay": Range(0.01, 0.5, log=True)},
        fixed={},
        init=lion_init, reference=_lion_reference, state_keys=("m",),
        mistakes=LION_MISTAKES,
        variable_hints={
            "m": f"m is the momentum, a leaky average of the gradients with beta2, from the old m: {_M}.",
            "p": f"shrink the old weights and take the sign step of the direction {_C} (old m): {_STEP}.",
        },
        nan_hint="NaN or inf: Lion's step is lr * np.sign(c), never larger than lr; look for a division.",
        skeleton=LION_SKELETON,
    ),
)
"""The exercise ``lion``."""
