"""The four array operations the update rules need beyond ``+ - * / **``.

The rules run on ``torch.Tensor`` (inside the ``torch.optim.Optimizer`` classes) and on
NumPy arrays (in the fast 2-D trajectory runner). Plain arithmetic works on both; these
helpers pick the right library for the rest, so each rule is written once.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", torch.Tensor, np.ndarray)


def zeros_like(x: Array) -> Array:
    return torch.zeros_like(x) if isinstance(x, torch.Tensor) else np.zeros_like(x)


def full_like(x: Array, value: float) -> Array:
    return torch.full_like(x, value) if isinstance(x, torch.Tensor) else np.full_like(x, value)


def sqrt(x: Array) -> Array:
    return torch.sqrt(x) if isinstance(x, torch.Tensor) else np.sqrt(x)


def maximum(a: Array, b: Array) -> Array:
    return torch.maximum(a, b) if isinstance(a, torch.Tensor) else np.maximum(a, b)
