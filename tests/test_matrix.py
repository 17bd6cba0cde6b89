"""The matrix experiment: its loss and gradient against independent computations (autograd,
the covariance's factor), the rotated problem against the aligned one turned, and the runner's
two paths (optim_lib's rule on NumPy arrays, torch.optim's class through .grad) against each
other."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib.matrix import MatrixProblem, matrix_problem, sweep_matrix, train_matrix
from optim_lib.rules.muon import newton_schulz, NS_COEFFICIENTS
from oracles import oracle_setting


@pytest.fixture(scope="module")
def small():
    return matrix_problem(6, 5, condition=100.0, seed=3)


def test_the_covariance_has_the_stated_eigenvalues_and_factor(small):
    np.testing.assert_allclose(np.linalg.eigvalsh(small.covariance)[::-1], 100.0 ** (-np.arange(5) / 4), rtol=1e-12)
    np.testing.assert_allclose(small.factor.T @ small.factor, small.covariance, atol=1e-14)
    assert small.shape == (6, 5)


def test_the_loss_is_half_the_squared_error_through_the_factor(small):
    W = np.random.default_rng(0).normal(size=small.shape)
    by_hand = 0.5 * np.linalg.norm((W - small.target) @ small.factor.T) ** 2
    assert small.loss(W) == pytest.approx(by_hand, rel=1e-12)


def test_the_gradient_is_autograds_of_the_minibatch_squared_error(small):
    rng = np.random.default_rng(1)
    W, X = rng.normal(size=small.shape), rng.normal(size=(7, 5))
    w = torch.tensor(W, requires_grad=True)
    (0.5 * ((torch.tensor(X) @ (w - torch.tensor(small.target)).T) ** 2).sum() / 7).backward()
    np.testing.assert_allclose(small.gradient(W, X), w.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("optimizer_class", "hyperparameters"),
                         [(optim_lib.SGD, {"lr": 0.3, "momentum": 0.9}), (optim_lib.Muon, {"lr": 0.05})])
def test_a_method_whose_step_turns_with_the_gradient_sees_the_same_losses_on_both_problems(optimizer_class,
                                                                                       hyperparameters):
    aligned, rotated = (matrix_problem(8, 8, condition=100.0, rotated=r) for r in (False, True))
    a = train_matrix(optimizer_class, hyperparameters, aligned, steps=60, batch_size=16)
    b = train_matrix(optimizer_class, hyperparameters, rotated, steps=60, batch_size=16)
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-9)
    np.testing.assert_allclose(a.singular_values, b.singular_values, rtol=1e-7, atol=1e-12)


def test_adam_sees_different_losses_on_the_turned_problem():
    aligned, rotated = (matrix_problem(8, 8, condition=100.0, rotated=r) for r in (False, True))
    a = train_matrix(optim_lib.Adam, {"lr": 0.1}, aligned, steps=60, batch_size=16)
    b = train_matrix(optim_lib.Adam, {"lr": 0.1}, rotated, steps=60, batch_size=16)
    assert a.losses[0] == pytest.approx(b.losses[0], rel=1e-12)  # the same start
    assert abs(math.log(a.final_loss / b.final_loss)) > 0.5


@pytest.mark.parametrize("name", ["SGD", "Adam", "Muon"])
def test_optim_libs_rule_path_is_torch_optims_path(name, small):
    hyperparameters = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05}
    with oracle_setting(name):
        ours = train_matrix(getattr(optim_lib, name), hyperparameters, small, steps=50, batch_size=8)
        theirs = train_matrix(getattr(torch.optim, name), hyperparameters, small, steps=50, batch_size=8)
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-10)
    assert np.abs(ours.weights - theirs.weights).max() <= 1e-10


def test_the_linear_schedule_falls_to_lr_over_steps(small):
    run = train_matrix(optim_lib.SGD, {"lr": 0.2}, small, steps=10)
    np.testing.assert_allclose(run.learning_rates, 0.2 * (1 - np.arange(10) / 10))
    constant = train_matrix(optim_lib.SGD, {"lr": 0.2}, small, steps=10, schedule="constant")
    assert (constant.learning_rates == 0.2).all()


def test_gradient_descents_first_update_has_the_gradients_singular_values_times_lr(small):
    run = train_matrix(optim_lib.SGD, {"lr": 0.2}, small, steps=1, batch_size=4, seed=5)
    X = np.random.default_rng(5).standard_normal((1, 4, 5))[0] @ small.factor
    expected = 0.2 * np.linalg.svd(small.gradient(np.zeros(small.shape), X), compute_uv=False)
    np.testing.assert_allclose(run.singular_values[0], expected, rtol=1e-10, atol=1e-15)  # rank 4: one is 0


def test_muons_update_is_newton_schulz_of_its_momentum_at_the_first_step(small):
    """At t = 1 the Nesterov mix is (1 - mu)(1 + mu) g, so the update is NS(g) times lr'
    (sqrt(max(1, 6/5)) for this 6 x 5 matrix)."""
    run = train_matrix(optim_lib.Muon, {"lr": 0.1, "weight_decay": 0.0}, small, steps=1, batch_size=4, seed=5)
    X = np.random.default_rng(5).standard_normal((1, 4, 5))[0] @ small.factor
    G = small.gradient(np.zeros(small.shape), X)
    a, b, c = NS_COEFFICIENTS
    expected = -0.1 * math.sqrt(6 / 5) * newton_schulz(G, a=a, b=b, c=c, steps=5, eps=1e-7)
    np.testing.assert_allclose(run.weights, expected, rtol=1e-12, atol=1e-15)


def test_a_diverging_run_stops_and_says_when(small):
    run = train_matrix(optim_lib.SGD, {"lr": 1e4}, small, steps=50, schedule="constant")
    assert run.diverged_at is not None and run.final_loss == math.inf
    assert len(run.losses) == run.diverged_at + 1 and "diverged at step" in run.summary()


def test_sweep_matrix_gives_one_final_loss_per_rate_and_seed(small):
    result = sweep_matrix(optim_lib.SGD, {}, [0.01, 0.1, 1e4], small, seeds=(0, 1), steps=20)
    assert result.values.shape == (3, 2) and np.isnan(result.values[2]).all()
    expected = train_matrix(optim_lib.SGD, {"lr": 0.1}, small, steps=20, seed=1).final_loss
    assert result.values[1, 1] == pytest.approx(expected, rel=1e-12)


def test_bad_arguments_are_refused_with_their_names(small):
    with pytest.raises(ValueError, match=r"condition must be a number in \[1, inf\); got 0.5"):
        matrix_problem(condition=0.5)
    with pytest.raises(ValueError, match="rows must be a whole number"):
        matrix_problem(0)
    with pytest.raises(ValueError, match=r"schedule must be one of \('linear', 'constant'\); got 'cosine'"):
        train_matrix(optim_lib.SGD, {"lr": 0.1}, small, schedule="cosine")
    with pytest.raises(TypeError, match="problem must be a MatrixProblem"):
        train_matrix(optim_lib.SGD, {"lr": 0.1}, "problem")
    assert isinstance(small, MatrixProblem)
