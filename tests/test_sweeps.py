"""Learning-rate sweeps: the grid, the stated rule for choosing, the cache (which must never
answer for a changed experiment), and each experiment against its runner called directly."""

from __future__ import annotations

import math

import numpy as np
import pytest

import optim_lib
from optim_lib import QUADRATIC, run_trajectory, train_linear_regression
from optim_lib.sweeps import (
    CACHE_VARIABLE, SweepResult, best_value, choose, good_range, learning_rate_grid, sweep_airfoil, sweep_network,
    sweep_trajectory,
)


def test_grid_has_the_stated_rates_per_decade():
    np.testing.assert_allclose(learning_rate_grid(1e-3, 1e-1, per_decade=3),
                               [1e-3, 2.15e-3, 4.64e-3, 1e-2, 2.15e-2, 4.64e-2, 1e-1])


@pytest.mark.parametrize("bad", [(0.0, 1.0), (1.0, 0.1), (1e-3, math.inf)])
def test_grid_refuses_bad_ends(bad):
    with pytest.raises(ValueError, match="0 < low < high"):
        learning_rate_grid(*bad)


def _result(values, higher=False):
    return SweepResult("X", {}, "test", "test accuracy" if higher else "final loss",
                       np.array([0.01, 0.1, 1.0]), (0, 1), np.array(values, dtype=float))


def test_choose_takes_the_best_mean_and_counts_divergence_as_the_worst():
    # At 1.0 one seed diverged (NaN): its mean is the worst, however good the other seed.
    result = _result([[0.3, 0.5], [0.2, 0.2], [0.0, np.nan]])
    assert choose(result) == 0.1 and best_value(result) == pytest.approx(0.2)
    assert choose(_result([[0.3, 0.5], [0.9, 0.9], [1.0, np.nan]], higher=True)) == 0.1


def test_choose_takes_the_smaller_rate_on_a_tie():
    assert choose(_result([[0.2, 0.2], [0.2, 0.2], [0.5, 0.5]])) == 0.01


def test_good_range_is_the_rates_within_the_margin_of_the_best():
    assert good_range(_result([[0.25, 0.25], [0.2, 0.2], [0.22, 0.22]]), within=0.03) == (0.1, 1.0)


def test_trajectory_sweep_is_the_runner_at_each_rate():
    rates = [0.05, 0.4, 1.0]
    result = sweep_trajectory(optim_lib.SGD, {}, rates, QUADRATIC, steps=20)
    for lr, (value,) in zip(rates, result.values):
        run = run_trajectory(optim_lib.SGD, {"lr": lr}, QUADRATIC, steps=20)
        if run.diverged_at is None:
            assert value == run.losses[-1]
        else:
            assert math.isnan(value)
    assert math.isnan(result.values[2, 0])  # lr 1 > 2/4: |x2| grows 3x a step, past 1e6 at step 12


def test_airfoil_sweep_is_the_trainer_at_each_rate_and_seed(airfoil):
    result = sweep_airfoil(optim_lib.Adam, {}, [0.01], airfoil, seeds=(0, 3), epochs=1)
    for j, seed in enumerate((0, 3)):
        curve = train_linear_regression(optim_lib.Adam, {"lr": 0.01}, airfoil, epochs=1, seed=seed)
        assert result.values[0, j] == curve.final_loss


def test_network_sweep_reports_the_test_accuracy():
    from optim_lib.digits import load_digits
    from optim_lib.network import train_network

    data = load_digits()
    result = sweep_network(optim_lib.Adam, {}, [3e-3], data, seeds=(0,), epochs=1)
    assert result.values[0, 0] == train_network(optim_lib.Adam, {"lr": 3e-3}, data, epochs=1).final_test_accuracy
    assert result.higher_is_better


def test_the_cache_answers_the_same_sweep_and_only_that(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path))
    first = sweep_trajectory(optim_lib.SGD, {}, [0.1, 0.2], QUADRATIC, steps=10)
    assert len(list(tmp_path.glob("*.json"))) == 1
    again = sweep_trajectory(optim_lib.SGD, {}, [0.1, 0.2], QUADRATIC, steps=10)
    np.testing.assert_array_equal(first.values, again.values)
    other = sweep_trajectory(optim_lib.SGD, {"momentum": 0.5}, [0.1, 0.2], QUADRATIC, steps=10)
    assert len(list(tmp_path.glob("*.json"))) == 2
    assert not np.array_equal(first.values, other.values)


def test_a_cached_value_is_what_was_computed(tmp_path, monkeypatch):
    # Oracle: the runner, called directly; the cache must store the numbers exactly.
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path))
    sweep_trajectory(optim_lib.Adam, {}, [0.3], QUADRATIC, steps=30)
    cached = sweep_trajectory(optim_lib.Adam, {}, [0.3], QUADRATIC, steps=30)
    assert cached.values[0, 0] == run_trajectory(optim_lib.Adam, {"lr": 0.3}, QUADRATIC, steps=30).losses[-1]


def test_the_learning_rate_may_not_be_fixed():
    with pytest.raises(ValueError, match="must not hold lr"):
        sweep_trajectory(optim_lib.SGD, {"lr": 0.1}, [0.1], QUADRATIC)


def test_plot_sweeps_marks_the_chosen_rate_and_divergence():
    from optim_lib.plotting import plot_sweeps

    result = sweep_trajectory(optim_lib.SGD, {}, [0.05, 0.1, 0.4, 1.0], QUADRATIC, steps=20)
    ax = plot_sweeps(result)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning rate η" and ax.get_ylabel() == "final f"
    crosses = [line for line in ax.lines if line.get_marker() == "x"]
    assert crosses and list(crosses[0].get_xdata()) == [1.0]
