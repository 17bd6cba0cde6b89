"""best_learning_rate: the best of a grid, checked against gradient descent's closed form."""

from __future__ import annotations

import numpy as np
import pytest

from optim_lib import QUADRATIC, ROTATED_QUADRATIC, SGD, Adagrad
from optim_lib.compare import LEARNING_RATE_GRID, best_learning_rate


def _gradient_descent_f(lr: float, steps: int) -> float:
    """f after `steps` steps from (-5, -2) on 0.1 x1^2 + 2 x2^2: each coordinate is multiplied
    by 1 - lr h per step (chapter 2's factor), so the point is known without running anything."""
    with np.errstate(over="ignore"):
        x1, x2 = -5 * np.float64(1 - 0.2 * lr) ** steps, -2 * np.float64(1 - 4 * lr) ** steps
        return float(0.1 * x1**2 + 2 * x2**2)


@pytest.mark.parametrize("steps", [20, 100])
def test_best_learning_rate_of_gradient_descent_is_the_grid_point_the_closed_form_picks(steps):
    expected = min(LEARNING_RATE_GRID, key=lambda lr: _gradient_descent_f(lr, steps))
    run = best_learning_rate(SGD, {}, QUADRATIC, steps=steps)
    assert run.hyperparameters == {"lr": expected}
    assert run.losses[-1] == pytest.approx(_gradient_descent_f(expected, steps), rel=1e-9)
    assert len(run.path) == steps + 1


def test_grid_is_20_learning_rates_per_decade_from_0_001_to_10():
    assert len(LEARNING_RATE_GRID) == 81
    assert LEARNING_RATE_GRID[0] == pytest.approx(1e-3) and LEARNING_RATE_GRID[-1] == pytest.approx(10.0)
    np.testing.assert_allclose(np.diff(np.log10(LEARNING_RATE_GRID)), 0.05, rtol=1e-9)


def test_diverging_runs_are_never_chosen():
    # lr 1000 leaves every bound at once; lr 0.4 converges.
    run = best_learning_rate(SGD, {}, QUADRATIC, steps=20, grid=[1000.0, 0.4])
    assert run.hyperparameters["lr"] == 0.4 and run.diverged_at is None


def test_other_hyperparameters_are_kept_and_the_landscape_is_used():
    run = best_learning_rate(Adagrad, {"eps": 1e-8}, ROTATED_QUADRATIC, steps=5, grid=[0.1, 1.0])
    assert run.hyperparameters["eps"] == 1e-8 and run.landscape is ROTATED_QUADRATIC


def test_bad_arguments_are_refused_with_their_names():
    with pytest.raises(ValueError, match=r"hyperparameters must not set lr \(the grid does\); got lr=0.1"):
        best_learning_rate(SGD, {"lr": 0.1}, QUADRATIC)
    with pytest.raises(ValueError, match=r"grid must be a non-empty sequence of positive finite learning rates"):
        best_learning_rate(SGD, {}, QUADRATIC, grid=[])
    with pytest.raises(ValueError, match=r"grid must be .*; got \[0.1, -1.0\]"):
        best_learning_rate(SGD, {}, QUADRATIC, grid=[0.1, -1.0])
    with pytest.raises(ValueError, match=r"steps must be a whole number in \[1, inf\); got 0"):
        best_learning_rate(SGD, {}, QUADRATIC, steps=0)
    with pytest.raises(ValueError, match=r"every learning rate in grid diverged on 'Elongated quadratic' within 20 steps"):
        best_learning_rate(SGD, {}, QUADRATIC, steps=20, grid=[1e3, 1e4])
