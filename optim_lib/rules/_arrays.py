"""The array operations the update rules need beyond ``+ - * / **``, ``abs`` and ``@``.

The rules run on ``torch.Tensor`` (inside the ``torch.optim.Optimizer`` classes), on NumPy
arrays, and on plain Python floats (the 2-D runner, the airfoil trainer and the reader's
browser, where only the standard library exists). Plain arithmetic works on all three (and
``@``, the matrix product, on tensors and arrays); these helpers pick the right library for
the rest, so each rule is written once.

The elementwise helpers (``zeros_like`` to ``clamp_min``) take floats too; the rest are for
the rules that look at a whole parameter (its norm, its rows and columns), which run on
tensors and arrays, and on a vector of floats (:class:`~._vector.Vector`, the browser's
stand-in for a 1-D array).

They import neither NumPy nor torch: an array's own type names its library, which is
already loaded if such an array exists.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from . import _vector
from ._vector import Vector

Array = Any
"""A ``torch.Tensor``, a NumPy array or a Python float: whatever the rule is given."""


def _library(x: Array) -> Any:
    """The module that made ``x`` (``torch``, ``numpy``, or :mod:`._vector` for a
    :class:`~._vector.Vector`), or ``None`` for a Python number."""
    if isinstance(x, (float, int)):
        return None
    if type(x) is Vector:
        return _vector
    library = getattr(type(x), "array_library", None)  # a type that names its own (a recording's)
    if library is not None:
        return library
    root = type(x).__module__.partition(".")[0]
    library = sys.modules.get(root)
    if library is None or not hasattr(library, "sqrt"):
        raise TypeError(f"update rules run on torch tensors, NumPy arrays or floats; got {type(x).__name__}")
    return library


def zeros_like(x: Array) -> Array:
    library = _library(x)
    return 0.0 if library is None else library.zeros_like(x)


def full_like(x: Array, value: float) -> Array:
    library = _library(x)
    return float(value) if library is None else library.full_like(x, value)


def sqrt(x: Array) -> Array:
    if type(x) is float:  # first: the browser's trainer calls this 18 000 times a run
        # NumPy and torch give NaN for a negative number (a rounding error below 0 in a
        # variance); math.sqrt raises instead.
        return math.sqrt(x) if x >= 0 else math.nan
    library = _library(x)
    if library is None:
        return math.sqrt(x) if x >= 0 else math.nan
    return library.sqrt(x)


def maximum(a: Array, b: Array) -> Array:
    """Elementwise maximum; NaN wins, as in NumPy and torch."""
    library = _library(a)
    if library is None:
        return a if (a >= b or a != a) else b
    return library.maximum(a, b)


def copy(x: Array) -> Array:
    """A copy of ``x`` that shares no memory with it (a tensor's copy is outside autograd's
    graph, like the optimizer state it becomes)."""
    library = _library(x)
    if library is None:
        return x
    detach = getattr(x, "detach", None)  # torch
    return detach().clone() if detach is not None else library.copy(x)


def sign(x: Array) -> Array:
    """-1, 0 or 1 by the sign of each entry; NaN stays NaN (NumPy's rule: torch's ``sign``
    gives 0 for NaN, which would hide a NaN as a zero step)."""
    library = _library(x)
    if library is None:
        if x != x:
            return x
        return 0.0 if x == 0 else math.copysign(1.0, x)
    if library.__name__ != "torch":  # only torch's sign drops NaN; the mask would cost twice the sign
        return library.sign(x)
    return library.where(x != x, x, library.sign(x))


def clamp_min(x: Array, low: float) -> Array:
    """Elementwise ``max(x, low)`` for a number ``low``; NaN stays NaN."""
    library = _library(x)
    if library is None:
        return x if (x >= low or x != x) else float(low)
    return x.clip(min=low)


def machine_epsilon(x: Array) -> float:
    """The gap between 1 and the next number in ``x``'s precision (2.2e-16 in float64)."""
    library = _library(x)
    return sys.float_info.epsilon if library is None else float(library.finfo(x.dtype).eps)


def shape(x: Array) -> tuple[int, ...]:
    return () if _library(x) is None else tuple(x.shape)


def numel(x: Array) -> int:
    """The number of entries."""
    return math.prod(shape(x))


def norm(x: Array) -> float:
    """The 2-norm of all of ``x``'s entries together (Frobenius for a matrix), as a float (a
    number: never part of autograd's graph)."""
    library = _library(x)
    if library is None:
        return abs(x)
    detach = getattr(x, "detach", None)  # torch
    return float(library.linalg.norm(detach() if detach is not None else x))


def mean(x: Array, axis: int) -> Array:
    """The mean along ``axis``, which is kept with length 1 (so the result broadcasts
    against ``x``)."""
    _library(x)
    return x.mean(axis=axis, keepdims=True)


def zeros(x: Array, shape_: tuple[int, ...]) -> Array:
    """Zeros of shape ``shape_``, of ``x``'s kind and dtype (and, for a tensor, device)."""
    library = _library(x)
    if library is None:
        if shape_ != ():
            raise ValueError(f"a float has shape (); got shape {shape_}")
        return 0.0
    new_zeros = getattr(x, "new_zeros", None)  # torch
    return new_zeros(shape_) if new_zeros is not None else library.zeros(shape_, dtype=x.dtype)


def transpose(x: Array) -> Array:
    """The transpose of a matrix."""
    _library(x)
    return x.T
