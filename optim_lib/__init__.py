"""optim_lib: the optimizers of deep learning from scratch, and the course's experiments.

Layers, each importing only the ones above it:

- ``optim_lib.optimizers``: one pure update rule per algorithm, and a drop-in
  ``torch.optim.Optimizer`` class built on it (``SGD``, ``Adagrad``, ``RMSprop``,
  ``Adadelta``, ``Adam``, ``AdamW``).
- ``optim_lib.landscapes`` and ``optim_lib.trajectories``: 2-D test functions and
  :func:`run_trajectory`.
- ``optim_lib.airfoil`` and ``optim_lib.training``: the NASA airfoil data and
  :func:`train_linear_regression`.
- ``optim_lib.plotting`` (matplotlib) and ``optim_lib.widgets`` (ipywidgets) are imported
  on their own; importing ``optim_lib`` imports neither.
"""

from .airfoil import AirfoilData, AirfoilDataError, load_airfoil
from .landscapes import LANDSCAPES, QUADRATIC, ROSENBROCK, SADDLE, Landscape
from .optimizers import ALL_OPTIMIZERS, SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop
from .training import LossCurve, train_linear_regression
from .trajectories import Trajectory, run_trajectory

__version__ = "0.1.0"

__all__ = [
    "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "ALL_OPTIMIZERS",
    "Landscape", "QUADRATIC", "ROSENBROCK", "SADDLE", "LANDSCAPES",
    "Trajectory", "run_trajectory",
    "AirfoilData", "AirfoilDataError", "load_airfoil",
    "LossCurve", "train_linear_regression",
]
