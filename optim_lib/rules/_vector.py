"""A one-dimensional array of Python floats, for the rules that look at a whole parameter.

Most rules are elementwise and run on plain floats, one coordinate at a time. A few mix the
coordinates of a parameter (Adafactor scales its step by the parameter's root mean square):
they need an array, and the reader's browser has no NumPy. :class:`Vector` is the smallest
array these rules need: elementwise ``+ - * / **``, ``abs``, comparison with ``!=``, and the
NumPy-like functions the helpers in :mod:`._arrays` call (``sqrt``, ``maximum``, ``where``,
``linalg.norm``, ...), each computed entry by entry with the same IEEE operations NumPy
uses, so a rule gives NumPy's numbers on it. Standard library only.
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Callable, Iterable
from typing import Any


class Vector:
    """A vector of floats with NumPy's elementwise arithmetic (broadcasting a number)."""

    __slots__ = ("values",)
    dtype = "float64"

    def __init__(self, values: Iterable[float]) -> None:
        self.values = [float(v) for v in values]

    # --- what NumPy arrays answer ---------------------------------------------------------

    @property
    def shape(self) -> tuple[int]:
        return (len(self.values),)

    @property
    def T(self) -> Vector:  # noqa: N802 - NumPy's name
        return self

    def tolist(self) -> list[float]:
        return list(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        return iter(self.values)

    def __repr__(self) -> str:
        return f"Vector({self.values!r})"

    def clip(self, min: float) -> Vector:  # noqa: A002 - NumPy's name
        return Vector(v if (v >= min or v != v) else float(min) for v in self.values)

    def mean(self, axis: int, keepdims: bool = True) -> Vector:
        if axis not in (0, -1):
            raise ValueError(f"a Vector has one axis; got axis {axis}")
        total = 0.0
        for v in self.values:
            total += v
        return Vector([total / len(self.values)])

    # --- arithmetic ------------------------------------------------------------------------

    def _map(self, other: Any, op: Callable[[float, float], float]) -> Vector:
        if isinstance(other, Vector):
            if len(other.values) == 1 and len(self.values) != 1:
                other = other.values[0]
            else:
                if len(other.values) != len(self.values):
                    raise ValueError(f"shapes {self.shape} and {other.shape} do not broadcast")
                return Vector(map(_safe(op), self.values, other.values))
        return Vector(_safe(op)(v, other) for v in self.values)

    def _rmap(self, other: Any, op: Callable[[float, float], float]) -> Vector:
        return Vector(_safe(op)(other, v) for v in self.values)

    def __add__(self, other: Any) -> Vector:
        return self._map(other, operator.add)

    def __radd__(self, other: Any) -> Vector:
        return self._rmap(other, operator.add)

    def __sub__(self, other: Any) -> Vector:
        return self._map(other, operator.sub)

    def __rsub__(self, other: Any) -> Vector:
        return self._rmap(other, operator.sub)

    def __mul__(self, other: Any) -> Vector:
        return self._map(other, operator.mul)

    def __rmul__(self, other: Any) -> Vector:
        return self._rmap(other, operator.mul)

    def __truediv__(self, other: Any) -> Vector:
        return self._map(other, operator.truediv)

    def __rtruediv__(self, other: Any) -> Vector:
        return self._rmap(other, operator.truediv)

    def __pow__(self, other: Any) -> Vector:
        return self._map(other, operator.pow)

    def __neg__(self) -> Vector:
        return Vector(-v for v in self.values)

    def __abs__(self) -> Vector:
        return Vector(abs(v) for v in self.values)

    def __ne__(self, other: Any) -> Vector:  # type: ignore[override]
        return self._map(other, lambda a, b: float(a != b))

    __hash__ = None  # type: ignore[assignment]


def _safe(op: Callable[[float, float], float]) -> Callable[[float, float], float]:
    """``op`` with NumPy's answers where Python floats raise: inf or NaN."""

    def apply(a: float, b: float) -> float:
        try:
            return op(a, b)
        except ZeroDivisionError:
            return math.nan if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1.0, b)
        except OverflowError:
            return math.inf

    return apply


# --- The NumPy-like namespace that the helpers of _arrays call -------------------------------


def zeros_like(x: Vector) -> Vector:
    return Vector([0.0] * len(x))


def full_like(x: Vector, value: float) -> Vector:
    return Vector([float(value)] * len(x))


def zeros(shape: tuple[int, ...], dtype: Any = None) -> Vector:
    if len(shape) != 1:
        raise ValueError(f"a Vector has one axis; got shape {shape}")
    return Vector([0.0] * shape[0])


def copy(x: Vector) -> Vector:
    return Vector(x.values)


def sqrt(x: Vector) -> Vector:
    return Vector(math.sqrt(v) if v >= 0 else math.nan for v in x.values)


def maximum(a: Vector, b: Any) -> Vector:
    return a._map(b, lambda u, w: u if (u >= w or u != u) else w)


def sign(x: Vector) -> Vector:
    return Vector(v if v != v else (0.0 if v == 0 else math.copysign(1.0, v)) for v in x.values)


def where(condition: Vector, a: Vector, b: Vector) -> Vector:
    return Vector(u if c else w for c, u, w in zip(condition.values, a.values, b.values))


class _FloatInfo:
    eps = sys.float_info.epsilon


def finfo(dtype: Any) -> _FloatInfo:
    return _FloatInfo()


class linalg:  # noqa: N801 - NumPy's name
    @staticmethod
    def norm(x: Vector) -> float:
        """The 2-norm, as NumPy computes it for a vector: the root of the sum of squares."""
        total = 0.0
        for v in x.values:
            total += v * v
        return math.sqrt(total)
