"""The exercise of chapter 16: schedule-free AdamW.

The learner writes the paper's form, with the three sequences: ``z`` (the Adam-scaled
gradient steps), ``x`` (their weighted average, kept in the state) and ``y`` (between them,
where the next gradient is taken, returned as the new ``p``). The reference is optim_lib's
rule, which stores only ``y`` and ``z`` and updates ``y`` in one line; its ``x`` comes from
:func:`~optim_lib.rules.schedule_free.schedule_free_x`. The catalogue of classic mistakes, the
starter code and the :class:`~optim_lib.exercises.checking.Exercise` follow.
"""

from __future__ import annotations

import numpy as np

from ..rules.schedule_free import adamw_schedule_free_update, schedule_free_x
from .checking import _EPS, _LR, _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State

# --------------------------------------------------------------------------------------
# The reference: optim_lib's rule with the exercise's signature, and x in the state
# --------------------------------------------------------------------------------------


def schedule_free_init(p: np.ndarray) -> State:
    """``t = 0``; ``z`` and ``x`` at the start point (the gradient point ``y`` is ``p``); ``v``
    at 0; the largest learning rate so far and the sum of the weights, both 0."""
    return {"t": 0, "lr_max": 0.0, "weight_sum": 0.0, "v": np.zeros_like(p), "z": p.copy(), "x": p.copy()}


def _schedule_free_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    weight_decay: float, warmup_steps: int, r: float, weight_lr_power: float,
) -> Arrays:
    rule_state = {key: state[key] for key in ("t", "z", "v", "lr_max", "weight_sum")}
    y, new_state = adamw_schedule_free_update(
        p, g, rule_state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
        warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power,
    )
    return y, {**new_state, "x": schedule_free_x(y, new_state["z"], beta1)}


# --------------------------------------------------------------------------------------
# The catalogue of classic mistakes: the three-sequence form with one thing wrong
# --------------------------------------------------------------------------------------


def _three_sequences(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    weight_decay: float, warmup_steps: int, r: float, weight_lr_power: float,
    warmups: int = 1, plain_average: bool = False, weights_with_lr: bool = False, decay_at: str = "y",
    bias_correction: bool = True, x_with_old_z: bool = False, swapped: bool = False, return_x: bool = False,
) -> Arrays:
    """The paper's form, written out; each keyword turns one thing wrong."""
    y, z, x = p, state["z"], state["x"]
    t = state["t"] + 1
    lr_t = lr * (t / warmup_steps if t <= warmup_steps else 1.0) ** warmups
    lr_max = max(state["lr_max"], lr_t)
    weight = t**r * (lr if weights_with_lr else lr_max) ** weight_lr_power
    weight_sum = state["weight_sum"] + weight
    c = 1 / t if plain_average else weight / weight_sum
    v = beta2 * state["v"] + (1 - beta2) * g * g
    g_hat = g / (np.sqrt(v / (1 - beta2**t) if bias_correction else v) + eps)
    g_hat = g_hat + weight_decay * {"y": y, "z": z, "x": x}[decay_at]
    new_z = z - lr_t * g_hat
    x = (1 - c) * x + c * (z if x_with_old_z else new_z)
    y = beta1 * new_z + (1 - beta1) * x if swapped else (1 - beta1) * new_z + beta1 * x
    new_state = {"t": t, "lr_max": lr_max, "weight_sum": weight_sum, "v": v, "z": new_z, "x": x}
    return (x if return_x else y), new_state


def _steps_at_x(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, return_x=True)


def _plain_average(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, plain_average=True)


def _warmup_twice(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, warmups=2)


def _weights_without_warmup(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, weights_with_lr=True)


def _decay_at_z(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, decay_at="z")


def _decay_at_x(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, decay_at="x")


def _interpolation_swapped(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, swapped=True)


def _x_with_old_z(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, x_with_old_z=True)


def _no_bias_correction(p: np.ndarray, g: np.ndarray, state: State, **hyperparameters: float) -> Arrays:
    return _three_sequences(p, g, state, **hyperparameters, bias_correction=False)


_Y = "y = (1 - beta1) * z + beta1 * x"
_X = "x = (1 - c) * x + c * z"
_C = "c = weight / weight_sum, with weight = t**r * lr_max**weight_lr_power"
_G = "g_hat = g / (np.sqrt(v / (1 - beta2**t)) + eps) + weight_decay * p"

SCHEDULE_FREE_MISTAKES = (
    Mistake("steps_at_x", "the average x returned as the new p, so that the next gradient is taken at x",
            f"x is the point to evaluate (what eval() puts in the parameters); the gradient point, the new p, is "
            f"{_Y}, between the last z and the average.", _steps_at_x),
    Mistake("plain_average", "the plain average, c = 1 / t, without the weights",
            f"weigh each z in the average: {_C} (the sum of the weights so far, this one included).", _plain_average),
    Mistake("warmup_twice", "the warm-up applied twice, lr * (t / warmup_steps)**2 during the warm-up",
            "the method warms up by itself, once: lr_t = lr * t / warmup_steps for t <= warmup_steps, then lr. "
            "(An outer warm-up scheduler on top of warmup_steps does the same mistake.)", _warmup_twice),
    Mistake("weights_without_warmup", "the weights made with lr instead of lr_max, so that the warm-up steps "
            "count as much as the others in the average",
            f"{_C}: lr_max = max(lr_max, lr_t) is the largest warmed-up learning rate so far.",
            _weights_without_warmup),
    Mistake("decay_at_z", "the weight decay taken at z, weight_decay * z",
            f"the decay, like the gradient, is taken at the gradient point y (the p you are given): {_G}.",
            _decay_at_z),
    Mistake("decay_at_x", "the weight decay taken at x, weight_decay * x",
            f"the decay, like the gradient, is taken at the gradient point y (the p you are given): {_G}.",
            _decay_at_x),
    Mistake("interpolation_swapped", "y = beta1 * z + (1 - beta1) * x, the interpolation the wrong way round",
            f"y sits near the average x: {_Y} (beta1 = 0.9 puts 90 % on x).", _interpolation_swapped),
    Mistake("x_with_old_z", "x averaged with the old z, before the z step",
            f"step z first, z = z - lr_t * g_hat, then average the new z in: {_X}.", _x_with_old_z),
    Mistake("no_bias_correction", "v used without its bias correction",
            f"divide v by 1 - beta2**t inside the root: {_G}.", _no_bias_correction),
)


# --------------------------------------------------------------------------------------
# Starter code
# --------------------------------------------------------------------------------------

SCHEDULE_FREE_SKELETON = f'''\
import numpy as np


def my_schedule_free_update(p, g, state, *, lr, beta1, beta2, eps, weight_decay, warmup_steps, r,
                            weight_lr_power):
    """One step of schedule-free AdamW (Defazio et al. 2024), in the paper's form.

    p is y, the point where g was taken. state holds t, lr_max, weight_sum (numbers) and
    the arrays v, z and x.

        t        <- t + 1
        lr_t     <- lr * t / warmup_steps if t <= warmup_steps, else lr    (warm-up)
        lr_max   <- max(lr_max, lr_t)
        weight   <- t**r * lr_max**weight_lr_power
        weight_sum <- weight_sum + weight
        c        <- weight / weight_sum
        v        <- beta2 * v + (1 - beta2) * g**2
        g_hat    <- g / (sqrt(v / (1 - beta2**t)) + eps) + weight_decay * y
        z        <- z - lr_t * g_hat
        x        <- (1 - c) * x + c * z                 (the new z)
        y        <- (1 - beta1) * z + beta1 * x         (the next gradient point)

    p, g, v, z and x are NumPy float64 arrays of the same shape.
{_NOT_IN_PLACE}

    Return (new_p, new_state): new_p is the new y, and new_state = {{"t": t, "lr_max": lr_max,
    "weight_sum": weight_sum, "v": v, "z": z, "x": x}}, a new dict.
    """
    # Your code here.

    return new_p, {{"t": t, "lr_max": lr_max, "weight_sum": weight_sum, "v": v, "z": z, "x": x}}
'''


# --------------------------------------------------------------------------------------
# The exercise
# --------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="schedule_free", title="Schedule-free AdamW",
        hyperparameters=("lr", "beta1", "beta2", "eps", "weight_decay", "warmup_steps", "r", "weight_lr_power"),
        # Warm-up of 2 to 4 steps in trials of 8, so that both phases are checked; r and the
        # power of the learning rate away from 0, so that every weight counts.
        ranges={"lr": _LR, "beta1": Range(0.7, 0.95), "beta2": Range(0.9, 0.999), "eps": _EPS,
                "weight_decay": Range(0.01, 0.5, log=True), "warmup_steps": Range(2, 4, whole=True),
                "r": Range(0.25, 2.0), "weight_lr_power": Range(0.5, 3.0)},
        fixed={},
        init=schedule_free_init, reference=_schedule_free_reference,
        state_keys=("t", "lr_max", "weight_sum", "v", "z", "x"),
        scalar_keys=("t", "lr_max", "weight_sum"),
        steps=8,
        mistakes=SCHEDULE_FREE_MISTAKES,
        variable_hints={
            "t": "t counts the steps: t = state['t'] + 1, first.",
            "lr_max": "lr_max = max(lr_max, lr_t), the largest warmed-up learning rate so far "
                      "(lr_t = lr * t / warmup_steps while t <= warmup_steps).",
            "weight_sum": "weight_sum adds this step's weight, t**r * lr_max**weight_lr_power, to the old sum.",
            "v": "v is Adam's leaky average of the squared gradients: v = beta2 * v + (1 - beta2) * g**2.",
            "z": f"z takes the plain step, z = z - lr_t * g_hat, with {_G}.",
            "x": f"x is the weighted average of the z's: {_X}, with the new z and {_C}.",
            "p": f"the new p is the next gradient point, {_Y}, with the new z and x.",
        },
        nan_hint="NaN or inf: look at c = weight / weight_sum (is weight_sum updated before?) and at the "
                 "square root of v / (1 - beta2**t).",
        skeleton=SCHEDULE_FREE_SKELETON,
    ),
)
"""The exercise ``schedule_free``."""
