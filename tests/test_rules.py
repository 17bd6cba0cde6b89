"""First steps computed by hand, and the rules' behaviour on NumPy and torch inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optim_lib.optimizers import (
    adadelta_init, adadelta_update, adafactor_init, adafactor_update, adagrad_init, adagrad_update, adam_init,
    adam_update, adamax_init, adamax_update, adamw_schedule_free_init, adamw_schedule_free_update, adamw_update,
    lion_init, lion_update, muon_init, muon_update, nadam_init, nadam_update, radam_init, radam_update,
    rmsprop_init, rmsprop_update, sgd_init, sgd_update,
)
from optim_lib.rules import RULES, schedule_free_x
from optim_lib.rules._arrays import sign
from optim_lib.rules.muon import NS_COEFFICIENTS

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


def test_nadam_first_step_by_hand():
    # t = 1: Pi_1 = mu_1, m = (1 - beta1) g, v_hat = g^2, so with eps = 0 the step is
    # lr sign(g) (1 + mu_2 (1 - beta1) / (1 - mu_1 mu_2)).
    beta1, psi = 0.9, 4e-3
    mu_1 = beta1 * (1 - 0.5 * 0.96**psi)
    mu_2 = beta1 * (1 - 0.5 * 0.96 ** (2 * psi))
    p, state = nadam_update(X, G, nadam_init(X), lr=0.1, eps=0.0)
    np.testing.assert_allclose(p, X - 0.1 * np.sign(G) * (1 + mu_2 * (1 - beta1) / (1 - mu_1 * mu_2)), rtol=1e-15)
    assert state["mu_product"] == mu_1


def test_radam_takes_momentum_steps_until_rho_passes_5_then_rectified_ones():
    # beta2 = 0.999: rho_inf = 1999 and rho_t = 1999 - 2 t 0.999^t / (1 - 0.999^t) is about
    # t - 0.0005 t^2 + ...: 4.99 at t = 5, 5.99 at t = 6. With a constant gradient m_hat = G.
    beta2 = 0.999
    rho_inf = 2 / (1 - beta2) - 1
    rho = [rho_inf - 2 * t * beta2**t / (1 - beta2**t) for t in (5, 6)]
    assert rho[0] < 5 < rho[1]
    p, state = X, radam_init(X)
    for _ in range(5):
        p, state = radam_update(p, G, state, lr=0.01, eps=0.0)
    np.testing.assert_allclose(p, X - 5 * 0.01 * G, rtol=1e-14)
    p6, _ = radam_update(p, G, state, lr=0.01, eps=0.0)
    # l_6 = sqrt(1 - beta2^6) / sqrt(v_6) = 1 / |G|, since v_6 = (1 - beta2^6) G^2.
    r = math.sqrt((rho[1] - 4) * (rho[1] - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho[1]))
    np.testing.assert_allclose(p6, p - 0.01 * r * np.sign(G), rtol=1e-12)


def test_adamax_first_step_is_lr_times_g_over_its_size_plus_eps():
    # m = (1 - beta1) g, u = |g| + eps, and the bias correction 1 / (1 - beta1) cancels.
    p, state = adamax_update(X, G, adamax_init(X), lr=0.1, eps=1e-3)
    np.testing.assert_allclose(p, X - 0.1 * G / (np.abs(G) + 1e-3), rtol=1e-15)
    np.testing.assert_array_equal(state["u"], np.abs(G) + 1e-3)


def test_adamax_u_is_the_discounted_largest_gradient_size():
    _, state = adamax_update(X, np.array([4.0, 1.0]), adamax_init(X), lr=0.1, eps=0.0, beta2=0.5)
    _, state = adamax_update(X, np.array([1.0, 3.0]), state, lr=0.1, eps=0.0, beta2=0.5)
    np.testing.assert_array_equal(state["u"], [2.0, 3.0])  # max(0.5 * 4, 1), max(0.5 * 1, 3)


def test_lion_two_steps_by_hand_from_the_papers_algorithm_2():
    """Chen et al. (2023), Algorithm 2: c_t = b1 m_{t-1} + (1 - b1) g_t,
    theta_t = theta_{t-1} - eta (sign(c_t) + lambda theta_{t-1}), m_t = b2 m_{t-1} + (1 - b2) g_t,
    with the paper's b1 = 0.9, b2 = 0.99."""
    theta0, eta, lam = np.array([1.0, -2.0, 0.5]), 0.01, 0.5
    g1, g2 = np.ones(3), np.array([-0.2, -0.05, -0.085])
    # Step 1: m_0 = 0, c_1 = 0.1 g_1 > 0; m_1 = 0.01 g_1.
    theta1 = theta0 - eta * (np.sign(g1) + lam * theta0)
    # Step 2: c_2 = 0.9 * 0.01 + 0.1 g_2 = (-0.011, 0.004, 0.0005). The last two coordinates move
    # against their own gradient's sign, with the momentum. (With the betas swapped, c_2 would be
    # positive in all three; with m updated before c, c_2 = 0.00891 + 0.109 g_2 < 0 in the third.)
    theta2 = theta1 - eta * (np.array([-1.0, 1.0, 1.0]) + lam * theta1)
    p, state = lion_update(theta0, g1, lion_init(theta0), lr=eta, beta1=0.9, beta2=0.99, weight_decay=lam)
    np.testing.assert_allclose(p, theta1, rtol=1e-15)
    np.testing.assert_allclose(state["m"], 0.01 * g1, rtol=1e-15)
    p, state = lion_update(p, g2, state, lr=eta, beta1=0.9, beta2=0.99, weight_decay=lam)
    np.testing.assert_allclose(p, theta2, rtol=1e-15)
    np.testing.assert_allclose(state["m"], 0.99 * 0.01 * g1 + 0.01 * g2, rtol=1e-15)


@pytest.mark.parametrize("kind", ["float", "numpy", "torch"])
def test_sign_is_nan_for_nan_so_lion_shows_a_nan_gradient(kind):
    """torch.sign(nan) is 0, which would make Lion's step silently 0; optim_lib's sign keeps NaN."""
    values = [math.nan, -0.0, 0.0, -3.0, 2.5]
    make = {"float": lambda v: v, "numpy": np.array, "torch": lambda v: torch.tensor(v, dtype=torch.float64)}[kind]
    signs = [float(sign(make(v))) for v in values]
    assert math.isnan(signs[0]) and signs[1:] == [0.0, 0.0, -1.0, 1.0]
    p, _ = lion_update(make(1.0), make(math.nan), lion_init(make(1.0)), lr=0.1)
    assert math.isnan(float(p))



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sign_on_numpy_arrays_is_numpys_sign_which_keeps_nan_bit_for_bit(dtype):
    """On NumPy, sign is np.sign alone (it keeps NaN: no mask needed, and the mask cost twice
    the sign in Lion's sliced step); the same bits as masking NaN back in."""
    x = np.array([math.nan, -math.nan, -0.0, 0.0, math.inf, -math.inf, 1e-45, -1e-45, -3.0, 2.5], dtype=dtype)
    masked = np.where(x != x, x, np.sign(x))
    assert np.array_equal(sign(x).view(np.uint8), masked.view(np.uint8))
    assert np.isnan(sign(x)[:2]).all()

def test_adafactor_first_step_on_a_vector_is_alpha_times_the_sign():
    # t = 1: beta2_hat = 0, V = g^2, U = sign(g) with RMS 1, rho = min(lr, 1) and
    # alpha = max(eps2, RMS(x)) rho, RMS(x) = sqrt((1 + 4) / 2); the decay uses x before the step.
    p, state = adafactor_update(X, G, adafactor_init(X), lr=0.1, weight_decay=0.5)
    alpha = math.sqrt(2.5) * 0.1
    np.testing.assert_allclose(p, (1 - 0.1 * 0.5) * X - alpha * np.sign(G), rtol=1e-15)
    np.testing.assert_array_equal(state["V"], G * G)


def test_adafactor_factored_second_moment_by_hand():
    # For g = I (2 x 2): row and column means of g^2 are 1/2, their mean 1/2, so
    # V_hat = (1/2)(1/2)/(1/2) = 1/2 everywhere and U = sqrt(2) I, whose RMS is 1.
    x = np.array([[0.5, -1.0], [2.0, 1.0]])
    p, state = adafactor_update(x, np.eye(2), adafactor_init(x), lr=0.1)
    np.testing.assert_array_equal(state["R"], [[0.5], [0.5]])
    np.testing.assert_array_equal(state["C"], [[0.5, 0.5]])
    alpha = math.sqrt((0.25 + 1 + 4 + 1) / 4) * 0.1
    np.testing.assert_allclose(p, x - alpha * math.sqrt(2) * np.eye(2), rtol=1e-15)


def test_adafactor_factors_a_rank_one_second_moment_exactly():
    # g = u v' has g^2 = (u^2)(v^2)', which the row and column means reproduce: U = sign(g).
    g = np.outer([1.0, 3.0], [1.0, -2.0, 0.5])
    x = np.ones((2, 3))
    p, _ = adafactor_update(x, g, adafactor_init(x), lr=0.1)
    np.testing.assert_allclose(p, x - 0.1 * np.sign(g), rtol=1e-14)


def _phi(sigma: float, steps: int = 5) -> float:
    """The Newton-Schulz polynomial, iterated on one singular value."""
    a, b, c = NS_COEFFICIENTS
    for _ in range(steps):
        sigma = a * sigma + b * sigma**3 + c * sigma**5
    return sigma


@pytest.mark.parametrize("tall", [False, True], ids=["square", "tall"])
def test_muon_first_step_by_hand_on_a_diagonal_gradient(tall):
    # G = diag(3, 4) (a 4 x 2 matrix when tall): singular values 3 and 4, Frobenius norm 5, so
    # the iteration maps them to phi^5(0.6) and phi^5(0.8). The momentum and the Nesterov mix
    # only scale G, which the normalization removes. lr' = lr sqrt(max(1, rows / columns)).
    g = np.zeros((4, 2) if tall else (2, 2))
    g[0, 0], g[1, 1] = 3.0, 4.0
    x = np.full(g.shape, 0.5)
    expected = np.zeros(g.shape)
    expected[0, 0], expected[1, 1] = _phi(0.6), _phi(0.8)
    p, state = muon_update(x, g, muon_init(x), lr=0.1, weight_decay=0.2)
    lr_adjusted = 0.1 * (math.sqrt(2) if tall else 1.0)
    np.testing.assert_allclose(p, (1 - 0.1 * 0.2) * x - lr_adjusted * expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(state["B"], 0.05 * g)
    assert 0.5 < _phi(0.6) < 1.5 and 0.5 < _phi(0.8) < 1.5  # near 1, not exactly


def test_muon_rule_refuses_a_vector():
    with pytest.raises(ValueError, match=r"Muon updates matrices \(2-D parameters\) only; got a gradient of shape \(2,\)"):
        muon_update(X, G, muon_init(X))


def test_schedule_free_first_step_by_hand():
    # t = 1: c_1 = 1, so y = z = x = x0 - lr_1 g_hat, g_hat = sign(g) + lambda x0 (eps = 0) and
    # lr_1 = lr / warmup_steps.
    y, state = adamw_schedule_free_update(X, G, adamw_schedule_free_init(X), lr=0.1, eps=0.0, weight_decay=0.5,
                                          warmup_steps=4)
    expected = X - 0.1 / 4 * (np.sign(G) + 0.5 * X)
    np.testing.assert_allclose(y, expected, rtol=1e-15)
    np.testing.assert_allclose(state["z"], expected, rtol=1e-15)
    np.testing.assert_allclose(schedule_free_x(y, state["z"], 0.9), expected, rtol=1e-14)


def test_schedule_free_init_copies_the_start_into_z():
    x = np.array([1.0, 2.0])
    state = adamw_schedule_free_init(x)
    x[0] = 5.0
    assert state["z"][0] == 1.0


ELEMENTWISE = [
    (sgd_init, sgd_update, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (adagrad_init, adagrad_update, {"lr": 0.1}),
    (rmsprop_init, rmsprop_update, {"lr": 0.01, "centered": True, "momentum": 0.5}),
    (adadelta_init, adadelta_update, {}),
    (adam_init, adam_update, {"lr": 0.01, "amsgrad": True}),
    (adam_init, adamw_update, {"lr": 0.01}),
    (nadam_init, nadam_update, {"lr": 0.01, "weight_decay": 0.1}),
    (nadam_init, nadam_update, {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    (radam_init, radam_update, {"lr": 0.01, "beta2": 0.9, "weight_decay": 0.1}),  # rho_t > 5 from t = 7
    (adamax_init, adamax_update, {"lr": 0.01, "weight_decay": 0.1}),
    (lion_init, lion_update, {"lr": 0.01, "weight_decay": 0.1}),
    (adamw_schedule_free_init, adamw_schedule_free_update, {"lr": 0.05, "weight_decay": 0.1, "warmup_steps": 3}),
]


def _on_numpy_and_torch(init, update, arguments: dict, x: np.ndarray, weights: np.ndarray) -> tuple:
    """Ten steps of ``update`` on the gradient ``weights * p``, from ``x`` as a NumPy array and
    as a tensor."""
    p_np, state_np = x, init(x)
    p_t, state_t = torch.from_numpy(x.copy()), init(torch.from_numpy(x.copy()))
    for _ in range(10):
        p_np, state_np = update(p_np, weights * p_np, state_np, **arguments)
        p_t, state_t = update(p_t, torch.from_numpy(weights) * p_t, state_t, **arguments)
    return p_np, p_t.numpy()


@pytest.mark.parametrize(("init", "update", "arguments"), ELEMENTWISE)
def test_the_same_rule_gives_the_same_numbers_on_numpy_and_torch(init, update, arguments):
    p_np, p_t = _on_numpy_and_torch(init, update, arguments, X, G)
    np.testing.assert_allclose(p_t, p_np, rtol=1e-13)


@pytest.mark.parametrize(
    ("init", "update", "arguments", "shape"),
    [
        (adafactor_init, adafactor_update, {"lr": 0.05, "weight_decay": 0.1}, (5,)),
        (adafactor_init, adafactor_update, {"lr": 0.05, "d": 1.5}, (3, 4)),
        (adafactor_init, adafactor_update, {"lr": 0.05}, (2, 3, 4)),
        (muon_init, muon_update, {"lr": 0.05, "nesterov": False}, (3, 4)),
        (muon_init, muon_update, {"lr": 0.05, "adjust_lr_fn": "match_rms_adamw"}, (5, 2)),
    ],
)
def test_a_whole_parameter_rule_gives_the_same_numbers_on_numpy_and_torch(init, update, arguments, shape):
    generator = np.random.default_rng(0)
    x, weights = generator.normal(size=shape), generator.uniform(0.5, 2.0, size=shape)
    p_np, p_t = _on_numpy_and_torch(init, update, arguments, x, weights)
    np.testing.assert_allclose(p_t, p_np, rtol=1e-12)


def test_only_the_whole_parameter_rules_say_they_are_not_elementwise():
    assert {name for name, rule in RULES.items() if not rule.elementwise} == {"Adafactor", "Muon"}


def test_lion_rule_takes_a_group_of_the_constructors_arguments_alone():
    """Without the class's ``init_lr`` (a group built from the signature, as a runner may),
    decoupled decay divides by the group's own lr: 1 - lr * (0.5 / lr) = 0.5."""
    rule = RULES["Lion"]
    group = {"lr": 0.1, "betas": (0.9, 0.99), "weight_decay": 0.5, "decoupled_weight_decay": True}
    rule.check(group)
    p, _ = rule.update(2.0, 1.0, rule.initial_state(2.0, group), **rule.arguments(group))
    assert p == pytest.approx(0.5 * 2.0 - 0.1, rel=1e-15)


def _kinds(value: float) -> dict:
    return {"float": value, "numpy": np.array(value), "torch": torch.tensor(value, dtype=torch.float64)}


@pytest.mark.parametrize("kind", ["float", "numpy", "torch"])
def test_the_elementwise_helpers_agree_on_floats_arrays_and_tensors(kind):
    from optim_lib.rules._arrays import clamp_min, copy, machine_epsilon, norm, numel, shape

    x = _kinds(-3.0)[kind]
    assert float(clamp_min(x, -1.0)) == -1.0 and float(clamp_min(_kinds(2.0)[kind], -1.0)) == 2.0
    assert math.isnan(float(clamp_min(_kinds(math.nan)[kind], 0.0)))  # NaN stays NaN
    assert machine_epsilon(x) == 2.0**-52
    assert norm(x) == 3.0 and type(norm(x)) is float
    assert shape(x) == () and numel(x) == 1
    y = copy(x)
    assert float(y) == -3.0 and (kind == "float" or y is not x)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_the_whole_parameter_helpers_on_arrays_and_tensors(kind):
    from optim_lib.rules._arrays import copy, machine_epsilon, mean, norm, numel, shape, transpose, zeros

    values = np.arange(6.0).reshape(2, 3)
    x = values.astype(np.float32) if kind == "numpy" else torch.from_numpy(values).float().requires_grad_(True)
    assert shape(x) == (2, 3) and numel(x) == 6
    assert norm(x) == pytest.approx(math.sqrt(sum(v * v for v in range(6))), rel=1e-6)
    assert machine_epsilon(x) == 2.0**-23  # float32's
    np.testing.assert_array_equal(np.asarray(mean(x, axis=-1).tolist()), [[1.0], [4.0]])
    np.testing.assert_array_equal(np.asarray(mean(x, axis=-2).tolist()), [[1.5, 2.5, 3.5]])
    assert shape(transpose(x)) == (3, 2)
    z = zeros(x, (2, 1))
    assert shape(z) == (2, 1) and z.dtype == x.dtype and float(abs(z).sum()) == 0.0
    y = copy(x)
    y[0, 0] = 7.0  # a copy: x is unchanged, and a tensor's copy is outside autograd's graph
    assert x.tolist()[0][0] == 0.0
    assert kind == "numpy" or not y.requires_grad
