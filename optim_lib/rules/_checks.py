"""Argument checks shared by every optimizer's constructor and the runners.

Each check names the argument, the allowed range and the value given, and is written
as ``not (low <= value <= high)`` so that NaN fails too.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
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


def check_positive(name: str, value: Any) -> None:
    """``value`` in (0, inf)."""
    x = _real(name, value)
    if not 0.0 < x < math.inf:
        raise ValueError(f"{name} must be in (0, inf); got {value!r}")


def check_at_least(name: str, value: Any, low: float) -> None:
    """``value`` in [low, inf)."""
    x = _real(name, value)
    if not low <= x < math.inf:
        raise ValueError(f"{name} must be in [{low!r}, inf); got {value!r}")


def check_at_most(name: str, value: Any, high: float) -> None:
    """``value`` in (-inf, high]."""
    x = _real(name, value)
    if not -math.inf < x <= high:
        raise ValueError(f"{name} must be in (-inf, {high!r}]; got {value!r}")


def check_real(name: str, value: Any) -> None:
    """``value`` a finite real number."""
    if not math.isfinite(_real(name, value)):
        raise ValueError(f"{name} must be a finite number; got {value!r}")


def check_unit_open(name: str, value: Any) -> None:
    """``value`` in (0, 1)."""
    x = _real(name, value)
    if not 0.0 < x < 1.0:
        raise ValueError(f"{name} must be in (0, 1); got {value!r}")


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
    """``value`` a whole number in [low, inf), or [low, high] (steps, epochs, batch sizes)."""
    if (isinstance(value, bool) or not isinstance(value, int) or value < low
            or (high is not None and value > high)):
        upper = "inf)" if high is None else f"{high}]"
        raise ValueError(f"{name} must be a whole number in [{low}, {upper}; got {value!r}")


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r}")


def check_pair(name: str, value: Any, first: str, second: str) -> None:
    """``value`` a pair (a tuple or list of two), e.g. ``betas = (beta1, beta2)``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a pair ({first}, {second}); got {value!r}")


def check_betas(
    value: Any,
    check_beta1: Callable[[str, Any], None] = check_unit_half_open,
    check_beta2: Callable[[str, Any], None] = check_unit_half_open,
) -> None:
    """Adam's ``betas = (beta1, beta2)``, each in [0, 1) unless other checks are given."""
    check_pair("betas", value, "beta1", "beta2")
    check_beta1("betas[0] (beta1)", value[0])
    check_beta2("betas[1] (beta2)", value[1])


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """``value`` one of ``choices``."""
    if not any(value is choice or (type(value) is type(choice) and value == choice) for choice in choices):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
