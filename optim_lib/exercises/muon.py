"""The exercise of chapter 15: Muon's step on a matrix, Newton–Schulz iteration included.

The reference (optim_lib's rule with torch's defaults: Nesterov momentum, Keller Jordan's
coefficients, 5 iterations, ``adjust_lr_fn=None``), the catalogue of classic mistakes, the
starter code and the :class:`~optim_lib.exercises.checking.Exercise`. Every trial's parameter is
a matrix, wide, square or tall, so that both the transpose inside the iteration and the
learning rate's shape factor :math:`\\sqrt{\\max(1, n/m)}` are exercised.
"""

from __future__ import annotations

import math

import numpy as np

from ..rules.muon import NS_COEFFICIENTS, muon_init, muon_update
from .checking import _LR, _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State

_EPS = 1e-7
_STEPS = 5


def _reference(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float,
               weight_decay: float) -> Arrays:
    return muon_update(p, g, state, lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=True,
                       ns_coefficients=NS_COEFFICIENTS, eps=_EPS, ns_steps=_STEPS, adjust_lr_fn=None)


def _orthogonalize(D: np.ndarray, coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
                   steps: int = _STEPS, normalize: bool = True) -> np.ndarray:
    a, b, c = coefficients
    X = D.T if D.shape[0] > D.shape[1] else D
    if normalize:
        X = X / max(np.linalg.norm(X), _EPS)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if D.shape[0] > D.shape[1] else X


def _muon(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float, weight_decay: float,
          nesterov: bool = True, as_sum: bool = False, weights_swapped: bool = False,
          orthogonalize: bool = True, normalize: bool = True, coefficients=NS_COEFFICIENTS, steps: int = _STEPS,
          lr_factor: str = "max", decay_with_adjusted: bool = False, decay_after: bool = False,
          decay: bool = True, sign: float = -1.0) -> Arrays:
    """Muon's step written out, with switches that turn it into each mistake."""
    n, m = p.shape
    if as_sum:
        B = momentum * state["B"] + g
    elif weights_swapped:
        B = (1 - momentum) * state["B"] + momentum * g
    else:
        B = momentum * state["B"] + (1 - momentum) * g
    D = (1 - momentum) * g + momentum * B if nesterov else B
    O = _orthogonalize(D, coefficients, steps, normalize) if orthogonalize else D
    factor = {"max": math.sqrt(max(1, n / m)), "none": 1.0, "ratio": math.sqrt(n / m),
              "inverted": math.sqrt(max(1, m / n))}[lr_factor]
    lr_adjusted = lr * factor
    shrink = (1 - (lr_adjusted if decay_with_adjusted else lr) * weight_decay) if decay else 1.0
    if decay_after:
        return shrink * (p + sign * lr_adjusted * O), {"B": B}
    return shrink * p + sign * lr_adjusted * O, {"B": B}


def _mistake(**switches):
    def update(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, momentum: float,
               weight_decay: float) -> Arrays:
        return _muon(p, g, state, lr=lr, momentum=momentum, weight_decay=weight_decay, **switches)

    return update


_LR_FIX = "scale the learning rate by the matrix's shape: lr * np.sqrt(max(1, n / m)) for an n x m matrix."

MUON_MISTAKES = (
    Mistake("momentum_as_sum", "the momentum as a sum, B = momentum * B + g (how torch's documentation writes it)",
            "torch's code and this course keep the average, B = momentum * B + (1 - momentum) * g. "
            "Newton-Schulz divides by the norm, so the step hardly changes; B does.", _mistake(as_sum=True)),
    Mistake("weights_swapped", "momentum and 1 - momentum swapped, B = (1 - momentum) * B + momentum * g",
            "momentum is the weight of the old buffer: B = momentum * B + (1 - momentum) * g.",
            _mistake(weights_swapped=True)),
    Mistake("no_orthogonalization", "no Newton-Schulz iteration: a step along D itself (SGD with momentum)",
            "orthogonalize D before the step: O = newton_schulz(D), then p = p - lr' * O.",
            _mistake(orthogonalize=False)),
    Mistake("not_normalized", "a Newton-Schulz iteration started from D without dividing by its norm",
            "the iteration only works for singular values in [0, 1]: start from X = D / max(np.linalg.norm(D), eps).",
            _mistake(normalize=False)),
    Mistake("cubic", "the cubic Newton-Schulz iteration (a, b, c) = (1.5, -0.5, 0)",
            f"use Keller Jordan's quintic coefficients (a, b, c) = {NS_COEFFICIENTS}, which push small singular "
            "values up faster.", _mistake(coefficients=(1.5, -0.5, 0.0))),
    Mistake("six_iterations", "six Newton-Schulz iterations instead of five",
            "iterate exactly 5 times: for _ in range(5).", _mistake(steps=6)),
    Mistake("four_iterations", "four Newton-Schulz iterations instead of five",
            "iterate exactly 5 times: for _ in range(5).", _mistake(steps=4)),
    Mistake("no_nesterov",
            "plain momentum, D = B, instead of Nesterov's look-ahead (a look-ahead with the old B, "
            "(1 - momentum) * g + momentum * B_old, is the same thing)",
            "torch's Muon looks ahead by default: update B first, then D = (1 - momentum) * g + momentum * B.",
            _mistake(nesterov=False)),
    Mistake("lr_not_adjusted", "the learning rate without its shape factor (lr' = lr)", _LR_FIX,
            _mistake(lr_factor="none")),
    Mistake("lr_factor_without_max", "the shape factor np.sqrt(n / m) without the max with 1", _LR_FIX,
            _mistake(lr_factor="ratio")),
    Mistake("lr_factor_inverted", "the shape factor np.sqrt(max(1, m / n)), columns over rows", _LR_FIX,
            _mistake(lr_factor="inverted")),
    Mistake("decay_with_adjusted_lr", "the weight decay scaled by the adjusted learning rate, 1 - lr' * weight_decay",
            "the decay uses the plain lr, as in torch: p = (1 - lr * weight_decay) * p - lr' * O.",
            _mistake(decay_with_adjusted=True)),
    Mistake("decay_after_step", "the decay applied after the step, (1 - lr * weight_decay) * (p - lr' * O)",
            "shrink the old weights and subtract the step: p = (1 - lr * weight_decay) * p - lr' * O.",
            _mistake(decay_after=True)),
    Mistake("no_weight_decay", "no weight decay",
            "shrink the weights at every step: p = (1 - lr * weight_decay) * p - lr' * O.", _mistake(decay=False)),
    Mistake("ascends", "a step uphill, p + lr' * O", "subtract the step: p = (1 - lr * weight_decay) * p - lr' * O.",
            _mistake(sign=1.0)),
)


MUON_SKELETON = f'''\
import numpy as np


def my_muon_update(p, g, state, *, lr, momentum, weight_decay):
    """One step of Muon on an n x m matrix p (Nesterov momentum, torch's defaults).

        B     <- momentum * B + (1 - momentum) * g
        D     <- (1 - momentum) * g + momentum * B             (Nesterov, with the new B)
        O     <- newton_schulz(D)                               (below)
        lr'   <- lr * sqrt(max(1, n / m))
        p     <- (1 - lr * weight_decay) * p - lr' * O

    newton_schulz(D), with (a, b, c) = {NS_COEFFICIENTS}:
        X <- D, transposed first if n > m (so that X @ X.T is the smaller product)
        X <- X / max(frobenius_norm(X), 1e-7)
        repeat 5 times:  A <- X @ X.T;  X <- a * X + (b * A + c * A @ A) @ X
        transpose X back if D was transposed

    p, g and state["B"] are NumPy float64 arrays of shape (n, m); B is 0 before the first
    step. np.linalg.norm(X) is the Frobenius norm. Do not call optim_lib's newton_schulz.
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"B": B}}.
    """
    # Your code here.

    return new_p, {{"B": B}}
'''


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="muon", title="Muon",
        hyperparameters=("lr", "momentum", "weight_decay"),
        ranges={"lr": _LR, "momentum": Range(0.6, 0.95), "weight_decay": Range(0.05, 0.5, log=True)},
        fixed={},
        init=muon_init, reference=_reference, state_keys=("B",),
        mistakes=MUON_MISTAKES,
        variable_hints={
            "B": "B is the leaky average of the gradients: B = momentum * B + (1 - momentum) * g, from the old B "
                 "in state.",
            "p": "the step is p = (1 - lr * weight_decay) * p - lr * np.sqrt(max(1, n / m)) * O, with O = "
                 "newton_schulz((1 - momentum) * g + momentum * B). Check the iteration: divide by the Frobenius "
                 f"norm first, then 5 times A = X @ X.T, X = a * X + (b * A + c * A @ A) @ X, (a, b, c) = "
                 f"{NS_COEFFICIENTS}; a tall matrix is iterated as its transpose.",
        },
        nan_hint=("NaN or inf comes from the iteration blowing up: it needs the singular values in [0, 1], so "
                  "divide D by its Frobenius norm first, X = D / max(np.linalg.norm(D), 1e-7)."),
        skeleton=MUON_SKELETON,
        shapes=((3, 5), (5, 3), (4, 4), (2, 6), (6, 2)),
    ),
)
"""The exercise ``muon``."""
