"""The 2-D runner against Dive into Deep Learning's published traces, against torch.optim,
and on runs that blow up."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib import QUADRATIC, ROSENBROCK, SADDLE, run_trajectory

# Published final points after 20 steps from (-5, -2) on f = 0.1 x1^2 + 2 x2^2
# (Dive into Deep Learning, sections 12.3, 12.6, 12.7, 12.8).
PUBLISHED = [
    ("SGD", {"lr": 0.4}, (-0.943467, -0.000073)),
    ("SGD", {"lr": 0.6}, (-0.387814, -1673.365109)),
    ("SGD", {"lr": 0.6, "momentum": 0.5}, (0.007188, 0.002553)),
    ("SGD", {"lr": 0.6, "momentum": 0.25}, (-0.126340, -0.186632)),
    ("Adagrad", {"lr": 0.4}, (-2.382563, -0.158591)),
    ("Adagrad", {"lr": 2.0}, (-0.002295, -0.000000)),
    ("RMSprop", {"lr": 0.4, "alpha": 0.9}, (-0.010599, 0.000000)),
]


@pytest.mark.parametrize(("name", "hyperparameters", "expected"), PUBLISHED)
def test_reproduces_published_final_point(name, hyperparameters, expected):
    trajectory = run_trajectory(getattr(optim_lib, name), hyperparameters, steps=20)
    np.testing.assert_allclose(trajectory.final, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize(("name", "hyperparameters", "expected"), PUBLISHED)
def test_torch_optim_class_gives_the_same_path(name, hyperparameters, expected):
    ours = run_trajectory(getattr(optim_lib, name), hyperparameters)
    theirs = run_trajectory(getattr(torch.optim, name), hyperparameters)
    np.testing.assert_allclose(ours.path, theirs.path, rtol=1e-12, atol=1e-12)


def test_path_starts_at_the_default_start_and_has_one_row_per_step():
    trajectory = run_trajectory(optim_lib.Adam, {"lr": 0.1}, steps=7)
    assert trajectory.path.shape == (8, 2)
    assert tuple(trajectory.path[0]) == (-5.0, -2.0)


def test_first_gradient_descent_step_by_hand():
    # x - lr * grad f(x) = (-5 - 0.1 * 0.2 * -5, -2 - 0.1 * 4 * -2) = (-4.9, -1.2)
    trajectory = run_trajectory(optim_lib.SGD, {"lr": 0.1}, steps=1)
    np.testing.assert_allclose(trajectory.final, (-4.9, -1.2), rtol=0, atol=1e-15)


def test_summary_prints_like_the_published_book():
    trajectory = run_trajectory(optim_lib.Adagrad, {"lr": 0.4})
    assert trajectory.summary() == "epoch 20, x1 -2.382562, x2 -0.158591"


def test_diverging_run_stops_and_says_when():
    # lr 1: x2 <- (1 - 4) x2, so |x2_k| = 2 * 3^k passes 1e6 first at k = 12 (3^12 = 531441).
    trajectory = run_trajectory(optim_lib.SGD, {"lr": 1.0}, steps=50)
    assert trajectory.diverged_at == 12
    assert len(trajectory.path) == 12
    assert np.isfinite(trajectory.path).all()
    assert "diverged at step 12" in trajectory.summary()


def test_overflowing_run_raises_nothing():
    trajectory = run_trajectory(optim_lib.SGD, {"lr": 1e200}, steps=5)
    assert trajectory.diverged_at == 1


@pytest.mark.parametrize("landscape", [QUADRATIC, ROSENBROCK, SADDLE])
def test_landscape_gradient_matches_autograd(landscape):
    x = torch.tensor([0.7, -1.3], dtype=torch.float64, requires_grad=True)
    landscape.f(x[0], x[1]).backward()
    np.testing.assert_allclose(landscape.grad(0.7, -1.3), x.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("landscape", [QUADRATIC, ROSENBROCK, SADDLE])
def test_landscape_minima_have_zero_gradient_and_start_is_in_the_plot_box(landscape):
    for minimum in landscape.minima:
        assert np.allclose(landscape.grad(*minimum), 0.0)
    (low1, high1), (low2, high2) = landscape.x1_range, landscape.x2_range
    assert low1 <= landscape.start[0] <= high1 and low2 <= landscape.start[1] <= high2


def test_bad_steps_and_start_are_refused():
    with pytest.raises(ValueError, match=r"steps must be a whole number in \[0, inf\); got -1"):
        run_trajectory(optim_lib.SGD, {"lr": 0.1}, steps=-1)
    with pytest.raises(ValueError, match=r"start must be two finite numbers"):
        run_trajectory(optim_lib.SGD, {"lr": 0.1}, start=(1.0, float("nan")))


def test_bad_hyperparameter_is_refused_by_the_class():
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\); got -1"):
        run_trajectory(optim_lib.Adam, {"lr": -1})
