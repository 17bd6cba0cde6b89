"""The rotated bowl: the course's quadratic turned by 45°, checked against the unrotated one
(the oracle), against autograd, and in pure Python (the website runs it without NumPy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optim_lib import QUADRATIC, ROTATED_QUADRATIC, SGD, Adagrad, LANDSCAPES, run_trajectory

ANGLE = math.pi / 4
R = np.array([[math.cos(ANGLE), -math.sin(ANGLE)], [math.sin(ANGLE), math.cos(ANGLE)]])
POINTS = [(-5.0, -2.0), (0.7, -1.3), (3.0, 0.25), (0.0, 0.0), (-1e-3, 2e4)]


@pytest.mark.parametrize("x", POINTS)
def test_rotated_bowl_at_R_x_is_the_bowl_at_x(x):
    rotated = R @ np.array(x)
    assert ROTATED_QUADRATIC.f(*rotated) == pytest.approx(QUADRATIC.f(*x), rel=1e-13, abs=1e-300)
    # The gradient turns with the point: grad f_rot(R x) = R grad f(x).
    np.testing.assert_allclose(ROTATED_QUADRATIC.grad(*rotated), R @ np.array(QUADRATIC.grad(*x)),
                               rtol=1e-12, atol=1e-12 * max(1.0, abs(max(x, key=abs))))


def test_rotated_bowl_written_out_is_1_05_x1_squared_minus_1_9_x1_x2_plus_1_05_x2_squared():
    # Expanding 0.1 u1^2 + 2 u2^2 with u = ((x1 + x2), (x2 - x1)) / sqrt(2) by hand.
    for x1, x2 in POINTS:
        assert ROTATED_QUADRATIC.f(x1, x2) == pytest.approx(1.05 * x1**2 - 1.9 * x1 * x2 + 1.05 * x2**2,
                                                            rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("x", POINTS[:4])
def test_rotated_bowl_gradient_matches_autograd(x):
    point = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ROTATED_QUADRATIC.f(point[0], point[1]).backward()
    np.testing.assert_allclose(ROTATED_QUADRATIC.grad(*x), point.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_rotated_bowl_has_its_minimum_at_the_origin_and_curvatures_0_2_and_4_along_the_diagonals():
    assert ROTATED_QUADRATIC.minima == ((0.0, 0.0),)
    assert ROTATED_QUADRATIC.grad(0.0, 0.0) == (0.0, 0.0)
    # Finite differences of the gradient give the Hessian's columns; its eigenvectors are the diagonals.
    hessian = np.column_stack([ROTATED_QUADRATIC.grad(1.0, 0.0), ROTATED_QUADRATIC.grad(0.0, 1.0)])
    np.testing.assert_allclose(hessian, [[2.1, -1.9], [-1.9, 2.1]], rtol=1e-13)
    np.testing.assert_allclose(hessian @ [1, 1], 0.2 * np.array([1, 1]), rtol=1e-12)
    np.testing.assert_allclose(hessian @ [1, -1], 4.0 * np.array([1, -1]), rtol=1e-12)


def test_rotated_bowl_starts_at_the_quadratics_start_turned_and_inside_its_plot_box():
    np.testing.assert_allclose(ROTATED_QUADRATIC.start, R @ np.array(QUADRATIC.start), rtol=1e-15)
    (low1, high1), (low2, high2) = ROTATED_QUADRATIC.x1_range, ROTATED_QUADRATIC.x2_range
    assert low1 < ROTATED_QUADRATIC.start[0] < high1 and low2 < ROTATED_QUADRATIC.start[1] < high2
    assert low1 < 0 < high1 and low2 < 0 < high2
    assert LANDSCAPES["rotated"] is ROTATED_QUADRATIC


def test_rotated_bowl_runs_on_plain_floats():
    value = ROTATED_QUADRATIC.f(-5.0, -2.0)
    gradient = ROTATED_QUADRATIC.grad(-5.0, -2.0)
    assert type(value) is float and all(type(g) is float for g in gradient)


@pytest.mark.parametrize("hyperparameters", [{"lr": 0.4}, {"lr": 0.6, "momentum": 0.5}])
def test_gradient_descent_and_momentum_reach_the_same_f_on_both_bowls(hyperparameters):
    # They only add multiples of gradients, which turn with the point: the rotated run is the
    # aligned run turned by R.
    aligned = run_trajectory(SGD, hyperparameters, QUADRATIC, steps=50)
    rotated = run_trajectory(SGD, hyperparameters, ROTATED_QUADRATIC, steps=50)
    np.testing.assert_allclose(rotated.path, aligned.path @ R.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(rotated.losses, aligned.losses, rtol=1e-9, atol=1e-24)


def test_adagrad_does_not_turn_with_the_bowl():
    # A per-coordinate scale depends on the axes: its first step is lr times the sign of
    # each coordinate's gradient, (+1, +1) on the aligned bowl's start but (-1, +1) turned.
    aligned = run_trajectory(Adagrad, {"lr": 0.4}, QUADRATIC, steps=1)
    rotated = run_trajectory(Adagrad, {"lr": 0.4}, ROTATED_QUADRATIC, steps=1)
    np.testing.assert_allclose(aligned.path[1] - aligned.path[0], [0.4, 0.4], rtol=1e-9)
    np.testing.assert_allclose(rotated.path[1] - rotated.path[0], [-0.4, 0.4], rtol=1e-9)
    assert not np.isclose(rotated.losses[1], aligned.losses[1])
