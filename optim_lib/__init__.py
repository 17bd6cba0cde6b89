"""optim_lib: the optimizers of deep learning from scratch, and the course's experiments.

Layers, each importing only the ones above it:

- ``optim_lib.rules``: one pure update rule per algorithm, written with the chapter's
  symbols, on torch tensors, NumPy arrays or plain floats. Standard library only: the
  website runs these modules in the reader's browser.
- ``optim_lib.optimizers``: a drop-in ``torch.optim.Optimizer`` class on each rule
  (``SGD``, ``Adagrad``, ``RMSprop``, ``Adadelta``, ``Adam``, ``AdamW``, ``NAdam``, ``RAdam``,
  ``Adamax``, ``Adafactor``, ``Muon``, ``Lion``, ``AdamWScheduleFree``).
- ``optim_lib.landscapes`` and ``optim_lib.live``: 2-D test functions and the experiments
  in plain Python (the 2-D runner, the airfoil trainer), shared by the kernel and the
  browser; ``optim_lib.trajectories`` (:func:`run_trajectory`) and ``optim_lib.airfoil`` /
  ``optim_lib.training`` (:func:`train_linear_regression`) wrap them for any
  ``torch.optim`` class; ``optim_lib.digits`` (:func:`load_digits`) and
  ``optim_lib.network`` (:func:`train_network`) train a small neural network on
  scikit-learn's handwritten digits.
- ``optim_lib.plotting`` (matplotlib) and ``optim_lib.widgets`` (ipywidgets) are imported
  on their own; importing ``optim_lib`` imports neither.

The names below are loaded when first used (``optim_lib.Adam`` imports torch then), so that
``import optim_lib.rules`` works where neither NumPy nor torch exists.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "optimizers": ("SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam", "Adamax",
                   "Adafactor", "Muon", "Lion", "AdamWScheduleFree", "ALL_OPTIMIZERS",
                   "CLASSIC_OPTIMIZERS"),
    "landscapes": ("Landscape", "QUADRATIC", "ROTATED_QUADRATIC", "ROSENBROCK", "SADDLE", "LANDSCAPES"),
    "trajectories": ("Trajectory", "run_trajectory"),
    "airfoil": ("AirfoilData", "AirfoilDataError", "load_airfoil"),
    "training": ("LossCurve", "train_linear_regression"),
    "digits": ("DigitsData", "load_digits"),
    "network": ("NetworkRun", "build_network", "train_network"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [name for names in _EXPORTS.values() for name in names]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'optim_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
