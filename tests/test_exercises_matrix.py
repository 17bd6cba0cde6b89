"""The exercises whose rules look at a whole matrix: Adafactor (a factored state, not shaped
like p) and Muon (matrices only, Newton–Schulz inside).

The oracle for "correct" is an implementation written here from the chapters' equations,
independently of optim_lib's rules and of the catalogue; the wrong answers are written the way
a learner would write them.
"""

from __future__ import annotations

import numpy as np
import pytest

from optim_lib.exercises import EXERCISES, check_update


def rms(x):
    return np.sqrt(np.mean(np.square(x)))


def hand_written_adafactor(p, g, state, *, lr, beta2_decay, eps1, eps2, d):
    t = state["t"] + 1
    beta = 1.0 - t ** beta2_decay
    step_size = max(eps2, rms(p)) * min(lr, t ** -0.5)
    squares = np.square(g)
    R = beta * state["R"] + (1.0 - beta) * squares.mean(axis=1, keepdims=True)
    C = beta * state["C"] + (1.0 - beta) * squares.mean(axis=0, keepdims=True)
    V = np.outer(R[:, 0], C[0, :]) / max(R.mean(), eps1)
    U = g / np.sqrt(np.clip(V, eps1**2, None))
    return p - step_size * U / max(1.0, rms(U) / d), {"t": t, "R": R, "C": C}


def hand_written_muon(p, g, state, *, lr, momentum, weight_decay):
    B = state["B"] + (1 - momentum) * (g - state["B"])
    D = (1 - momentum) * g + momentum * B
    n, m = D.shape
    X = D if n <= m else D.T
    X = X / max(np.sqrt(np.sum(X * X)), 1e-7)
    for _ in range(5):
        A = X @ X.T
        X = 3.4445 * X - 4.7750 * (A @ X) + 2.0315 * (A @ (A @ X))
    O = X if n <= m else X.T
    return p * (1 - lr * weight_decay) - lr * np.sqrt(max(1.0, n / m)) * O, {"B": B}


@pytest.mark.parametrize(("update", "algorithm"),
                         [(hand_written_adafactor, "adafactor"), (hand_written_muon, "muon")])
def test_an_independent_correct_implementation_passes(update, algorithm):
    result = check_update(update, algorithm)
    assert result.passed, result.message
    assert "shapes (3, 4), (5, 2), (4, 4), (2, 6), (6, 3)" in result.message or algorithm == "muon"


def test_muon_is_checked_on_wide_square_and_tall_matrices():
    result = check_update(hand_written_muon, "muon")
    assert "shapes (3, 5), (5, 3), (4, 4), (2, 6), (6, 2)" in result.message
    assert all(len(shape) == 2 for shape in EXERCISES["muon"].shapes)


def muon_without_the_shape_factor(p, g, state, *, lr, momentum, weight_decay):
    new_p, new_state = hand_written_muon(p, g, state, lr=lr, momentum=momentum, weight_decay=weight_decay)
    n, m = p.shape
    step = (p * (1 - lr * weight_decay) - new_p) / np.sqrt(max(1.0, n / m))
    return p * (1 - lr * weight_decay) - step, new_state


def adafactor_with_sums(p, g, state, *, lr, beta2_decay, eps1, eps2, d):
    t = state["t"] + 1
    beta = 1.0 - t ** beta2_decay
    R = beta * state["R"] + (1.0 - beta) * np.square(g).sum(axis=1, keepdims=True)
    C = beta * state["C"] + (1.0 - beta) * np.square(g).sum(axis=0, keepdims=True)
    V = R * C / max(R.sum(), eps1)
    U = g / np.sqrt(np.maximum(V, eps1**2))
    return p - max(eps2, rms(p)) * min(lr, t ** -0.5) * U / max(1.0, rms(U) / d), {"t": t, "R": R, "C": C}


def adafactor_with_an_absolute_step(p, g, state, *, lr, beta2_decay, eps1, eps2, d):
    new_p, new_state = hand_written_adafactor(p, g, state, lr=lr, beta2_decay=beta2_decay, eps1=eps1, eps2=eps2, d=d)
    return p - (p - new_p) / max(eps2, rms(p)), new_state


def muon_with_the_cubic_iteration(p, g, state, *, lr, momentum, weight_decay):
    B = momentum * state["B"] + (1 - momentum) * g
    D = (1 - momentum) * g + momentum * B
    X = D.T if D.shape[0] > D.shape[1] else D
    X = X / np.linalg.norm(X)
    for _ in range(5):
        X = 1.5 * X - 0.5 * (X @ X.T) @ X
    O = X.T if D.shape[0] > D.shape[1] else X
    return (1 - lr * weight_decay) * p - lr * np.sqrt(max(1, p.shape[0] / p.shape[1])) * O, {"B": B}


@pytest.mark.parametrize(
    ("learner", "algorithm", "mistake", "named"),
    [
        (muon_without_the_shape_factor, "muon", "lr_not_adjusted",
         "without its shape factor"),
        (muon_with_the_cubic_iteration, "muon", "cubic", "cubic Newton-Schulz"),
        (adafactor_with_sums, "adafactor", "sums", "sums instead of means"),
        (adafactor_with_an_absolute_step, "adafactor", "absolute_step", "an absolute step"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_learners_classic_mistake_is_named(learner, algorithm, mistake, named):
    result = check_update(learner, algorithm)
    assert not result.passed and result.mistake == mistake, result.message
    assert named in result.message


def test_a_factor_of_the_wrong_shape_is_explained_with_both_shapes():
    def rows_without_keepdims(p, g, state, *, lr, beta2_decay, eps1, eps2, d):
        new_p, new_state = hand_written_adafactor(p, g, state, lr=lr, beta2_decay=beta2_decay, eps1=eps1, eps2=eps2,
                                                  d=d)
        return new_p, {**new_state, "R": new_state["R"][:, 0]}

    message = check_update(rows_without_keepdims, "adafactor").message
    assert 'state["R"] you returned has shape (3,), but it should have shape (3, 1) (p has shape (3, 4)).' in message
    assert "keepdims=True" in message


@pytest.mark.parametrize(("algorithm", "hyperparameters", "state_keys"),
                         [("adafactor", ("lr", "beta2_decay", "eps1", "eps2", "d"), ("t", "R", "C")),
                          ("muon", ("lr", "momentum", "weight_decay"), ("B",))])
def test_the_exercise_has_its_hyperparameters_state_and_a_failing_skeleton(algorithm, hyperparameters, state_keys):
    exercise = EXERCISES[algorithm]
    assert exercise.hyperparameters == hyperparameters and exercise.state_keys == state_keys
    assert f"def my_{algorithm}_update(p, g, state, *, {', '.join(hyperparameters)}):" in exercise.skeleton
    assert "NumPy float64 arrays" in exercise.skeleton
    namespace: dict = {}
    exec(exercise.skeleton, namespace)
    result = check_update(namespace[f"my_{algorithm}_update"], algorithm)
    assert not result.passed and "NameError" in result.message


def test_a_key_error_names_the_factored_states_keys():
    def reads_v(p, g, state, *, lr, beta2_decay, eps1, eps2, d):
        return p, {"t": state["t"], "V": state["V"]}

    assert 'the state you are given has the keys "t", "R", "C".' in check_update(reads_v, "adafactor").message
