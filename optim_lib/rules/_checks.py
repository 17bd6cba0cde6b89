"""Argument checks shared by every optimizer's constructor and the runners.

Each check names the argument, the allowed range and the value given, and is written
as ``not (low <= value <= high)`` so that NaN fails too.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    return float(value)


def check_at_least_zero(name: str, value: Any) -> None:
    """``value`` in [0, inf)."""
    x = _real(name, value)
    if not 0.0 <= x < math.inf:
        raise ValueError(f"{name} must be in [0, inf); got {value!r}")


def check_unit_closed(name: str, value: Any) -> None:
    """``value`` in [0, 1]."""
    x = _real(name, value)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must be in [0, 1]; got {value!r}")


def check_unit_half_open(name: str, value: Any) -> None:
    """``value`` in [0, 1)."""
    x = _real(name, value)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")


def check_whole(name: str, value: Any, low: int, high: int | None = None) -> None:
    """``value`` a whole number in [low, inf), or in [low, high] (steps, epochs, batch sizes)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        interval = f"[{low}, inf)" if high is None else f"[{low}, {high}]"
        raise ValueError(f"{name} must be a whole number in {interval}; got {value!r}")


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r}")


def check_betas(value: Any) -> None:
    """Adam's ``betas = (beta1, beta2)``, each in [0, 1)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2); got {value!r}")
    check_unit_half_open("betas[0] (beta1)", value[0])
    check_unit_half_open("betas[1] (beta2)", value[1])
