"""The exercise checker: accepts correct rules, names classic mistakes, explains bad answers.

The oracle for "correct" is optim_lib's own rules (themselves tested against torch.optim) and
independent implementations written here from the equations; the wrong answers below are
written here too, the way a learner would write them, not taken from the checker's catalogue.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from optim_lib.exercises import EXERCISES, CheckResult, check_update
from optim_lib.optimizers import (
    adadelta_update, adagrad_update, adam_update, adamw_update, rmsprop_update, sgd_update,
)



# --------------------------------------------------------------------------------------
# Correct answers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", sorted(EXERCISES))
def test_each_exercise_accepts_its_own_reference(algorithm):
    result = check_update(EXERCISES[algorithm].reference, algorithm)
    assert result.passed, result.message


OPTIM_LIB_RULES = {
    "sgd": partial(sgd_update),
    "momentum": partial(sgd_update, nesterov=False),
    "nesterov": partial(sgd_update, nesterov=True),
    "adagrad": partial(adagrad_update),
    "rmsprop": partial(rmsprop_update),
    "adadelta": partial(adadelta_update),  # takes lr, so the checker passes lr=1.0
    "adam": partial(adam_update, amsgrad=False),
    "adamw": partial(adamw_update, amsgrad=False),
}


@pytest.mark.parametrize("algorithm", sorted(OPTIM_LIB_RULES))
def test_each_exercise_accepts_the_optim_lib_rule_with_its_defaults(algorithm):
    result = check_update(OPTIM_LIB_RULES[algorithm], algorithm)
    assert result.passed, result.message


def hand_written_sgd(p, g, state, *, lr):
    return p - lr * g, state


def hand_written_momentum(p, g, state, *, lr, momentum):
    v = momentum * state["v"] + g
    return p - lr * v, {"v": v}


def hand_written_nesterov(p, g, state, *, lr, momentum):
    v = momentum * state["v"] + g
    return p - lr * g - lr * momentum * v, {"v": v}


def hand_written_adagrad(p, g, state, *, lr, eps):
    s = state["s"] + np.square(g)
    return p - lr * g / (np.sqrt(s) + eps), {"s": s}


def hand_written_rmsprop(p, g, state, *, lr, gamma, eps):
    s = state["s"] + (1 - gamma) * (np.square(g) - state["s"])
    return p - lr / (np.sqrt(s) + eps) * g, {"s": s}


def hand_written_adadelta(p, g, state, *, rho, eps):
    s = rho * state["s"] + (1 - rho) * g**2
    rms_step = np.sqrt(state["delta"] + eps)
    rms_gradient = np.sqrt(s + eps)
    g_prime = rms_step / rms_gradient * g
    delta = rho * state["delta"] + (1 - rho) * g_prime**2
    return p - g_prime, {"s": s, "delta": delta}


def hand_written_adadelta_with_lr(p, g, state, *, lr, rho, eps):
    new_p, new_state = hand_written_adadelta(p, g, state, rho=rho, eps=eps)
    return p - lr * (p - new_p), new_state


def hand_written_adam(p, g, state, *, lr, beta1, beta2, eps):
    # The paper's "efficient" ordering with eps scaled to match: lr_t * m / (sqrt(v) + eps_hat)
    # equals lr * m_hat / (sqrt(v_hat) + eps) exactly, but rounds differently.
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return p - lr_t * m / (np.sqrt(v) + eps_hat), {"t": t, "m": m, "v": v}


def hand_written_adamw(p, g, state, *, lr, beta1, beta2, eps, weight_decay):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    new_p = p - lr * weight_decay * p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_p, {"t": t, "m": m, "v": v}


HAND_WRITTEN = {
    "sgd": hand_written_sgd,
    "momentum": hand_written_momentum,
    "nesterov": hand_written_nesterov,
    "adagrad": hand_written_adagrad,
    "rmsprop": hand_written_rmsprop,
    "adadelta": hand_written_adadelta,
    "adam": hand_written_adam,
    "adamw": hand_written_adamw,
}


@pytest.mark.parametrize("algorithm", sorted(HAND_WRITTEN))
def test_each_exercise_accepts_an_independent_correct_implementation(algorithm):
    result = check_update(HAND_WRITTEN[algorithm], algorithm)
    assert result.passed, result.message
    assert result.mistake is None


def test_adadelta_accepts_a_function_that_takes_lr_and_gets_lr_one():
    assert check_update(hand_written_adadelta_with_lr, "adadelta").passed


def test_the_learner_gets_its_own_returned_state_back():
    # Keeps beta1**t and beta2**t as running products in its own state instead of using t.
    def adam_with_running_powers(p, g, state, *, lr, beta1, beta2, eps):
        beta1_power = state.get("beta1_power", 1.0) * beta1
        beta2_power = state.get("beta2_power", 1.0) * beta2
        m = beta1 * state["m"] + (1 - beta1) * g
        v = beta2 * state["v"] + (1 - beta2) * g * g
        new_p = p - lr * (m / (1 - beta1_power)) / (np.sqrt(v / (1 - beta2_power)) + eps)
        new_state = {"t": state["t"] + 1, "m": m, "v": v, "beta1_power": beta1_power, "beta2_power": beta2_power}
        return new_p, new_state

    assert check_update(adam_with_running_powers, "adam").passed


def test_a_pass_prints_what_was_compared():
    result = check_update(hand_written_adam, "adam")
    assert str(result) == result.message
    assert result.message.startswith("✓ Adam: correct.")
    assert "compared t, m, v, p after every step" in result.message


# --------------------------------------------------------------------------------------
# Classic mistakes, written as a learner would, and the hint that names each one
# --------------------------------------------------------------------------------------


def adam_without_bias_correction(p, g, state, *, lr, beta1, beta2, eps):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    return p - lr * m / (np.sqrt(v) + eps), {"t": t, "m": m, "v": v}


def adam_with_eps_inside_the_root(p, g, state, *, lr, beta1, beta2, eps):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / np.sqrt(v_hat + eps), {"t": t, "m": m, "v": v}


def adam_with_t_never_incremented(p, g, state, *, lr, beta1, beta2, eps):
    t = state["t"]
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def adam_bias_corrected_with_t_minus_1(p, g, state, *, lr, beta1, beta2, eps):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1 ** (t - 1)), v / (1 - beta2 ** (t - 1))
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def adamw_with_coupled_weight_decay(p, g, state, *, lr, beta1, beta2, eps, weight_decay):
    g = g + weight_decay * p
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def momentum_as_an_average(p, g, state, *, lr, momentum):
    v = momentum * state["v"] + (1 - momentum) * g
    return p - lr * v, {"v": v}


def adagrad_with_eps_inside_the_root(p, g, state, *, lr, eps):
    s = state["s"] + g**2
    return p - lr * g / np.sqrt(s + eps), {"s": s}


def adagrad_dividing_by_the_old_s(p, g, state, *, lr, eps):
    new_p = p - lr * g / (np.sqrt(state["s"]) + eps)
    return new_p, {"s": state["s"] + g**2}


def adagrad_forgetting_the_square(p, g, state, *, lr, eps):
    s = state["s"] + g
    return p - lr * g / (np.sqrt(s) + eps), {"s": s}


def rmsprop_with_eps_inside_the_root(p, g, state, *, lr, gamma, eps):
    s = gamma * state["s"] + (1 - gamma) * g**2
    return p - lr * g / np.sqrt(s + eps), {"s": s}


def rmsprop_with_gamma_swapped(p, g, state, *, lr, gamma, eps):
    s = (1 - gamma) * state["s"] + gamma * g**2
    return p - lr * g / (np.sqrt(s) + eps), {"s": s}


def adadelta_updating_delta_with_g(p, g, state, *, rho, eps):
    s = rho * state["s"] + (1 - rho) * g**2
    g_prime = np.sqrt(state["delta"] + eps) / np.sqrt(s + eps) * g
    delta = rho * state["delta"] + (1 - rho) * g**2
    return p - g_prime, {"s": s, "delta": delta}


def adadelta_updating_delta_before_g_prime(p, g, state, *, rho, eps):
    s = rho * state["s"] + (1 - rho) * g**2
    delta = rho * state["delta"] + (1 - rho) * g**2
    g_prime = np.sqrt(delta + eps) / np.sqrt(s + eps) * g
    return p - g_prime, {"s": s, "delta": delta}


@pytest.mark.parametrize(
    ("learner", "algorithm", "mistake", "named_in_the_hint"),
    [
        (adam_without_bias_correction, "adam", "no_bias_correction", "Adam without bias correction"),
        (adam_with_eps_inside_the_root, "adam", "eps_inside", "eps inside the square root"),
        (adam_with_t_never_incremented, "adam", "t_never_incremented", "never incremented"),
        (adam_bias_corrected_with_t_minus_1, "adam", "bias_correction_with_old_t", "old step count (t - 1)"),
        (adamw_with_coupled_weight_decay, "adamw", "coupled_weight_decay", "coupled instead of decoupled"),
        (momentum_as_an_average, "momentum", "average", "momentum as an average"),
        (adagrad_with_eps_inside_the_root, "adagrad", "eps_inside", "eps inside the square root"),
        (adagrad_dividing_by_the_old_s, "adagrad", "old_s", "the old s"),
        (adagrad_forgetting_the_square, "adagrad", "no_square", "s summing g instead of g**2"),
        (rmsprop_with_eps_inside_the_root, "rmsprop", "eps_inside", "eps inside the square root"),
        (rmsprop_with_gamma_swapped, "rmsprop", "gamma_swapped", "gamma and 1 - gamma swapped"),
        (adadelta_updating_delta_with_g, "adadelta", "delta_with_g", "delta updated with the wrong step"),
        (adadelta_updating_delta_before_g_prime, "adadelta", "delta_before_g_prime",
         "delta updated before g_prime is computed"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_classic_mistake_is_rejected_with_a_hint_that_names_it(learner, algorithm, mistake, named_in_the_hint):
    result = check_update(learner, algorithm)
    assert not result.passed
    assert result.mistake == mistake
    assert "Hint: Your result matches" in result.message
    assert named_in_the_hint in result.message


def test_adam_without_bias_correction_hint_says_how_to_fix_it():
    message = check_update(adam_without_bias_correction, "adam").message
    assert "Your result matches Adam without bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t)" in (
        message
    )


def test_adamw_coupled_decay_is_reported_where_it_first_shows_in_m():
    message = check_update(adamw_with_coupled_weight_decay, "adamw").message
    assert "step 1 of 6" in message
    assert "  m[0]: expected" in message
    assert "Also different at this step: v, p." in message


@pytest.mark.parametrize(
    ("algorithm", "mistake"),
    [(name, mistake) for name, exercise in sorted(EXERCISES.items()) for mistake in exercise.mistakes],
    ids=lambda value: getattr(value, "key", value),
)
def test_every_catalogue_mistake_is_told_apart_from_the_reference_and_the_others(algorithm, mistake):
    result = check_update(mistake.update, algorithm)
    assert not result.passed
    assert result.mistake == mistake.key
    assert mistake.hint in result.message


def test_catalogue_covers_the_classic_mistakes():
    keys = {name: {mistake.key for mistake in exercise.mistakes} for name, exercise in EXERCISES.items()}
    assert {"no_bias_correction", "eps_inside", "t_never_incremented", "bias_correction_with_old_t"} <= keys["adam"]
    assert {"coupled_weight_decay", "no_bias_correction", "eps_inside"} <= keys["adamw"]
    assert {"eps_inside", "old_s", "no_square"} <= keys["adagrad"]
    assert {"eps_inside", "gamma_swapped"} <= keys["rmsprop"]
    assert {"delta_with_g", "delta_before_g_prime"} <= keys["adadelta"]
    assert "average" in keys["momentum"] and "average" in keys["nesterov"]


def test_a_wrong_answer_outside_the_catalogue_gets_the_variable_hint():
    def adam_with_v_of_the_wrong_sign(p, g, state, *, lr, beta1, beta2, eps):
        t = state["t"] + 1
        m = beta1 * state["m"] + (1 - beta1) * g
        v = beta2 * state["v"] - (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}

    result = check_update(adam_with_v_of_the_wrong_sign, "adam")
    assert not result.passed and result.mistake is None
    assert "  v[0]: expected" in result.message
    assert "Hint for v: v is the leaky average of the squared gradients" in result.message
    assert "NaN" in result.message  # p became NaN: the NaN hint comes too


def test_a_mismatch_names_the_variable_entry_step_expected_and_got():
    def sgd_with_one_wrong_entry(p, g, state, *, lr):
        new_p = p - lr * g
        if new_p.ndim == 2:
            new_p = new_p.copy()
            new_p[1, 2] += 1.0
        return new_p, state

    message = check_update(sgd_with_one_wrong_entry, "sgd").message
    assert "Trial 2 of 5, step 1 of 6 (p of shape (2, 4); lr=" in message
    assert "  p[1, 2]: expected " in message and ", got " in message
    assert "(1 of 8 entries of p differ)" in message


# --------------------------------------------------------------------------------------
# Answers that are not numbers: exceptions, structure, shapes, NaN, mutation
# --------------------------------------------------------------------------------------


def test_an_exception_is_reported_with_its_step_and_text_not_raised():
    def fails_at_step_3(p, g, state, *, lr, momentum):
        if state.get("steps", 0) == 2:
            raise RuntimeError("out of ideas")
        v = momentum * state["v"] + g
        return p - lr * v, {"v": v, "steps": state.get("steps", 0) + 1}

    result = check_update(fails_at_step_3, "momentum")
    assert not result.passed
    assert "step 3 of 6" in result.message
    assert "Your function raised RuntimeError: out of ideas" in result.message
    assert 'raise RuntimeError("out of ideas")' in result.message  # the learner's own line


def test_the_skeleton_as_given_fails_with_a_name_error_message():
    namespace: dict = {}
    exec(EXERCISES["adam"].skeleton, namespace)
    result = check_update(namespace["my_adam_update"], "adam")
    assert not result.passed
    assert "Your function raised NameError: name 'new_p' is not defined" in result.message


def test_a_wrong_signature_is_explained_with_the_expected_one():
    def adam_with_betas_tuple(p, g, state, *, lr, betas, eps):
        return p, state

    message = check_update(adam_with_betas_tuple, "adam").message
    assert "unexpected keyword argument 'beta1'" in message
    assert "def my_adam_update(p, g, state, *, lr, beta1, beta2, eps):" in message


def test_a_python_division_by_zero_gets_the_bias_correction_hint():
    def adam_dividing_python_floats_by_zero(p, g, state, *, lr, beta1, beta2, eps):
        step_size = lr / (1 - beta1 ** state["t"])
        return p - step_size * g, state

    message = check_update(adam_dividing_python_floats_by_zero, "adam").message
    assert "ZeroDivisionError" in message
    assert "increment t first" in message


def test_returning_only_p_asks_for_the_state():
    def forgets_the_state(p, g, state, *, lr, momentum):
        return p - lr * g

    message = check_update(forgets_the_state, "momentum").message
    assert "should return a pair (new_p, new_state), but returned a NumPy array of shape (3,)" in message
    assert 'did you forget to return the state? return new_p, {"v": v}' in message


def test_returning_nothing_is_explained():
    def forgets_return(p, g, state, *, lr):
        p - lr * g

    message = check_update(forgets_return, "sgd").message
    assert "Your function returned None." in message


def test_a_state_that_is_not_a_dict_is_explained():
    def returns_state_as_tuple(p, g, state, *, lr, eps):
        s = state["s"] + g**2
        return p - lr * g / (np.sqrt(s) + eps), (s,)

    message = check_update(returns_state_as_tuple, "adagrad").message
    assert "should be the new state, a dict, but it is a tuple of 1 items" in message


def test_a_missing_state_key_is_named():
    def forgets_t(p, g, state, *, lr, beta1, beta2, eps):
        return p, {"m": state["m"], "v": state["v"]}

    message = check_update(forgets_t, "adam").message
    assert 'The state you returned has no "t" (its keys: "m", "v").' in message


def test_a_wrong_shape_is_explained():
    def sums_the_squares(p, g, state, *, lr, eps):
        s = np.sum(state["s"] + g**2)  # one number instead of one per entry
        return p - lr * g / (np.sqrt(s) + eps), {"s": s}

    message = check_update(sums_the_squares, "adagrad").message
    assert 'state["s"] you returned has shape (), but it should have shape (3,), the shape of p.' in message


def test_nan_is_reported_with_the_nan_hint():
    def adagrad_without_eps(p, g, state, *, lr, eps):
        s = state["s"] + g**2
        zero_where_g_is_small = np.where(np.abs(g) < 0.5, 0.0, g)  # 0 / 0 below
        return p - lr * zero_where_g_is_small / np.sqrt(np.where(np.abs(g) < 0.5, 0.0, s)), {"s": s}

    message = check_update(adagrad_without_eps, "adagrad").message
    assert "got nan" in message
    assert "NaN or inf comes from" in message


@pytest.mark.parametrize("name", ["p", "g"])
def test_changing_an_input_array_in_place_is_reported(name):
    def changes_input(p, g, state, *, lr):
        if name == "p":
            p -= lr * g
            return p, state
        g *= lr
        return p - g, state

    message = check_update(changes_input, "sgd").message
    assert f"Your function changed the input {name} in place: {name}[0] was " in message
    assert "optim_lib's rules never change their inputs" in message


def test_assigning_into_the_input_state_is_reported():
    def assigns_into_state(p, g, state, *, lr, momentum):
        state["v"] = momentum * state["v"] + g
        return p - lr * state["v"], state

    message = check_update(assigns_into_state, "momentum").message
    assert 'Your function changed the input state in place: it assigned state["v"].' in message


def test_changing_a_state_array_in_place_is_reported():
    def accumulates_in_place(p, g, state, *, lr, eps):
        s = state["s"]
        s += g**2
        return p - lr * g / (np.sqrt(s) + eps), {"s": s}

    message = check_update(accumulates_in_place, "adagrad").message
    assert 'Your function changed the input array state["s"] in place' in message


def test_something_that_is_not_a_function_is_a_failed_result_not_an_error():
    result = check_update(None, "adam")
    assert not result.passed
    assert "check_update needs your function itself" in result.message


def test_an_unknown_algorithm_is_an_error_in_the_notebook():
    with pytest.raises(ValueError, match="algorithm must be one of sgd, momentum, .*; got 'sophia'"):
        check_update(hand_written_adam, "sophia")  # an optimizer the course does not teach


# --------------------------------------------------------------------------------------
# The exercises themselves, determinism, display
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "hyperparameters", "state_keys"),
    [
        ("sgd", ("lr",), ()),
        ("momentum", ("lr", "momentum"), ("v",)),
        ("nesterov", ("lr", "momentum"), ("v",)),
        ("adagrad", ("lr", "eps"), ("s",)),
        ("rmsprop", ("lr", "gamma", "eps"), ("s",)),
        ("adadelta", ("rho", "eps"), ("s", "delta")),
        ("adam", ("lr", "beta1", "beta2", "eps"), ("t", "m", "v")),
        ("adamw", ("lr", "beta1", "beta2", "eps", "weight_decay"), ("t", "m", "v")),
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


def test_adam_skeleton_says_what_to_return_and_to_use_np_sqrt():
    skeleton = EXERCISES["adam"].skeleton
    assert 'Return (new_p, new_state), with a new dict new_state = {"t": t, "m": m, "v": v}.' in skeleton
    assert "np.sqrt" in skeleton


def test_results_are_deterministic():
    first = check_update(adam_with_eps_inside_the_root, "adam")
    second = check_update(adam_with_eps_inside_the_root, "adam")
    assert first == second


def test_another_seed_checks_other_cases():
    first = check_update(adam_with_eps_inside_the_root, "adam", seed=0)
    other = check_update(adam_with_eps_inside_the_root, "adam", seed=1)
    assert first.mistake == other.mistake == "eps_inside"
    assert first.message != other.message


def test_html_display_escapes_the_message():
    result = CheckResult(passed=False, message="p < 0 & v > 0", algorithm="adam")
    assert "p &lt; 0 &amp; v &gt; 0" in result._repr_html_()




@pytest.mark.parametrize("arguments", [{"trials": 0}, {"steps": 0}, {"trials": -1}])
def test_a_check_that_would_compare_nothing_is_refused(arguments):
    with pytest.raises(ValueError, match=next(iter(arguments))):
        check_update(lambda p, g, state, *, lr: None, "sgd", **arguments)
