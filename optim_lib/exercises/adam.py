"""The exercises of chapters 7 and 8: Adam and AdamW.

For each: the reference (optim_lib's rule with everything else fixed), the catalogue of classic
mistakes, the starter code and the :class:`~optim_lib.exercises.checking.Exercise`. AdamW's
catalogue reuses Adam's: each Adam mistake has its AdamW twin.
"""

from __future__ import annotations

import math

import numpy as np

from ..rules.adam import adam_init, adam_update
from ..rules.adamw import adamw_update
from .checking import _EPS, _LR, _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State, UpdateRule


# --------------------------------------------------------------------------------------
# References: optim_lib's rules with the exercise's signature
# --------------------------------------------------------------------------------------


def _adam_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    return adam_update(
        p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=0.0, amsgrad=False, maximize=False
    )


def _adamw_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    weight_decay: float,
) -> Arrays:
    return adamw_update(
        p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=False,
        maximize=False,
    )


# --------------------------------------------------------------------------------------
# The catalogue of classic mistakes, one small function each
# --------------------------------------------------------------------------------------

# Adam: t <- t + 1;  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g**2;
#       m_hat <- m / (1 - beta1**t);  v_hat <- v / (1 - beta2**t);
#       p <- p - lr * m_hat / (sqrt(v_hat) + eps)


def _adam_no_bias_correction(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    return p - lr * m / (np.sqrt(v) + eps), {"t": t, "m": m, "v": v}


def _adam_eps_inside(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / np.sqrt(v_hat + eps), {"t": t, "m": m, "v": v}


def _adam_eps_before_bias_correction(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    lr_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    return p - lr_t * m / (np.sqrt(v) + eps), {"t": t, "m": m, "v": v}


def _adam_t_never_incremented(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"]
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat = m / np.float64(1 - beta1**t)  # NumPy division: 0 gives inf and then NaN, as in the learner's code
    v_hat = v / np.float64(1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def _adam_t_not_returned(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": state["t"], "m": m, "v": v}


def _adam_bias_correction_with_old_t(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat = m / np.float64(1 - beta1 ** (t - 1))
    v_hat = v / np.float64(1 - beta2 ** (t - 1))
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def _adam_betas_swapped(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta2 * state["m"] + (1 - beta2) * g
    v = beta1 * state["v"] + (1 - beta1) * g * g
    m_hat = m / (1 - beta2**t)
    v_hat = v / (1 - beta1**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def _adam_weights_swapped(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = (1 - beta1) * state["m"] + beta1 * g
    v = (1 - beta2) * state["v"] + beta2 * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def _adam_v_without_square(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def _adam_no_sqrt(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (v_hat + eps), {"t": t, "m": m, "v": v}


def _adam_old_moments(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m_hat = state["m"] / (1 - beta1**t)
    v_hat = state["v"] / (1 - beta2**t)
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def _adam_ascends(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p + lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


_BIAS_CORRECTION = (
    "divide m by (1 - beta1**t) and v by (1 - beta2**t) before the step: m_hat = m / (1 - beta1**t), "
    "v_hat = v / (1 - beta2**t), then p = p - lr * m_hat / (np.sqrt(v_hat) + eps)."
)
_ADAM_EPS_INSIDE = (
    "add eps outside the root, as the paper and torch do: p = p - lr * m_hat / (np.sqrt(v_hat) + eps)."
)
_ADAM_EPS_AFTER_CORRECTION = (
    "that is the paper's 'efficient' form, with eps added to np.sqrt(v) before the correction. "
    "This course, like torch, adds it after: p = p - lr * m_hat / (np.sqrt(v_hat) + eps), "
    "with m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t)."
)
_T_NEVER_INCREMENTED = (
    'start with t = state["t"] + 1, use this t in 1 - beta1**t and 1 - beta2**t, and return it in the new state.'
)
_T_NOT_RETURNED = (
    'return the incremented t in the new state, {"t": t, "m": m, "v": v} with t = state["t"] + 1.'
)
_OLD_T = (
    'increment t first, t = state["t"] + 1, and use that t in the bias correction: '
    "1 - beta1**t and 1 - beta2**t (at the first step t = 1)."
)
_BETAS_SWAPPED = "m = beta1 * m + (1 - beta1) * g and v = beta2 * v + (1 - beta2) * g**2."
_WEIGHTS_SWAPPED = (
    "beta is the weight of the old average: m = beta1 * m + (1 - beta1) * g and v = beta2 * v + (1 - beta2) * g**2."
)
_V_SQUARED = "v averages the squared gradients: v = beta2 * v + (1 - beta2) * g**2."
_ADAM_SQRT = "divide by the root: p = p - lr * m_hat / (np.sqrt(v_hat) + eps)."
_NEW_MOMENTS = "update m and v first, then bias-correct and step with the new ones."

ADAM_MISTAKES = (
    Mistake("no_bias_correction", "Adam without bias correction", _BIAS_CORRECTION, _adam_no_bias_correction),
    Mistake("eps_inside", "Adam with eps inside the square root instead of outside, np.sqrt(v_hat + eps)",
            _ADAM_EPS_INSIDE, _adam_eps_inside),
    Mistake("eps_before_bias_correction",
            "eps added before the bias correction, "
            "lr * np.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps)",
            _ADAM_EPS_AFTER_CORRECTION, _adam_eps_before_bias_correction),
    Mistake("t_never_incremented",
            "a step count t that is never incremented (t stays 0, so 1 - beta1**t is 0 and the bias correction "
            "divides by zero)", _T_NEVER_INCREMENTED, _adam_t_never_incremented),
    Mistake("t_not_returned",
            "t + 1 used in the bias correction but the old t returned, so every step is corrected as if it "
            "were the first", _T_NOT_RETURNED, _adam_t_not_returned),
    Mistake("bias_correction_with_old_t",
            "the bias correction with the old step count (t - 1), which divides by zero at the first step",
            _OLD_T, _adam_bias_correction_with_old_t),
    Mistake("betas_swapped", "beta1 and beta2 swapped (m decays with beta2, v with beta1)",
            _BETAS_SWAPPED, _adam_betas_swapped),
    Mistake("weights_swapped", "beta and 1 - beta swapped in the averages, m = (1 - beta1) * m + beta1 * g",
            _WEIGHTS_SWAPPED, _adam_weights_swapped),
    Mistake("v_without_square", "v averaging g instead of g**2", _V_SQUARED, _adam_v_without_square),
    Mistake("no_sqrt", "a step divided by v_hat instead of its square root", _ADAM_SQRT, _adam_no_sqrt),
    Mistake("old_moments", "a step with the old m and v (taken before they are updated)",
            _NEW_MOMENTS, _adam_old_moments),
    Mistake("ascends", "a step uphill, p + lr * m_hat / (np.sqrt(v_hat) + eps)",
            "subtract the step: p = p - lr * m_hat / (np.sqrt(v_hat) + eps).", _adam_ascends),
)

# AdamW: p <- (1 - lr * weight_decay) * p, then Adam's step with the plain g.


def _with_decoupled_decay(adam_rule: UpdateRule) -> UpdateRule:
    """AdamW made from an Adam rule the way optim_lib makes it: shrink the weights, then the
    Adam step (so each Adam mistake has its AdamW twin)."""

    def update(
        p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
        weight_decay: float,
    ) -> Arrays:
        p = (1 - lr * weight_decay) * p
        return adam_rule(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)

    return update


def _adamw_coupled(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    weight_decay: float,
) -> Arrays:
    g = g + weight_decay * p
    return _adam_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


def _adamw_decay_after_step(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    weight_decay: float,
) -> Arrays:
    p, new_state = _adam_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return (1 - lr * weight_decay) * p, new_state


def _adamw_decay_without_lr(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    weight_decay: float,
) -> Arrays:
    p = (1 - weight_decay) * p
    return _adam_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


def _adamw_no_decay(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    weight_decay: float,
) -> Arrays:
    return _adam_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)


ADAMW_MISTAKES = (
    Mistake("coupled_weight_decay",
            "AdamW with the weight decay coupled instead of decoupled (added to the gradient, "
            "g + weight_decay * p, which is L2 regularization, Adam's weight_decay)",
            "AdamW decouples the decay: shrink the weights, p = (1 - lr * weight_decay) * p, and take Adam's step "
            "with the plain g, so m and v never see the decay.", _adamw_coupled),
    Mistake("decay_after_step", "the decay applied after Adam's step, (1 - lr * weight_decay) * (p - lr * step)",
            "shrink the old weights and subtract Adam's step: "
            "p = (1 - lr * weight_decay) * p - lr * m_hat / (np.sqrt(v_hat) + eps).", _adamw_decay_after_step),
    Mistake("decay_without_lr", "the decay without the learning rate, p = (1 - weight_decay) * p",
            "torch (and this course) scales the decay by lr: p = (1 - lr * weight_decay) * p.",
            _adamw_decay_without_lr),
    Mistake("no_weight_decay", "plain Adam, without the weight decay",
            "shrink the weights at every step, p = (1 - lr * weight_decay) * p, then take Adam's step.",
            _adamw_no_decay),
    Mistake("no_bias_correction", "AdamW without bias correction", _BIAS_CORRECTION,
            _with_decoupled_decay(_adam_no_bias_correction)),
    Mistake("eps_inside", "AdamW with eps inside the square root instead of outside, np.sqrt(v_hat + eps)",
            _ADAM_EPS_INSIDE,
            _with_decoupled_decay(_adam_eps_inside)),
    Mistake("eps_before_bias_correction",
            "eps added before the bias correction, "
            "lr * np.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps)",
            _ADAM_EPS_AFTER_CORRECTION, _with_decoupled_decay(_adam_eps_before_bias_correction)),
    Mistake("t_never_incremented",
            "a step count t that is never incremented (t stays 0, so 1 - beta1**t is 0 and the bias correction "
            "divides by zero)", _T_NEVER_INCREMENTED, _with_decoupled_decay(_adam_t_never_incremented)),
    Mistake("t_not_returned",
            "t + 1 used in the bias correction but the old t returned, so every step is corrected as if it "
            "were the first", _T_NOT_RETURNED, _with_decoupled_decay(_adam_t_not_returned)),
    Mistake("bias_correction_with_old_t",
            "the bias correction with the old step count (t - 1), which divides by zero at the first step",
            _OLD_T, _with_decoupled_decay(_adam_bias_correction_with_old_t)),
    Mistake("betas_swapped", "beta1 and beta2 swapped (m decays with beta2, v with beta1)",
            _BETAS_SWAPPED, _with_decoupled_decay(_adam_betas_swapped)),
    Mistake("weights_swapped", "beta and 1 - beta swapped in the averages, m = (1 - beta1) * m + beta1 * g",
            _WEIGHTS_SWAPPED, _with_decoupled_decay(_adam_weights_swapped)),
    Mistake("v_without_square", "v averaging g instead of g**2", _V_SQUARED,
            _with_decoupled_decay(_adam_v_without_square)),
    Mistake("no_sqrt", "a step divided by v_hat instead of its square root", _ADAM_SQRT,
            _with_decoupled_decay(_adam_no_sqrt)),
    Mistake("old_moments", "a step with the old m and v (taken before they are updated)",
            _NEW_MOMENTS, _with_decoupled_decay(_adam_old_moments)),
    Mistake("ascends", "a step uphill, p + lr * m_hat / (np.sqrt(v_hat) + eps)",
            "subtract Adam's step: p = (1 - lr * weight_decay) * p - lr * m_hat / (np.sqrt(v_hat) + eps).",
            _with_decoupled_decay(_adam_ascends)),
)


# --------------------------------------------------------------------------------------
# Starter code
# --------------------------------------------------------------------------------------

ADAM_SKELETON = f'''\
import numpy as np


def my_adam_update(p, g, state, *, lr, beta1, beta2, eps):
    """One step of Adam.

        t     <- t + 1
        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        m_hat <- m / (1 - beta1**t)
        v_hat <- v / (1 - beta2**t)
        p     <- p - lr * m_hat / (sqrt(v_hat) + eps)

    p, g, state["m"] and state["v"] are NumPy float64 arrays of the same shape; both start
    at 0. state["t"] is the number of steps taken so far (0 before the first step).
    Use np.sqrt for the square root. (state also holds "v_max", for AMSGrad, not needed here.)
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"t": t, "m": m, "v": v}}.
    """
    # Your code here.

    return new_p, {{"t": t, "m": m, "v": v}}
'''

ADAMW_SKELETON = f'''\
import numpy as np


def my_adamw_update(p, g, state, *, lr, beta1, beta2, eps, weight_decay):
    """One step of AdamW: decoupled weight decay, then Adam's step with the plain g.

        p     <- (1 - lr * weight_decay) * p
        t     <- t + 1
        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        m_hat <- m / (1 - beta1**t)
        v_hat <- v / (1 - beta2**t)
        p     <- p - lr * m_hat / (sqrt(v_hat) + eps)

    p, g, state["m"] and state["v"] are NumPy float64 arrays of the same shape; both start
    at 0. state["t"] is the number of steps taken so far (0 before the first step).
    Use np.sqrt for the square root. (state also holds "v_max", for AMSGrad, not needed here.)
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"t": t, "m": m, "v": v}}.
    """
    # Your code here.

    return new_p, {{"t": t, "m": m, "v": v}}
'''


# --------------------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------------------

_ADAM_NAN_HINT = (
    "NaN, inf or a ZeroDivisionError come from a division by zero or a square root of a negative number. "
    'At the first step, the bias correction divides by zero if t is still 0 (1 - beta1**0 is 0): increment '
    't first, t = state["t"] + 1. A negative v comes from averaging g instead of g**2.'
)

_ADAM_HINTS = {
    "t": 't counts the steps: t = state["t"] + 1, returned in the new state (t is 1 after the first step).',
    "m": "m is the leaky average of the gradients, from the old m in state: m = beta1 * m + (1 - beta1) * g.",
    "v": "v is the leaky average of the squared gradients, from the old v in state: "
         "v = beta2 * v + (1 - beta2) * g**2.",
    "p": "the step uses this step's m and v, bias-corrected with this step's t: "
         "p = p - lr * m_hat / (np.sqrt(v_hat) + eps), with m_hat = m / (1 - beta1**t) and "
         "v_hat = v / (1 - beta2**t). Check the order: update m and v before using them.",
}

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="adam", title="Adam",
        hyperparameters=("lr", "beta1", "beta2", "eps"),
        # beta1 and beta2 do not overlap, so that swapping them always shows.
        ranges={"lr": _LR, "beta1": Range(0.6, 0.9), "beta2": Range(0.91, 0.999), "eps": _EPS}, fixed={},
        init=adam_init, reference=_adam_reference, state_keys=("t", "m", "v"),
        mistakes=ADAM_MISTAKES, variable_hints=_ADAM_HINTS,
        nan_hint=_ADAM_NAN_HINT, skeleton=ADAM_SKELETON,
    ),
    Exercise(
        name="adamw", title="AdamW",
        hyperparameters=("lr", "beta1", "beta2", "eps", "weight_decay"),
        ranges={
            "lr": _LR, "beta1": Range(0.6, 0.9), "beta2": Range(0.91, 0.999), "eps": _EPS,
            "weight_decay": Range(0.01, 0.3, log=True),
        },
        fixed={},
        init=adam_init, reference=_adamw_reference, state_keys=("t", "m", "v"),
        mistakes=ADAMW_MISTAKES,
        variable_hints={
            **_ADAM_HINTS,
            "m": _ADAM_HINTS["m"] + " The weight decay does not enter m: use the plain g.",
            "p": "AdamW shrinks the weights and takes Adam's step: "
                 "p = (1 - lr * weight_decay) * p - lr * m_hat / (np.sqrt(v_hat) + eps), with "
                 "m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t) of this step.",
        },
        nan_hint=_ADAM_NAN_HINT, skeleton=ADAMW_SKELETON,
    ),
)
"""The exercises ``adam`` and ``adamw``."""
