"""Rates of gradient descent, the heavy ball and Nesterov on a quadratic, against their
closed forms (Polyak 1964; Lessard, Recht & Packard 2016, Proposition 1) and against runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optim_lib import QUADRATIC, SGD, run_trajectory
from optim_lib.rates import best_factor, factor_per_step, worst_factor


@pytest.mark.parametrize("mu, L", [(0.2, 4.0), (1.0, 100.0), (0.5, 2.0)])
def test_best_factors_are_the_closed_forms(mu, L):
    c = L / mu
    gd = best_factor("gradient descent", (mu, L))
    assert gd.factor == pytest.approx((c - 1) / (c + 1), abs=1e-9)
    assert gd.lr == pytest.approx(2 / (L + mu), rel=1e-6) and gd.momentum == 0.0

    heavy_ball = best_factor("heavy ball", (mu, L))
    assert heavy_ball.factor == pytest.approx((math.sqrt(c) - 1) / (math.sqrt(c) + 1), abs=1e-8)
    assert heavy_ball.lr == pytest.approx(4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, rel=1e-4)
    assert heavy_ball.momentum == pytest.approx(((math.sqrt(c) - 1) / (math.sqrt(c) + 1)) ** 2, rel=1e-4)

    nesterov = best_factor("nesterov", (mu, L))
    root = math.sqrt(3 * c + 1)
    assert nesterov.factor == pytest.approx(1 - 2 / root, abs=1e-8)
    assert nesterov.lr == pytest.approx(4 / (3 * L + mu), rel=1e-4)
    assert nesterov.momentum == pytest.approx((root - 2) / (root + 2), rel=1e-4)


def test_nesterovs_closed_form_tuning_is_no_better_on_the_whole_interval_than_at_its_ends():
    # Lessard et al.'s rate is a worst case over every curvature in [mu, L]: the search over
    # the two end points alone finds the same value.
    mu, L = 0.2, 4.0
    root = math.sqrt(3 * L / mu + 1)
    lr, momentum = 4 / (3 * L + mu), (root - 2) / (root + 2)
    interval = np.linspace(mu, L, 2001)
    assert worst_factor("nesterov", interval, lr, momentum) == pytest.approx(1 - 2 / root, abs=1e-12)


def test_gradient_descent_factor_is_one_minus_lr_h():
    assert factor_per_step("gradient descent", 4.0, 0.6) == pytest.approx(1.4)
    assert factor_per_step("gradient descent", 0.2, 0.4) == pytest.approx(0.92)


@pytest.mark.parametrize("method, hyperparameters", [
    ("heavy ball", {"lr": 0.6, "momentum": 0.5}),
    ("heavy ball", {"lr": 0.6, "momentum": 0.25}),
    ("nesterov", {"lr": 0.3, "momentum": 0.5}),
])
def test_factor_is_the_decay_rate_of_a_run(method, hyperparameters):
    # The run's distance to the minimum, over the last 100 of 300 steps, shrinks on average by
    # the worst factor per step (the slowest direction dominates the distance).
    nesterov = method == "nesterov"
    run = run_trajectory(SGD, {**hyperparameters, "nesterov": nesterov}, QUADRATIC, steps=300)
    distance = np.linalg.norm(run.path, axis=1)
    measured = (distance[300] / distance[200]) ** (1 / 100)
    predicted = worst_factor(method, (0.2, 4.0), hyperparameters["lr"], hyperparameters["momentum"])
    assert measured == pytest.approx(predicted, rel=2e-2)


def test_bad_arguments_are_refused_with_their_names():
    with pytest.raises(ValueError, match=r"method must be one of 'gradient descent', 'heavy ball', 'nesterov'; got 'adam'"):
        factor_per_step("adam", 1.0, 0.1)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\); got 1.0"):
        factor_per_step("heavy ball", 1.0, 0.1, momentum=1.0)
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\); got -0.1"):
        factor_per_step("heavy ball", 1.0, -0.1)
    with pytest.raises(ValueError, match=r"gradient descent has no momentum; got momentum=0.5"):
        factor_per_step("gradient descent", 1.0, 0.1, momentum=0.5)
    with pytest.raises(ValueError, match=r"curvatures must be positive finite numbers; got \[0.0, 1.0\]"):
        best_factor("heavy ball", (0.0, 1.0))
