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

:func:`sweep_outward` extends a grid one rate at a time until the chosen rate is interior,
:func:`sweep_each` runs it for every optimizer of a table (chapter 9's), and
:func:`format_sweep_table` prints the chosen rate, the best value and the good range of each.

Sweeps take minutes on a big grid, and the book runs each notebook twice in CI (nbval, then
the book build). When the environment variable ``OPTIM_LIB_SWEEP_CACHE`` names a folder,
each sweep's numbers are kept there under a key made of everything they depend on: the
experiment and its settings, the grid, the seeds, and the source of optim_lib's rules and
runners (so a changed rule can never be answered from a stale cache). Without the variable
nothing is written anywhere.
"""

from __future__ import annotations

import dataclasses
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
    start, stop = _grid_start(low, per_decade), math.log10(high)
    count = int(math.floor((stop - start) * per_decade + 1e-9)) + 1
    return np.array([_grid_point(start, k, per_decade) for k in range(count)])


def _grid_point(start: float, k: int, per_decade: int) -> float:
    """The k-th rate of :func:`learning_rate_grid`'s grid that starts at ``10**start``
    (k may be negative or past the grid's end): the same rounding, so that an extended grid
    holds the same numbers a wider grid would."""
    return float(f"{10 ** (start + k / per_decade):.3g}")


def _grid_start(low: float, per_decade: int) -> float:
    """``log10(low)``, or the exponent of the rate ``10**(k / per_decade)`` that ``low`` is
    a rounding of (within 1 %): a grid from 0.0215 is then 0.0215, 0.0464, 0.1, ... (as
    from 0.01), not 0.0215, 0.0463, 0.0998 (0.0215 times powers of 10^(1/3))."""
    exponent = math.log10(low)
    nearest = round(exponent * per_decade) / per_decade
    return nearest if abs(10 ** (exponent - nearest) - 1) < 0.01 else exponent


def _merge(result: SweepResult, more: SweepResult) -> SweepResult:
    if (more.optimizer, more.metric, more.seeds, more.experiment) != (result.optimizer, result.metric, result.seeds,
                                                                       result.experiment):
        raise ValueError("sweep must return sweeps of the same optimizer, experiment, metric and seeds at every call; "
                         f"got {result.optimizer}/{result.metric}/{result.seeds} and "
                         f"{more.optimizer}/{more.metric}/{more.seeds}")
    rates = np.concatenate([result.learning_rates, more.learning_rates])
    values = np.concatenate([result.values, more.values])
    order = np.argsort(rates)
    return dataclasses.replace(result, learning_rates=rates[order], values=values[order])


def sweep_outward(sweep: Callable[[np.ndarray], SweepResult], low: float, high: float, *, per_decade: int = 3,
                  max_extensions: int = 9) -> SweepResult:
    """Sweep the grid from ``low`` to ``high``, then extend it outwards one grid point at a
    time while the best rate sits at the grid's edge and the curve still improves towards
    it, so that the chosen rate ends up interior: with a worse rate on either side.

    ``sweep`` takes an array of learning rates and returns their :class:`SweepResult`,
    e.g. ``lambda rates: sweep_network(Adam, {}, rates, data)``; each extension calls it
    on the one new rate (so each point is computed, and cached, once). The grid grows on
    the low side when the smallest rate is the best and strictly better than the next one,
    on the high side likewise; it stops when neither holds (a rate that diverges counts as
    the worst, so divergence stops it), or after ``max_extensions`` new points. A plateau
    at the edge (the best value repeated at the end rate and its neighbour) does not extend
    the grid: the chosen rate may then be at the edge, and :func:`at_edge` says so.
    """
    rates = learning_rate_grid(low, high, per_decade)
    if len(rates) < 2:
        raise ValueError(f"low and high must span at least two grid points; got low={low!r}, high={high!r} "
                         f"with per_decade={per_decade!r}")
    check_whole("max_extensions", max_extensions, 0)
    result = sweep(rates)
    start = _grid_start(low, per_decade)
    below, above = 0, len(rates) - 1  # the grid indices of the ends
    for _ in range(max_extensions):
        mean = result.mean
        better = np.greater if result.higher_is_better else np.less
        index = list(result.learning_rates).index(choose(result))
        if index == 0 and better(mean[0], mean[1]):
            below -= 1
            new = _grid_point(start, below, per_decade)
        elif index == len(mean) - 1 and better(mean[-1], mean[-2]):
            above += 1
            new = _grid_point(start, above, per_decade)
        else:
            break
        result = _merge(result, sweep(np.array([new])))
    return result


def sweep_each(optimizers: Mapping[str, tuple[type[torch.optim.Optimizer], Mapping[str, Any], Mapping[str, float]]],
               experiment: str, sweep: Callable[[type[torch.optim.Optimizer], Mapping[str, Any], np.ndarray], SweepResult],
               *, points: int = 6, per_decade: int = 3) -> dict[str, SweepResult]:
    """:func:`sweep_outward` for every optimizer of a table, on one experiment.

    ``optimizers`` maps a name to ``(class, hyperparameters held fixed, first rates)``, the
    first rates a mapping from an experiment's name to the smallest rate of the grid its
    sweep starts from (an optimizer without an entry for ``experiment`` is left out).
    Each sweep starts on ``points`` rates of the log grid, ``per_decade`` a decade, from
    that rate up, and extends outwards from there; ``sweep(class, hyperparameters, rates)``
    runs the experiment, e.g. ``lambda cls, fixed, rates: sweep_airfoil(cls, fixed, rates, data)``.
    """
    check_whole("points", points, 2)
    results = {}
    for name, (optimizer_class, fixed, first_rates) in optimizers.items():
        low = first_rates.get(experiment)
        if low is None:
            continue
        high = 10 ** (_grid_start(low, per_decade) + (points - 1) / per_decade) * (1 + 1e-6)

        def run(rates: np.ndarray, optimizer_class: type = optimizer_class, fixed: Mapping = fixed) -> SweepResult:
            return sweep(optimizer_class, fixed, rates)

        results[name] = sweep_outward(run, low, high, per_decade=per_decade)
    return results


def at_edge(result: SweepResult) -> bool:
    """Whether the chosen rate is the grid's smallest or largest: the best might lie beyond."""
    chosen = choose(result)
    return chosen in (float(result.learning_rates.min()), float(result.learning_rates.max()))


def range_at_edge(result: SweepResult, within: float) -> bool:
    """Whether the good range (:func:`good_range`) reaches the grid's smallest or largest
    rate: the range may go on beyond the grid, so its width is then only a lower bound."""
    span = good_range(result, within)
    return span is not None and (span[0] == float(result.learning_rates.min())
                                 or span[1] == float(result.learning_rates.max()))


def format_sweep_table(results: Mapping[str, SweepResult], within: float) -> str:
    """A plain-text table, one row per sweep (the mapping's keys name them): the chosen
    rate, the best mean value, the good range (the rates within ``within`` of the best,
    :func:`good_range`) and its width in decades, ``log10(high / low)``. A test accuracy is
    shown in percent (``within`` is still a fraction: 0.01 is one point). The last column
    says when the chosen rate is at the grid's edge, or else when the good range reaches
    the grid's edge (:func:`range_at_edge`: its width is then at least the one shown), or
    when every rate diverged."""
    if not results:
        raise ValueError("results must hold at least one sweep")
    if not (isinstance(within, (int, float)) and within >= 0 and math.isfinite(within)):
        raise ValueError(f"within must be a number >= 0; got {within!r}")
    rows = []
    for name, result in results.items():
        percent = result.metric == "test accuracy"
        best, span = best_value(result), good_range(result, within)
        if span is None:
            rows.append([name, "-", "diverged", "-", "-", "every rate diverged"])
            continue
        low, high = span
        rows.append([name, f"{choose(result):.3g}", f"{best:.1%}" if percent else f"{best:.3g}",
                     f"{low:.3g} to {high:.3g}", f"{math.log10(high / low):.2f}",
                     "at the grid's edge" if at_edge(result)
                     else "range reaches the grid's edge" if range_at_edge(result, within) else ""])
    first = next(iter(results.values()))
    points = within * 100
    margin = (f"{points:g} point{'' if points == 1 else 's'}" if first.metric == "test accuracy" else f"{within:g}")
    header = ["optimizer", "chosen lr", f"best {first.metric}", f"good range (within {margin})", "decades", "note"]
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


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
    part = path.with_suffix(f".{os.getpid()}.part")  # processes sharing the cache write their own
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

    ``scheduler`` is :func:`~optim_lib.network.train_network`'s: a function that takes the
    optimizer and returns a ``torch.optim.lr_scheduler`` on it; the swept learning rate is
    then the rate the schedule starts from and scales (its peak, for a warm-up and decay).
    A function has no name the cache could trust, so the cache keys a scheduled sweep by
    what the schedule does: the hyperparameters of every param group at every step, at
    every learning rate of the grid (see :func:`schedule_fingerprint`).
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
    settings = {"batch_size": batch_size, "epochs": epochs, "hidden": list(hidden), "data": digest.hexdigest()}
    if scheduler is not None:
        steps = epochs * math.ceil(data.n_train / batch_size)
        settings["schedule"] = schedule_fingerprint(scheduler, optimizer_class, hyperparameters, learning_rates,
                                                    steps)
    return _run_grid("network", optimizer_class, hyperparameters or {}, learning_rates, seeds, settings, metric, one)


def schedule_fingerprint(scheduler: Scheduler, optimizer_class: type[torch.optim.Optimizer],
                         hyperparameters: Mapping[str, Any] | None, learning_rates: Sequence[float],
                         steps: int) -> str:
    """A hash of what ``scheduler`` does over ``steps`` steps: for each learning rate, it is
    made on an ``optimizer_class`` with those hyperparameters (on a 2 × 2 parameter that is
    never stepped), stepped ``steps`` times, and every number in every param group is
    recorded after each step. Two schedules that set the same hyperparameters at every
    step give the same runs, and the same hash."""
    import warnings

    check_whole("steps", steps, 1)
    digest = hashlib.sha1()
    for lr in learning_rates:
        optimizer = optimizer_class([torch.zeros(2, 2, requires_grad=True)], **{**dict(hyperparameters or {}),
                                                                                  "lr": float(lr)})
        schedule = scheduler(optimizer)
        with warnings.catch_warnings():  # "lr_scheduler.step() before optimizer.step()": on purpose
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(steps + 1):
                numbers = [[key, value] for group in optimizer.param_groups for key, value in sorted(group.items())
                           if key != "params" and isinstance(value, (int, float, tuple))]
                digest.update(json.dumps(numbers, default=repr).encode())
                schedule.step()
    return digest.hexdigest()
