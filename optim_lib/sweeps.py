"""Learning-rate sweeps: run an experiment at every learning rate of a log grid (and several
seeds where the noise matters), and choose a rate by a stated rule.

Comparing optimizers at one hand-picked learning rate each compares the picks as much as the
optimizers; a sweep shows each optimizer's best *and* how wide its good range is. The three
experiments of the course each give one number per run:

- a trajectory: ``f`` at the last point (lower is better; a diverged run counts as ``inf``);
- the airfoil regression: the final full-data loss (lower is better);
- the digits network: the final test accuracy (higher is better) or training loss.

:func:`choose` applies the rule the chapters state: **the learning rate with the best mean over
seeds; a run that diverged counts as the worst possible value**.

Sweeps take minutes on a big grid, and the book runs each notebook twice in CI (nbval, then
the book build). When the environment variable ``OPTIM_LIB_SWEEP_CACHE`` names a folder,
each sweep's numbers are kept there under a key made of everything they depend on: the
experiment and its settings, the grid, the seeds, and the source of optim_lib's rules and
runners (so a changed rule can never be answered from a stale cache). Without the variable
nothing is written anywhere.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .airfoil import AirfoilData
from .digits import DigitsData
from .landscapes import Landscape
from .network import Scheduler, train_network
from .rules._checks import check_whole
from .trajectories import run_trajectory
from .training import train_linear_regression

CACHE_VARIABLE = "OPTIM_LIB_SWEEP_CACHE"
METRICS = {
    "final f": False,  # name -> higher is better
    "final loss": False,
    "test accuracy": True,
    "training loss": False,
}


@dataclass(frozen=True)
class SweepResult:
    """One optimizer's sweep: ``values[i, j]`` is the metric at ``learning_rates[i]`` with
    ``seeds[j]`` (NaN where the run diverged)."""

    optimizer: str
    hyperparameters: Mapping[str, Any]
    """The hyperparameters held fixed (everything but the learning rate)."""
    experiment: str
    metric: str
    learning_rates: np.ndarray
    seeds: tuple[int, ...]
    values: np.ndarray
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The experiment's settings (steps, epochs, batch size, landscape, network)."""

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric]

    @property
    def scores(self) -> np.ndarray:
        """The values with a diverged run (NaN) replaced by the worst possible value."""
        worst = -math.inf if self.higher_is_better else math.inf
        return np.where(np.isnan(self.values), worst, self.values)

    @property
    def mean(self) -> np.ndarray:
        """The mean over seeds at each learning rate (worst if any seed diverged)."""
        return self.scores.mean(axis=1)

    @property
    def label(self) -> str:
        from .live.text import describe_run

        return describe_run(self.optimizer, self.hyperparameters) if self.hyperparameters else self.optimizer


def choose(result: SweepResult) -> float:
    """The stated rule: the learning rate with the best mean over seeds (a diverged run
    counts as the worst value); the smaller rate on a tie."""
    mean = result.mean
    index = int(np.argmax(mean) if result.higher_is_better else np.argmin(mean))
    return float(result.learning_rates[index])


def best_value(result: SweepResult) -> float:
    """The mean metric at the chosen learning rate."""
    return float(result.mean[list(result.learning_rates).index(choose(result))])


def good_range(result: SweepResult, within: float) -> tuple[float, float] | None:
    """The smallest and largest learning rate whose mean is within ``within`` of the best
    (an absolute margin in the metric's units), or None if no rate is finite."""
    mean, best = result.mean, best_value(result)
    if not math.isfinite(best):
        return None
    good = mean >= best - within if result.higher_is_better else mean <= best + within
    rates = result.learning_rates[good]
    return float(rates.min()), float(rates.max())


def learning_rate_grid(low: float, high: float, per_decade: int = 3) -> np.ndarray:
    """A log grid from ``low`` to ``high`` (both included when they sit on it), with
    ``per_decade`` rates per factor of ten: 1e-3, 2.15e-3, 4.64e-3, 1e-2, ... for 3."""
    if not (0 < low < high < math.inf):
        raise ValueError(f"low and high must satisfy 0 < low < high; got low={low!r}, high={high!r}")
    check_whole("per_decade", per_decade, 1)
    start, stop = math.log10(low), math.log10(high)
    count = int(math.floor((stop - start) * per_decade + 1e-9)) + 1
    return np.array([float(f"{10 ** (start + k / per_decade):.3g}") for k in range(count)])


# --- The cache --------------------------------------------------------------------------------


def _source_fingerprint() -> str:
    """A hash of the code a sweep's numbers depend on."""
    from . import landscapes, live, network, optimizers, rules, training, trajectories

    digest = hashlib.sha1()
    for package in (rules, optimizers, live):
        for path in sorted(Path(package.__file__).parent.glob("*.py")):
            digest.update(path.read_bytes())
    for module in (landscapes, network, training, trajectories):
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()


def _cached(key: Mapping[str, Any], compute: Callable[[], np.ndarray]) -> np.ndarray:
    folder = os.environ.get(CACHE_VARIABLE)
    if not folder:
        return compute()
    name = hashlib.sha1(json.dumps({**key, "source": _source_fingerprint()}, sort_keys=True,
                                   default=repr).encode()).hexdigest()
    path = Path(folder) / f"{name}.json"
    if path.is_file():
        return np.array(json.loads(path.read_text()), dtype=float)
    values = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_text(json.dumps([[None if math.isnan(v) else v for v in row] for row in values.tolist()]))
    part.replace(path)  # written whole or not at all
    return values


def _run_grid(experiment: str, optimizer_class: type[torch.optim.Optimizer], hyperparameters: Mapping[str, Any],
              learning_rates: Sequence[float], seeds: Sequence[int], settings: Mapping[str, Any], metric: str,
              one: Callable[[float, int], float]) -> SweepResult:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}; got {metric!r}")
    rates = np.array([float(lr) for lr in learning_rates])
    if len(rates) == 0 or not (np.isfinite(rates).all() and (rates > 0).all()):
        raise ValueError(f"learning_rates must be positive numbers; got {list(learning_rates)!r}")
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    fixed = dict(hyperparameters or {})
    if "lr" in fixed:
        raise ValueError(f"hyperparameters must not hold lr (the sweep sets it); got {fixed!r}")
    key = {"experiment": experiment, "optimizer": f"{optimizer_class.__module__}.{optimizer_class.__qualname__}",
           "hyperparameters": fixed, "learning_rates": rates.tolist(), "seeds": list(seeds),
           "settings": settings, "metric": metric}

    def compute() -> np.ndarray:
        return np.array([[one(float(lr), seed) for seed in seeds] for lr in rates], dtype=float)

    return SweepResult(optimizer=optimizer_class.__name__, hyperparameters=fixed, experiment=experiment,
                       metric=metric, learning_rates=rates, seeds=seeds, values=_cached(key, compute),
                       settings=dict(settings))


# --- The three experiments ----------------------------------------------------------------------


def sweep_trajectory(optimizer_class: type[torch.optim.Optimizer], hyperparameters: Mapping[str, Any] | None,
                     learning_rates: Sequence[float], landscape: Landscape, *, steps: int = 100) -> SweepResult:
    """``f`` at the last point after ``steps`` steps, at each learning rate (no noise: one
    "seed"). A run that diverged gives NaN."""
    check_whole("steps", steps, 1)

    def one(lr: float, seed: int) -> float:
        run = run_trajectory(optimizer_class, {**dict(hyperparameters or {}), "lr": lr}, landscape, steps=steps)
        return math.nan if run.diverged_at is not None else float(run.losses[-1])

    return _run_grid("trajectory", optimizer_class, hyperparameters or {}, learning_rates, (0,),
                     {"landscape": landscape.name, "steps": steps}, "final f", one)


def sweep_airfoil(optimizer_class: type[torch.optim.Optimizer], hyperparameters: Mapping[str, Any] | None,
                  learning_rates: Sequence[float], data: AirfoilData, *, seeds: Sequence[int] = (0, 1, 2),
                  batch_size: int = 10, epochs: int = 2) -> SweepResult:
    """The final full-data loss of the airfoil regression at each learning rate and seed."""

    def one(lr: float, seed: int) -> float:
        curve = train_linear_regression(optimizer_class, {**dict(hyperparameters or {}), "lr": lr}, data,
                                        batch_size=batch_size, epochs=epochs, seed=seed)
        return math.nan if curve.diverged_at is not None else curve.final_loss

    return _run_grid("airfoil", optimizer_class, hyperparameters or {}, learning_rates, seeds,
                     {"batch_size": batch_size, "epochs": epochs, "data": hashlib.sha1(data.to_bytes()).hexdigest()},
                     "final loss", one)


def sweep_network(optimizer_class: type[torch.optim.Optimizer], hyperparameters: Mapping[str, Any] | None,
                  learning_rates: Sequence[float], data: DigitsData, *, seeds: Sequence[int] = (0, 1, 2),
                  batch_size: int = 32, epochs: int = 10, hidden: Sequence[int] = (64,),
                  metric: str = "test accuracy", scheduler: Scheduler | None = None) -> SweepResult:
    """The digits network at each learning rate and seed: the final ``"test accuracy"`` or
    ``"training loss"``.

    ``scheduler``: as :func:`~optim_lib.network.train_network` takes it (a function of the
    optimizer that returns a ``torch.optim.lr_scheduler`` on it, stepped after every step),
    made afresh for every run, so a warm-up plus cosine schedule is swept with the peak rate
    it multiplies. The cache knows a schedule by what it does: the learning rates (and
    betas or momentum) it gives each param group at every step of a run, at every rate of
    the grid (:func:`schedule_fingerprint`).
    """
    if metric not in ("test accuracy", "training loss"):
        raise ValueError(f"metric must be 'test accuracy' or 'training loss'; got {metric!r}")
    if scheduler is not None and not callable(scheduler):
        raise TypeError(f"scheduler must be a function optimizer -> LRScheduler, or None; got {scheduler!r}")

    def one(lr: float, seed: int) -> float:
        run = train_network(optimizer_class, {**dict(hyperparameters or {}), "lr": lr}, data,
                            batch_size=batch_size, epochs=epochs, seed=seed, hidden=hidden, scheduler=scheduler)
        if run.diverged_at is not None:
            return math.nan
        return run.final_test_accuracy if metric == "test accuracy" else float(run.train_losses[-1])

    digest = hashlib.sha1()
    for tensor in (data.X_train, data.y_train, data.X_test, data.y_test):
        digest.update(tensor.numpy().tobytes())
    settings: dict[str, Any] = {"batch_size": batch_size, "epochs": epochs, "hidden": list(hidden),
                                "data": digest.hexdigest()}
    if scheduler is not None:
        check_whole("batch_size", batch_size, 1, data.n_train)
        check_whole("epochs", epochs, 1)
        steps = epochs * math.ceil(data.n_train / batch_size)
        settings["schedule"] = schedule_fingerprint(scheduler, optimizer_class, hyperparameters or {},
                                                    learning_rates, steps)
    return _run_grid("network", optimizer_class, hyperparameters or {}, learning_rates, seeds, settings, metric, one)


def schedule_fingerprint(scheduler: Scheduler, optimizer_class: type[torch.optim.Optimizer],
                         hyperparameters: Mapping[str, Any], learning_rates: Sequence[float], steps: int) -> str:
    """A hash of what ``scheduler`` does over ``steps`` steps: it is made on an
    ``optimizer_class`` with ``hyperparameters`` at each of ``learning_rates`` (on one
    parameter that never gets a gradient, so nothing moves) and stepped ``steps`` times, and
    every param group's ``lr``, ``betas`` and ``momentum`` are read before every step. Two
    schedulers with the same fingerprint give the same runs."""
    digest = hashlib.sha1()
    for lr in learning_rates:
        optimizer = optimizer_class([torch.zeros(1, requires_grad=True)], **{**dict(hyperparameters), "lr": float(lr)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "lr_scheduler.step() before optimizer.step()": no step is taken
            schedule = scheduler(optimizer)
            for _ in range(steps):
                digest.update(repr([(g["lr"], g.get("betas"), g.get("momentum"))
                                    for g in optimizer.param_groups]).encode())
                schedule.step()
    return digest.hexdigest()
