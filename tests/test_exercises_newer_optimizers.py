"""The exercises of the newer optimizers (NAdam, RAdam, Adamax: chapter 12; Lion: chapter 14).

As in tests/test_exercises.py: the oracle for "correct" is optim_lib's rules (themselves tested
against torch.optim and lion-pytorch) and independent implementations written here from the
equations in another form; the wrong answers are written here the way a learner would write
them, not taken from the checker's catalogue. (That every catalogue mistake is recognized as
itself, and that each exercise accepts its own reference, is tested for every exercise in
tests/test_exercises.py.)
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from optim_lib.exercises import EXERCISES, check_update
from optim_lib.optimizers import adamax_update, lion_update, nadam_update, radam_update

# --------------------------------------------------------------------------------------
# Correct answers
# --------------------------------------------------------------------------------------

OPTIM_LIB_RULES = {
    "nadam": partial(nadam_update),
    "radam": partial(radam_update),
    "adamax": partial(adamax_update),
    "lion": partial(lion_update),
}


@pytest.mark.parametrize("algorithm", sorted(OPTIM_LIB_RULES))
def test_each_exercise_accepts_the_optim_lib_rule_with_its_defaults(algorithm):
    result = check_update(OPTIM_LIB_RULES[algorithm], algorithm)
    assert result.passed, result.message


def hand_written_nadam(p, g, state, *, lr, beta1, beta2, eps, momentum_decay):
    # The form Keras documents: a corrected gradient and a corrected momentum, mixed.
    t = state["t"] + 1
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    product = state["mu_product"] * mu
    g_prime = g / (1 - product)
    m = beta1 * state["m"] + (1 - beta1) * g
    m_prime = m / (1 - product * mu_next)
    v = beta2 * state["v"] + (1 - beta2) * g**2
    m_bar = (1 - mu) * g_prime + mu_next * m_prime
    new_p = p - lr * m_bar / (np.sqrt(v / (1 - beta2**t)) + eps)
    return new_p, {"t": t, "m": m, "v": v, "mu_product": product}


def hand_written_radam(p, g, state, *, lr, beta1, beta2, eps):
    # The authors' code's form: one step size that holds both corrections and r.
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    rho_max = 2 / (1 - beta2) - 1
    rho = rho_max - 2 * t * beta2**t / (1 - beta2**t)
    if rho > 5:
        step_size = math.sqrt((1 - beta2**t) * (rho - 4) / (rho_max - 4) * (rho - 2) / rho * rho_max
                              / (rho_max - 2)) / (1 - beta1**t)
        new_p = p - lr * step_size * m / (np.sqrt(v) + eps)
    else:
        new_p = p - lr / (1 - beta1**t) * m
    return new_p, {"t": t, "m": m, "v": v}


def hand_written_adamax(p, g, state, *, lr, beta1, beta2, eps):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    candidate = np.abs(g) + eps
    u = np.where(beta2 * state["u"] > candidate, beta2 * state["u"], candidate)
    m_hat = m / (1 - beta1**t)
    return p - lr * m_hat / u, {"t": t, "m": m, "u": u}


def hand_written_lion(p, g, state, *, lr, beta1, beta2, weight_decay):
    # The paper's Algorithm 2: theta - eta (sign(c) + lambda theta).
    c = beta1 * state["m"] + (1 - beta1) * g
    new_p = p - lr * (np.sign(c) + weight_decay * p)
    return new_p, {"m": beta2 * state["m"] + (1 - beta2) * g}


HAND_WRITTEN = {"nadam": hand_written_nadam, "radam": hand_written_radam, "adamax": hand_written_adamax,
                "lion": hand_written_lion}


@pytest.mark.parametrize("algorithm", sorted(HAND_WRITTEN))
def test_each_exercise_accepts_an_independent_correct_implementation(algorithm):
    result = check_update(HAND_WRITTEN[algorithm], algorithm)
    assert result.passed, result.message
    assert result.mistake is None


def test_radams_check_takes_ten_steps_so_that_several_are_rectified():
    message = check_update(hand_written_radam, "radam").message
    assert "5 random trials of 10 steps each" in message
    assert "6 steps each" in check_update(hand_written_radam, "radam", steps=6).message


# --------------------------------------------------------------------------------------
# Classic mistakes, written as a learner would, and the hint that names each one
# --------------------------------------------------------------------------------------


def nadam_with_the_power_before_the_product(p, g, state, *, lr, beta1, beta2, eps, momentum_decay):
    t = state["t"] + 1
    mu = beta1 * (1 - 0.5 * 0.96**t * momentum_decay)
    mu_next = beta1 * (1 - 0.5 * 0.96 ** (t + 1) * momentum_decay)
    product = state["mu_product"] * mu
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    root = np.sqrt(v / (1 - beta2**t)) + eps
    new_p = p - lr * ((1 - mu) / (1 - product) * g + mu_next / (1 - product * mu_next) * m) / root
    return new_p, {"t": t, "m": m, "v": v, "mu_product": product}


def nadam_returning_the_old_product(p, g, state, *, lr, beta1, beta2, eps, momentum_decay):
    t = state["t"] + 1
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    root = np.sqrt(v / (1 - beta2**t)) + eps
    product = state["mu_product"] * mu
    new_p = p - lr * ((1 - mu) / (1 - product) * g + mu_next / (1 - product * mu_next) * m) / root
    return new_p, {"t": t, "m": m, "v": v, "mu_product": state["mu_product"]}


def radam_with_the_papers_threshold(p, g, state, *, lr, beta1, beta2, eps):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho > 4:
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return p - lr * r * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps), {"t": t, "m": m, "v": v}
    return p - lr * m_hat, {"t": t, "m": m, "v": v}


def radam_switching_at_step_6(p, g, state, *, lr, beta1, beta2, eps):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    if t >= 6:  # "RAdam rectifies from step 6 on"
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return p - lr * r * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps), {"t": t, "m": m, "v": v}
    return p - lr * m_hat, {"t": t, "m": m, "v": v}


def adamax_with_eps_next_to_u(p, g, state, *, lr, beta1, beta2, eps):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    u = np.maximum(beta2 * state["u"], np.abs(g))
    return p - lr / (1 - beta1**t) * m / (u + eps), {"t": t, "m": m, "u": u}


def lion_updating_the_momentum_first(p, g, state, *, lr, beta1, beta2, weight_decay):
    m = beta2 * state["m"] + (1 - beta2) * g
    c = beta1 * m + (1 - beta1) * g
    return p - lr * (np.sign(c) + weight_decay * p), {"m": m}


def lion_decaying_without_the_learning_rate(p, g, state, *, lr, beta1, beta2, weight_decay):
    c = beta1 * state["m"] + (1 - beta1) * g
    return (1 - weight_decay) * p - lr * np.sign(c), {"m": beta2 * state["m"] + (1 - beta2) * g}


@pytest.mark.parametrize(
    ("learner", "algorithm", "mistake", "named_in_the_hint"),
    [
        (nadam_with_the_power_before_the_product, "nadam", "exponent_precedence", "the power taken before the product"),
        (nadam_returning_the_old_product, "nadam", "product_not_returned", "the old one returned"),
        (radam_with_the_papers_threshold, "radam", "threshold_4", "the paper's threshold"),
        (radam_switching_at_step_6, "radam", "switch_at_step_6", "t > 5 instead of rho_t > 5"),
        (adamax_with_eps_next_to_u, "adamax", "eps_outside", "instead of inside the maximum"),
        (lion_updating_the_momentum_first, "lion", "momentum_first", "m updated before the direction"),
        (lion_decaying_without_the_learning_rate, "lion", "decay_without_lr", "the decay without the learning rate"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_classic_mistake_is_rejected_with_a_hint_that_names_it(learner, algorithm, mistake, named_in_the_hint):
    result = check_update(learner, algorithm)
    assert not result.passed
    assert result.mistake == mistake
    assert "Hint: Your result matches" in result.message
    assert named_in_the_hint in result.message


def test_the_old_product_shows_first_in_mu_product_at_step_1():
    message = check_update(nadam_returning_the_old_product, "nadam").message
    assert "step 1 of 6" in message
    assert "  mu_product: expected" in message
    assert "Right at this step: t, m, v, p." in message


def test_a_product_of_the_wrong_shape_is_explained_as_a_single_number():
    def nadam_with_an_array_product(p, g, state, *, lr, beta1, beta2, eps, momentum_decay):
        new_p, new_state = nadam_update(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                        momentum_decay=momentum_decay)
        return new_p, {**new_state, "mu_product": np.full(p.shape, new_state["mu_product"])}

    message = check_update(nadam_with_an_array_product, "nadam").message
    assert 'state["mu_product"] you returned has shape (3,), but it should have a single number.' in message


def test_a_wrong_answer_outside_the_catalogue_gets_the_variable_hint():
    def adamax_with_the_square_of_g(p, g, state, *, lr, beta1, beta2, eps):
        t = state["t"] + 1
        m = beta1 * state["m"] + (1 - beta1) * g
        u = np.maximum(beta2 * state["u"], g**2 + eps)
        return p - lr / (1 - beta1**t) * m / u, {"t": t, "m": m, "u": u}

    result = check_update(adamax_with_the_square_of_g, "adamax")
    assert not result.passed and result.mistake is None
    assert "Hint for u: u is the largest recent gradient size" in result.message


@pytest.mark.parametrize(
    ("algorithm", "hyperparameters", "state_keys"),
    [
        ("nadam", ("lr", "beta1", "beta2", "eps", "momentum_decay"), ("t", "mu_product", "m", "v")),
        ("radam", ("lr", "beta1", "beta2", "eps"), ("t", "m", "v")),
        ("adamax", ("lr", "beta1", "beta2", "eps"), ("t", "m", "u")),
        ("lion", ("lr", "beta1", "beta2", "weight_decay"), ("m",)),
    ],
)
def test_each_exercise_has_its_hyperparameters_state_and_a_matching_skeleton(algorithm, hyperparameters, state_keys):
    exercise = EXERCISES[algorithm]
    assert exercise.hyperparameters == hyperparameters
    assert exercise.state_keys == state_keys
    assert set(exercise.ranges) == set(hyperparameters)
    signature = f"def my_{algorithm}_update(p, g, state, *, {', '.join(hyperparameters)}):"
    assert signature in exercise.skeleton
    assert "NumPy float64 arrays" in exercise.skeleton
    compile(exercise.skeleton, "<skeleton>", "exec")


@pytest.mark.parametrize("algorithm", ["nadam", "radam", "adamax", "lion"])
def test_the_skeleton_as_given_fails_with_a_name_error_message(algorithm):
    namespace: dict = {}
    exec(EXERCISES[algorithm].skeleton, namespace)
    result = check_update(namespace[f"my_{algorithm}_update"], algorithm)
    assert not result.passed
    assert "Your function raised NameError" in result.message
