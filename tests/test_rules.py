"""First steps computed by hand, and the rules' behaviour on NumPy and torch inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optim_lib.optimizers import (
    adadelta_init, adadelta_update, adagrad_init, adagrad_update, adam_init, adam_update,
    adamw_update, rmsprop_init, rmsprop_update, sgd_init, sgd_update,
)

X = np.array([1.0, -2.0])
G = np.array([0.5, 4.0])


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    # m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps).
    p, state = adam_update(X, G, adam_init(X), lr=0.1, eps=1e-8)
    np.testing.assert_allclose(p, X - 0.1 * G / (np.abs(G) + 1e-8), rtol=1e-15)
    assert state["t"] == 1


def test_adamw_first_step_shrinks_the_weights_then_takes_adams_step():
    p, _ = adamw_update(X, G, adam_init(X), lr=0.1, weight_decay=0.5, eps=0.0)
    np.testing.assert_allclose(p, X * (1 - 0.1 * 0.5) - 0.1 * np.sign(G), rtol=1e-15)


def test_adam_l2_weight_decay_enters_the_gradient():
    # g' = g + 0.5 x = (1.0, 3.0); the first step is still lr * sign(g').
    p, _ = adam_update(X, G, adam_init(X), lr=0.1, weight_decay=0.5, eps=0.0)
    np.testing.assert_allclose(p, X - 0.1 * np.sign(G + 0.5 * X), rtol=1e-15)


def test_adagrad_two_steps_by_hand():
    p, state = adagrad_update(X, G, adagrad_init(X), lr=1.0, eps=0.0)
    np.testing.assert_allclose(p, X - np.sign(G))  # s = g^2
    p, state = adagrad_update(p, G, state, lr=1.0, eps=0.0)
    np.testing.assert_allclose(p, X - np.sign(G) - G / np.sqrt(2 * G**2))
    np.testing.assert_allclose(state["s"], 2 * G**2)


def test_rmsprop_first_step_by_hand():
    p, state = rmsprop_update(X, G, rmsprop_init(X), lr=0.01, gamma=0.9, eps=0.0)
    np.testing.assert_allclose(state["s"], 0.1 * G**2)
    np.testing.assert_allclose(p, X - 0.01 * G / np.sqrt(0.1 * G**2))


def test_adadelta_first_step_by_hand():
    p, state = adadelta_update(X, G, adadelta_init(X), rho=0.9, eps=1e-6)
    s = 0.1 * G**2
    g_prime = math.sqrt(1e-6) / np.sqrt(s + 1e-6) * G
    np.testing.assert_allclose(p, X - g_prime, rtol=1e-14)
    np.testing.assert_allclose(state["delta"], 0.1 * g_prime**2, rtol=1e-14)


def test_sgd_momentum_first_velocity_is_the_gradient_even_with_dampening():
    _, state = sgd_update(X, G, sgd_init(X), lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_array_equal(state["v"], G)
    _, state = sgd_update(X, G, state, lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_allclose(state["v"], 0.9 * G + 0.5 * G)


def test_rules_do_not_mutate_their_inputs():
    x, g, state = X.copy(), G.copy(), adam_init(X)
    before = {k: np.copy(v) for k, v in state.items()}
    adam_update(x, g, state, lr=0.1, amsgrad=True, weight_decay=0.1)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(g, G)
    for key, value in before.items():
        np.testing.assert_array_equal(state[key], value)


@pytest.mark.parametrize(
    ("init", "update", "arguments"),
    [
        (sgd_init, sgd_update, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        (adagrad_init, adagrad_update, {"lr": 0.1}),
        (rmsprop_init, rmsprop_update, {"lr": 0.01, "centered": True, "momentum": 0.5}),
        (adadelta_init, adadelta_update, {}),
        (adam_init, adam_update, {"lr": 0.01, "amsgrad": True}),
        (adam_init, adamw_update, {"lr": 0.01}),
    ],
)
def test_the_same_rule_gives_the_same_numbers_on_numpy_and_torch(init, update, arguments):
    p_np, state_np = X, init(X)
    p_t, state_t = torch.from_numpy(X.copy()), init(torch.from_numpy(X.copy()))
    for _ in range(5):
        p_np, state_np = update(p_np, G * p_np, state_np, **arguments)
        p_t, state_t = update(p_t, torch.from_numpy(G) * p_t, state_t, **arguments)
    np.testing.assert_allclose(p_t.numpy(), p_np, rtol=1e-13)
