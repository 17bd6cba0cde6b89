"""The linear-regression trainer: deterministic, correct gradient, honest divergence."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib.training import linear_regression_gradient, squared_loss, train_linear_regression


def test_same_seed_same_curve(airfoil):
    a = train_linear_regression(optim_lib.Adam, {"lr": 0.01}, airfoil, seed=3)
    b = train_linear_regression(optim_lib.Adam, {"lr": 0.01}, airfoil, seed=3)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_different_seed_different_curve(airfoil):
    a = train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil, seed=0)
    b = train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil, seed=1)
    assert not np.array_equal(a.losses, b.losses)


@pytest.mark.parametrize("kind", ["tensors", "numpy"])
def test_gradient_matches_autograd(airfoil, kind):
    X, y = airfoil.X[:37], airfoil.y[:37]
    w = torch.randn(5, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    ((X @ w + b - y) ** 2 / 2).mean().backward()
    arguments = (X, y, w.detach(), b.detach())
    if kind == "numpy":  # what the trainer passes
        arguments = tuple(a.numpy() for a in arguments)
    grad_w, grad_b = (torch.as_tensor(g) for g in linear_regression_gradient(*arguments))
    torch.testing.assert_close(grad_w, w.grad)
    torch.testing.assert_close(grad_b, b.grad)


def test_loss_is_half_the_mean_squared_error(airfoil):
    w, b = torch.zeros(5), torch.zeros(1)
    # With w = 0, b = 0 the loss is mean(y^2)/2 = var(y)/2 = 1/2 for standardized y.
    assert squared_loss(airfoil.X, airfoil.y, w, b) == pytest.approx(0.5, abs=1e-5)


def test_records_every_200_examples_plus_the_start(airfoil):
    curve = train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil, batch_size=10, epochs=2)
    assert len(curve.losses) == 1 + 2 * 1500 // 200
    assert curve.epochs[0] == 0 and curve.epochs[-1] == 2.0


def test_minibatch_sgd_learns(airfoil):
    # Least squares on the standardized data reaches about 0.24 (fit in closed form here).
    X1 = torch.cat([airfoil.X, torch.ones(len(airfoil), 1)], 1).double()
    solution = torch.linalg.lstsq(X1, airfoil.y.double().unsqueeze(1)).solution.squeeze(1)
    best = float(((X1 @ solution - airfoil.y.double()) ** 2).mean() / 2)
    curve = train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil)
    assert curve.losses[0] == pytest.approx(0.5, abs=0.01)
    assert best <= curve.final_loss < best + 0.02


def test_our_classes_and_torchs_give_the_same_curve(airfoil):
    ours = train_linear_regression(optim_lib.RMSprop, {"lr": 0.01, "alpha": 0.9}, airfoil)
    theirs = train_linear_regression(torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9}, airfoil)
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-4)


def test_divergence_is_reported_not_raised(airfoil):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflowing on the way is expected, not a warning
        curve = train_linear_regression(optim_lib.SGD, {"lr": 5.0}, airfoil)
    assert curve.diverged_at is not None
    assert curve.summary().startswith("diverged at epoch")
    assert curve.epochs[-1] == curve.diverged_at


def test_full_batch_is_gradient_descent(airfoil):
    curve = train_linear_regression(optim_lib.SGD, {"lr": 1.0}, airfoil, batch_size=1500, epochs=3, record_every=1500)
    assert len(curve.losses) == 4
    assert np.all(np.diff(curve.losses) < 0)


@pytest.mark.parametrize("arguments", [{"batch_size": 0}, {"epochs": -1}, {"record_every": 0}, {"batch_size": 2.5}])
def test_bad_settings_are_refused(airfoil, arguments):
    with pytest.raises(ValueError, match=next(iter(arguments))):
        train_linear_regression(optim_lib.SGD, {"lr": 0.1}, airfoil, **arguments)


def test_the_last_step_is_always_recorded(airfoil):
    # 3000 examples in 2 epochs is not a multiple of 700: the end must still be recorded.
    curve = train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil, epochs=2, record_every=700)
    assert list(curve.epochs) == [0.0, 700 / 1500, 1400 / 1500, 2100 / 1500, 2800 / 1500, 2.0]


def test_no_epochs_records_the_initial_loss_only(airfoil):
    curve = train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil, epochs=0)
    assert list(curve.epochs) == [0.0]
    assert curve.summary() == f"loss: {curve.losses[0]:.3f} (no training)"
