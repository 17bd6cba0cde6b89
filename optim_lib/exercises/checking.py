"""Check a learner's own update rule against optim_lib's, with a hint at the likely mistake.

Usage, in a notebook (Colab included: only NumPy and optim_lib are needed)::

    from optim_lib.exercises import check_update, EXERCISES

    print(EXERCISES["adam"].skeleton)        # a starting point to copy into a cell

    def my_adam_update(p, g, state, *, lr, beta1, beta2, eps):
        ...

    check_update(my_adam_update, "adam")     # shows a CheckResult; never raises for a wrong answer

How the check works. For each of several trials (a parameter of a random shape such as
``(3,)`` or ``(2, 4)``, random gradients, random hyperparameters in the ranges of
:data:`EXERCISES`, all from a fixed seed) the learner's function and the reference rule each
take a few steps from the same start. The learner's function gets the reference's initial
state (from ``adam_init`` and friends) and then, at every later step, the state it returned
itself. After each step the new ``p`` and the exercise's state variables are compared with
the reference's (``rtol = 1e-7``, ``atol = 1e-10``).

On the first difference, the message says which variable, which entry, at which step,
expected versus got, and gives a hint: the same inputs are run through a catalogue of
classic mistakes (:class:`Mistake`: Adam without bias correction, eps inside the square
root, momentum as an average, ...), and if the learner's numbers match one of them the hint
names it and says how to fix it. Otherwise the hint explains the variable that differs.
Exceptions, a wrong return structure, wrong shapes, NaN and inputs changed in place are
reported in words, never as a traceback.

Convention: eps is sampled between 1e-4 and 1e-2 (1e-6 to 1e-3 for Adadelta), larger than
the usual defaults, so that where eps goes (inside or outside the square root) changes the
result by far more than the tolerance; the gradients' sizes vary per entry (0.03 to 3) for
the same reason.
"""

from __future__ import annotations

import html
import inspect
import math
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..rules._checks import check_whole
from ..rules.adadelta import adadelta_init, adadelta_update
from ..rules.adagrad import adagrad_init, adagrad_update
from ..rules.adam import adam_init, adam_update
from ..rules.adamw import adamw_update
from ..rules.rmsprop import rmsprop_init, rmsprop_update
from ..rules.sgd import sgd_init, sgd_update

__all__ = ["check_update", "CheckResult", "EXERCISES", "Exercise", "Mistake", "Range", "RTOL", "ATOL"]

State = dict[str, Any]
UpdateRule = Callable[..., tuple[Any, State]]
"""``f(p, g, state, *, <hyperparameters>) -> (new_p, new_state)``, like optim_lib's rules."""
Arrays = tuple[np.ndarray, State]

RTOL = 1e-7
ATOL = 1e-10
SHAPES: tuple[tuple[int, ...], ...] = ((3,), (2, 4), (5,), (3, 2), (2, 2, 2))
"""The parameter's shape in trial 1, 2, 3, ... (cycled)."""


# --------------------------------------------------------------------------------------
# The pieces of an exercise
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """Where a hyperparameter is sampled: uniform on ``[low, high]``, or log-uniform when
    ``log`` is true. Samples are rounded to 3 significant digits, so that the values a
    message shows are exactly the values used."""

    low: float
    high: float
    log: bool = False

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return float(f"{value:.3g}")


@dataclass(frozen=True)
class Mistake:
    """A classic wrong version of an update rule, used to explain a learner's result.

    The hint reads ``"Your result matches {description}: {fix}"``.
    """

    key: str
    description: str
    fix: str
    update: UpdateRule

    @property
    def hint(self) -> str:
        return f"Your result matches {self.description}: {self.fix}"


@dataclass(frozen=True)
class Exercise:
    """One "implement it yourself" exercise.

    Attributes:
        name: the key in :data:`EXERCISES` (``"adam"``).
        title: the algorithm's name in messages (``"Adam"``).
        hyperparameters: the keyword arguments the learner's function is called with.
        ranges: where each hyperparameter is sampled.
        fixed: hyperparameters with one value, passed only if the learner's function names
            them (Adadelta's ``lr = 1.0``: the paper has no learning rate, torch has one).
        init: the reference's initial state, ``init(p)`` (``adam_init``).
        reference: the optim_lib rule with everything else fixed (``amsgrad=False``, ...),
            taking exactly ``hyperparameters``.
        state_keys: the state variables compared after each step, besides ``p``.
        mistakes: the catalogue of classic mistakes, most specific first.
        variable_hints: a general hint per compared variable (and ``"p"``).
        nan_hint: what NaN, inf or a ZeroDivisionError usually means here.
        skeleton: starter code for the learner.
    """

    name: str
    title: str
    hyperparameters: tuple[str, ...]
    ranges: Mapping[str, Range]
    fixed: Mapping[str, float]
    init: Callable[[np.ndarray], State]
    reference: UpdateRule
    state_keys: tuple[str, ...]
    mistakes: tuple[Mistake, ...]
    variable_hints: Mapping[str, str]
    nan_hint: str
    skeleton: str

    @property
    def compared(self) -> tuple[str, ...]:
        """The variables compared after each step: the state first (in the order the rule
        computes them), then ``p``, which is computed from them."""
        return (*self.state_keys, "p")

    @property
    def state_example(self) -> str:
        """The new state as the learner should return it, e.g. ``{"t": t, "m": m, "v": v}``."""
        return "{" + ", ".join(f'"{key}": {key}' for key in self.state_keys) + "}"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`check_update`; prints as its message.

    Attributes:
        passed: whether the function matched the reference on every trial and step.
        message: what passed, or the first problem explained in words, with a hint.
        algorithm: the exercise's name.
        mistake: the key of the catalogue :class:`Mistake` the function matches, if any.
    """

    passed: bool
    message: str
    algorithm: str
    mistake: str | None = None

    def __str__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else "#c62828"
        return (
            f'<div style="border-left: 4px solid {colour}; padding: 0.2em 0.8em;">'
            f'<pre style="white-space: pre-wrap; margin: 0;">{html.escape(self.message)}</pre>'
            "</div>"
        )


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


def _adagrad_reference(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, eps: float) -> Arrays:
    return adagrad_update(p, g, state, lr=lr, lr_decay=0.0, weight_decay=0.0, eps=eps, maximize=False)


def _rmsprop_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, gamma: float, eps: float
) -> Arrays:
    return rmsprop_update(
        p, g, state, lr=lr, gamma=gamma, eps=eps, weight_decay=0.0, momentum=0.0, centered=False, maximize=False
    )


def _adadelta_reference(p: np.ndarray, g: np.ndarray, state: State, *, rho: float, eps: float) -> Arrays:
    return adadelta_update(p, g, state, lr=1.0, rho=rho, eps=eps, weight_decay=0.0, maximize=False)


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


_EPS_OUTSIDE = (
    "this course follows torch and adds eps outside the root, np.sqrt(s) + eps "
    "(Dive into Deep Learning puts it inside; both work, but they give different numbers)."
)

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

_NOT_IN_PLACE = """\
    Do not change p, g or state in place (no p -= ..., no state[...] = ...): compute
    new arrays."""

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

_LR = Range(0.01, 0.3, log=True)
_MOMENTUM = Range(0.5, 0.95)
_EPS = Range(1e-4, 1e-2, log=True)  # large enough that eps inside or outside the root shows

_DEFAULT_NAN_HINT = (
    "NaN or inf comes from a square root of a negative number (did you square g?) or a division "
    "by zero (is eps in the denominator?)."
)
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

EXERCISES: dict[str, Exercise] = {
    "sgd": Exercise(
        name="sgd", title="Gradient descent",
        hyperparameters=("lr",), ranges={"lr": _LR}, fixed={},
        init=sgd_init, reference=_sgd_reference, state_keys=(),
        mistakes=SGD_MISTAKES,
        variable_hints={"p": "the step is p = p - lr * g, a new array."},
        nan_hint=_DEFAULT_NAN_HINT, skeleton=SGD_SKELETON,
    ),
    "momentum": Exercise(
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
    "nesterov": Exercise(
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
    "adagrad": Exercise(
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
    "rmsprop": Exercise(
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
    "adadelta": Exercise(
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
    "adam": Exercise(
        name="adam", title="Adam",
        hyperparameters=("lr", "beta1", "beta2", "eps"),
        # beta1 and beta2 do not overlap, so that swapping them always shows.
        ranges={"lr": _LR, "beta1": Range(0.6, 0.9), "beta2": Range(0.91, 0.999), "eps": _EPS}, fixed={},
        init=adam_init, reference=_adam_reference, state_keys=("t", "m", "v"),
        mistakes=ADAM_MISTAKES, variable_hints=_ADAM_HINTS,
        nan_hint=_ADAM_NAN_HINT, skeleton=ADAM_SKELETON,
    ),
    "adamw": Exercise(
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
}
"""The exercises by name: ``sgd``, ``momentum``, ``nesterov``, ``adagrad``, ``rmsprop``,
``adadelta``, ``adam``, ``adamw``."""


# --------------------------------------------------------------------------------------
# Running a rule on a trial
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trial:
    """One trial's inputs: the start, one gradient per step, the hyperparameters."""

    number: int
    p0: np.ndarray
    gradients: tuple[np.ndarray, ...]
    hyperparameters: dict[str, float]

    def describe(self) -> str:
        values = ", ".join(f"{name}={value:g}" for name, value in self.hyperparameters.items())
        return f"p of shape {self.p0.shape}; {values}"


@dataclass(frozen=True)
class _Step:
    """A rule's output after one step: ``p`` and the compared state variables, as float arrays."""

    values: dict[str, np.ndarray]


def _make_trial(exercise: Exercise, number: int, steps: int, rng: np.random.Generator) -> _Trial:
    shape = SHAPES[(number - 1) % len(SHAPES)]
    p0 = rng.normal(size=shape)
    size_per_entry = 10 ** rng.uniform(-1.5, 0.5, size=shape)  # gradients from about 0.03 to 3
    gradients = tuple(size_per_entry * rng.normal(size=shape) for _ in range(steps))
    hyperparameters = {name: exercise.ranges[name].sample(rng) for name in exercise.hyperparameters}
    return _Trial(number, p0, gradients, hyperparameters)


def _copy_state(state: State) -> State:
    return {key: np.copy(value) if isinstance(value, np.ndarray) else value for key, value in state.items()}


def _run_rule(rule: UpdateRule, exercise: Exercise, trial: _Trial) -> list[_Step]:
    """The steps of a trusted rule (the reference or a catalogue mistake); a mistake that
    raises simply stops early."""
    p = trial.p0.copy()
    state = exercise.init(p)
    steps = []
    with np.errstate(all="ignore"):
        for g in trial.gradients:
            try:
                p, state = rule(p, g.copy(), _copy_state(state), **trial.hyperparameters)
            except (ArithmeticError, ValueError):
                break
            values = {key: np.asarray(state[key], dtype=float) for key in exercise.state_keys}
            values["p"] = np.asarray(p, dtype=float)
            steps.append(_Step(values))
    return steps


@dataclass(frozen=True)
class _Problem:
    """Something other than a wrong number: an exception, a wrong structure, a mutation."""

    step: int
    text: str
    hint: str = ""


@dataclass(frozen=True)
class _LearnerRun:
    steps: list[_Step]
    problem: _Problem | None


def _accepts_keyword(update: Callable[..., Any], name: str) -> bool:
    try:
        parameters = inspect.signature(update).parameters
    except (TypeError, ValueError):
        return False
    parameter = parameters.get(name)
    return parameter is not None and parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)


def _learner_arguments(update: Callable[..., Any], exercise: Exercise, trial: _Trial) -> dict[str, float]:
    arguments = dict(trial.hyperparameters)
    for name, value in exercise.fixed.items():
        if _accepts_keyword(update, name):
            arguments[name] = value
    return arguments


def _run_learner(update: Callable[..., Any], exercise: Exercise, trial: _Trial) -> _LearnerRun:
    """The learner's steps from the reference's initial state, feeding back its own returned
    ``p`` and state; stops at the first exception, wrong structure or changed input."""
    arguments = _learner_arguments(update, exercise, trial)
    p: Any = trial.p0.copy()
    state: Any = exercise.init(trial.p0.copy())
    steps: list[_Step] = []
    for step, gradient in enumerate(trial.gradients, start=1):
        g = gradient.copy()
        before = _Snapshot.take(p, g, state)
        try:
            with np.errstate(all="ignore"):
                returned = update(p, g, state, **arguments)
        except Exception as error:  # the learner's code: any error is reported, not raised
            return _LearnerRun(steps, _describe_exception(error, update, exercise, step, arguments))
        changed = before.changes(p, g, state)
        if changed:
            return _LearnerRun(steps, _Problem(step, changed, _not_in_place_hint(exercise)))
        parsed = _parse_returned(returned, exercise, trial.p0.shape, step)
        if isinstance(parsed, _Problem):
            return _LearnerRun(steps, parsed)
        step_values, p, state = parsed
        steps.append(step_values)
    return _LearnerRun(steps, None)


# --------------------------------------------------------------------------------------
# What the learner's function did wrong, in words
# --------------------------------------------------------------------------------------


def _not_in_place_hint(exercise: Exercise) -> str:
    """How to write the rule without changing its inputs, in the exercise's own names."""
    if not exercise.state_keys:
        return (
            "optim_lib's rules never change their inputs: compute a new array, new_p = p - lr * g "
            "(not p -= lr * g), and return the state as it came."
        )
    key = exercise.state_keys[-1]
    return (
        f"optim_lib's rules never change their inputs: compute new arrays (new_p = p - ..., not p -= ...; "
        f"{key} = ... * {key} + ..., not {key} *= ...) and return a new dict, {exercise.state_example}, "
        f'instead of assigning state["{key}"] = {key}.'
    )


@dataclass(frozen=True)
class _Snapshot:
    """Copies of the inputs before the call, and the state's objects, to see what changed."""

    p: np.ndarray
    g: np.ndarray
    state_objects: dict[str, Any]
    state_values: dict[str, Any]

    @staticmethod
    def take(p: Any, g: np.ndarray, state: State) -> _Snapshot:
        return _Snapshot(np.array(p, copy=True), g.copy(), dict(state), _copy_state(state))

    def changes(self, p: Any, g: np.ndarray, state: State) -> str | None:
        """Which input the call changed, in a sentence, or ``None``."""
        for name, now, before in (("p", np.asarray(p), self.p), ("g", np.asarray(g), self.g)):
            if now.shape != before.shape:
                return (
                    f"Your function changed the input {name} in place: "
                    f"its shape went from {before.shape} to {now.shape}."
                )
            entry = _first_changed_entry(now, before)
            if entry is not None:
                index, old, new = entry
                return (
                    f"Your function changed the input {name} in place: "
                    f"{name}{_format_index(index)} was {old:.10g}, is now {new:.10g}."
                )
        added = [key for key in state if key not in self.state_objects]
        removed = [key for key in self.state_objects if key not in state]
        assigned = [key for key in self.state_objects if key in state and state[key] is not self.state_objects[key]]
        if added or removed or assigned:
            actions = [f"{verb} " + ", ".join(f'state["{key}"]' for key in keys)
                       for verb, keys in (("assigned", assigned), ("added", added), ("deleted", removed)) if keys]
            return "Your function changed the input state in place: it " + " and ".join(actions) + "."
        for key, before in self.state_values.items():
            if isinstance(before, np.ndarray) and _first_changed_entry(np.asarray(state[key]), before) is not None:
                return f'Your function changed the input array state["{key}"] in place (with +=, *= or similar).'
        return None


def _first_changed_entry(now: np.ndarray, before: np.ndarray) -> tuple[tuple[int, ...], float, float] | None:
    """The first entry that differs (NaN equal to NaN), with its old and new value; a change of
    shape counts as a change of the first entry."""
    if now.shape != before.shape:
        return (), math.nan, math.nan
    changed = ~((now == before) | (np.isnan(now) & np.isnan(before)))
    if not changed.any():
        return None
    index = tuple(int(i) for i in np.argwhere(changed)[0])
    return index, float(before[index]), float(now[index])


def _describe_exception(
    error: Exception, update: Callable[..., Any], exercise: Exercise, step: int, arguments: dict[str, float]
) -> _Problem:
    frames = traceback.extract_tb(error.__traceback__)[1:]  # drop the checker's own call
    text = f"Your function raised {type(error).__name__}: {error}"
    if not frames and isinstance(error, TypeError):
        call = ", ".join(f"{name}=..." for name in arguments)
        signature = ", ".join(exercise.hyperparameters)
        return _Problem(
            step,
            f"{text}\nThe checker calls your function as f(p, g, state, {call}).",
            f"define it with exactly these arguments: def my_{exercise.name}_update(p, g, state, *, {signature}):",
        )
    own_code = getattr(getattr(update, "__code__", None), "co_filename", None)
    in_own_code = [frame for frame in frames if frame.filename == own_code] or frames
    if in_own_code:
        frame = in_own_code[-1]
        text += f"\n  at line {frame.lineno}" + (f": {frame.line.strip()}" if frame.line else "")
    if isinstance(error, (ZeroDivisionError, FloatingPointError)):
        hint = exercise.nan_hint
    elif isinstance(error, NameError):
        hint = (
            "a name is used before it is given a value (or is misspelt): "
            "compute each variable before the line that uses it."
        )
    elif isinstance(error, KeyError):
        keys = ", ".join(f'"{key}"' for key in exercise.init(np.zeros(1)))
        hint = f"the state you are given has the keys {keys}."
    else:
        hint = ""
    return _Problem(step, text, hint)


def _describe_type(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"an object of type {type(value).__name__}"


def _as_floats(value: Any) -> np.ndarray | None:
    """A float copy of ``value`` (a copy, so that later steps cannot change it), or ``None``."""
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None


def _parse_returned(
    returned: Any, exercise: Exercise, shape: tuple[int, ...], step: int
) -> tuple[_Step, Any, State] | _Problem:
    """The learner's ``(new_p, new_state)`` checked for structure and shapes, as a step's
    values plus what to feed back; or the problem, in words."""
    example = f"return new_p, {exercise.state_example}"
    if returned is None:
        return _Problem(step, "Your function returned None.", f"end it with {example}.")
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        hint = f"return a pair, the new p and the new state: {example}."
        if isinstance(returned, np.ndarray):
            hint = f"did you forget to return the state? {example}."
        return _Problem(
            step, f"Your function should return a pair (new_p, new_state), but returned {_describe_type(returned)}.",
            hint,
        )
    new_p, new_state = returned
    if not isinstance(new_state, dict):
        return _Problem(
            step,
            f"The second item you returned should be the new state, a dict, but it is {_describe_type(new_state)}.",
            f"{example}.",
        )
    missing = [key for key in exercise.state_keys if key not in new_state]
    if missing:
        names = ", ".join(f'"{key}"' for key in missing)
        has = ", ".join(f'"{key}"' for key in new_state) or "none"
        return _Problem(
            step, f"The state you returned has no {names} (its keys: {has}).",
            f"return every state variable: {example}.",
        )
    values: dict[str, np.ndarray] = {}
    for key in (*exercise.state_keys, "p"):
        value = new_p if key == "p" else new_state[key]
        name = "the new p" if key == "p" else f'state["{key}"]'
        array = _as_floats(value)
        if array is None:
            return _Problem(
                step, f"{name} you returned is not a number or an array of numbers: it is {_describe_type(value)}."
            )
        expected_shape = () if key == "t" else shape
        if array.shape != expected_shape:
            what = "a single number" if key == "t" else f"shape {expected_shape}, the shape of p"
            return _Problem(
                step, f"{name} you returned has shape {array.shape}, but it should have {what}.",
                "every operation here is entry by entry: look for a sum, a mean, an indexing or a "
                "broadcast that changes the shape.",
            )
        values[key] = array
    # Feed back a copy of p, so that the stored step stays as it was even if the next call
    # changes its input p (which is then reported).
    return _Step(values), values["p"].copy(), new_state


@dataclass(frozen=True)
class _Difference:
    """The first entry of one variable that differs from the reference."""

    variable: str
    index: tuple[int, ...]
    expected: float
    got: float
    count: int
    size: int

    def describe(self) -> str:
        where = f"{self.variable}{_format_index(self.index)}"
        text = f"{where}: expected {self.expected:.10g}, got {self.got:.10g}"
        if self.size > 1:
            text += f"  ({self.count} of {self.size} entries of {self.variable} differ)"
        return text


def _format_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]" if index else ""


def _difference(variable: str, expected: np.ndarray, got: np.ndarray) -> _Difference | None:
    close = np.isclose(got, expected, rtol=RTOL, atol=ATOL)
    if close.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    return _Difference(variable, index, float(expected[index]), float(got[index]), int((~close).sum()), close.size)


def _steps_match(expected: list[_Step], got: list[_Step]) -> bool:
    """Whether every step the learner took matches ``expected`` (NaN matching NaN)."""
    if len(expected) < len(got):
        return False
    return all(
        np.allclose(got_step.values[key], expected_step.values[key], rtol=RTOL, atol=ATOL, equal_nan=True)
        for expected_step, got_step in zip(expected, got)
        for key in got_step.values
    )


def _matching_mistake(exercise: Exercise, trial: _Trial, learner_steps: list[_Step]) -> Mistake | None:
    for mistake in exercise.mistakes:
        if _steps_match(_run_rule(mistake.update, exercise, trial), learner_steps):
            return mistake
    return None


def _mismatch_result(
    exercise: Exercise, trial: _Trial, trials: int, step: int, differences: list[_Difference],
    learner_steps: list[_Step],
) -> CheckResult:
    first = differences[0]
    lines = [
        f"✗ {exercise.title}: not yet.",
        "",
        f"Trial {trial.number} of {trials}, step {step} of {len(trial.gradients)} ({trial.describe()}):",
        f"  {first.describe()}",
    ]
    others = [difference.variable for difference in differences[1:]]
    right = [key for key in exercise.compared if key not in {d.variable for d in differences}]
    if others:
        lines.append(f"  Also different at this step: {', '.join(others)}.")
    if right:
        lines.append(f"  Right at this step: {', '.join(right)}.")
    lines.append("")
    mistake = _matching_mistake(exercise, trial, learner_steps)
    if mistake is not None:
        lines.append(f"Hint: {mistake.hint}")
    else:
        if not all(np.isfinite(array).all() for array in learner_steps[step - 1].values.values()):
            lines.append(f"Hint: {exercise.nan_hint}")
        lines.append(f"Hint for {first.variable}: {exercise.variable_hints[first.variable]}")
    return CheckResult(False, "\n".join(lines), exercise.name, mistake.key if mistake else None)


def _problem_result(exercise: Exercise, trial: _Trial, trials: int, problem: _Problem) -> CheckResult:
    lines = [
        f"✗ {exercise.title}: not yet.",
        "",
        f"Trial {trial.number} of {trials}, step {problem.step} of {len(trial.gradients)} ({trial.describe()}):",
        *(f"  {line}" for line in problem.text.splitlines()),
    ]
    if problem.hint:
        lines += ["", f"Hint: {problem.hint}"]
    return CheckResult(False, "\n".join(lines), exercise.name)


# --------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------


def check_update(
    update: Callable[..., Any], algorithm: str, *, trials: int = 5, steps: int = 6, seed: int = 0
) -> CheckResult:
    """Check ``update(p, g, state, **hyperparameters) -> (new_p, new_state)`` against
    optim_lib's rule for ``algorithm`` (a key of :data:`EXERCISES`).

    Runs ``trials`` random trials (seeded, so every run checks the same cases) of ``steps``
    steps each and compares ``p`` and the exercise's state variables after every step.
    Never raises for a wrong answer: a wrong number, an exception, a wrong return
    structure, a wrong shape, NaN or an input changed in place all come back as a failed
    :class:`CheckResult` whose message says what happened, where, and what to try.

    Raises:
        ValueError: ``algorithm`` is not an exercise's name (a mistake in the notebook, not
            in the learner's answer).
    """
    if algorithm not in EXERCISES:
        raise ValueError(f"algorithm must be one of {', '.join(EXERCISES)}; got {algorithm!r}")
    check_whole("trials", trials, 1)
    check_whole("steps", steps, 1)
    exercise = EXERCISES[algorithm]
    if not callable(update):
        return CheckResult(
            False,
            f"✗ {exercise.title}: not yet.\n\ncheck_update needs your function itself, e.g. "
            f"check_update(my_{exercise.name}_update, {algorithm!r}); got {_describe_type(update)}.",
            exercise.name,
        )
    rng = np.random.default_rng(seed)
    for number in range(1, trials + 1):
        trial = _make_trial(exercise, number, steps, rng)
        expected = _run_rule(exercise.reference, exercise, trial)
        learner = _run_learner(update, exercise, trial)
        for step, (expected_step, got_step) in enumerate(zip(expected, learner.steps), start=1):
            differences = [
                difference for key in exercise.compared
                if (difference := _difference(key, expected_step.values[key], got_step.values[key])) is not None
            ]
            if differences:
                return _mismatch_result(exercise, trial, trials, step, differences, learner.steps)
        if learner.problem is not None:
            return _problem_result(exercise, trial, trials, learner.problem)
    shapes = ", ".join(str(SHAPES[(number - 1) % len(SHAPES)]) for number in range(1, trials + 1))
    compared = ", ".join(exercise.compared)
    message = (
        f"✓ {exercise.title}: correct. Your update matches optim_lib's on {trials} random trials of "
        f"{steps} steps each (shapes {shapes}; compared {compared} after every step, "
        f"rtol {RTOL:g}, atol {ATOL:g})."
    )
    return CheckResult(True, message, exercise.name)
