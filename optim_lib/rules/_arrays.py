"""The four array operations the update rules need beyond ``+ - * / **``.

The rules run on ``torch.Tensor`` (inside the ``torch.optim.Optimizer`` classes), on NumPy
arrays, and on plain Python floats (the 2-D runner, the airfoil trainer and the reader's
browser, where only the standard library exists). Plain arithmetic works on all three;
these helpers pick the right library for the rest, so each rule is written once.

They import neither NumPy nor torch: an array's own type names its library, which is
already loaded if such an array exists.
"""

from __future__ import annotations

import math
import sys
from typing import Any

Array = Any
"""A ``torch.Tensor``, a NumPy array or a Python float: whatever the rule is given."""


def _library(x: Array) -> Any:
    """The module that made ``x`` (``torch`` or ``numpy``), or ``None`` for a Python number."""
    if isinstance(x, (float, int)):
        return None
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
