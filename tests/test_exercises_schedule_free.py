"""The exercise of chapter 16, schedule-free AdamW.

The oracle for "correct" is the schedulefree package (1.4.1) itself, stepped once per call from
the learner's state, and a hand-written form of the paper's three sequences; the wrong answers
are written here as a learner would write them, not taken from the checker's catalogue (that
every catalogue mistake is told apart is tested for every exercise in tests/test_exercises.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import schedulefree
import torch

from optim_lib.exercises import EXERCISES, Range, check_update

HYPERPARAMETERS = ("lr", "beta1", "beta2", "eps", "weight_decay", "warmup_steps", "r", "weight_lr_power")


def package_update(p, g, state, *, lr, beta1, beta2, eps, weight_decay, warmup_steps, r, weight_lr_power):
    """One step of schedulefree.AdamWScheduleFree in float64 from the given state; x read in eval mode."""
    y = torch.tensor(p, requires_grad=True)
    opt = schedulefree.AdamWScheduleFree([y], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                                         warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power)
    opt.train()
    group = opt.param_groups[0]
    group.update(k=state["t"], weight_sum=state["weight_sum"], lr_max=state["lr_max"])
    opt.state[y]["z"] = torch.tensor(state["z"])
    opt.state[y]["exp_avg_sq"] = torch.tensor(state["v"])
    y.grad = torch.tensor(g)
    opt.step()
    new_y = y.detach().numpy().copy()
    opt.eval()
    # The package's k counts the steps taken, so after this one it is the new t.
    new_state = {"t": group["k"], "lr_max": group["lr_max"], "weight_sum": group["weight_sum"],
                 "v": opt.state[y]["exp_avg_sq"].numpy().copy(), "z": opt.state[y]["z"].numpy().copy(),
                 "x": y.detach().numpy().copy()}
    return new_y, new_state


def hand_written(p, g, state, *, lr, beta1, beta2, eps, weight_decay, warmup_steps, r, weight_lr_power):
    t = state["t"] + 1
    lr_t = lr * min(1.0, t / warmup_steps)
    lr_max = max(state["lr_max"], lr_t)
    weight = t**r * lr_max**weight_lr_power
    weight_sum = state["weight_sum"] + weight
    v = beta2 * state["v"] + (1 - beta2) * g**2
    step = g / (np.sqrt(v / (1 - beta2**t)) + eps) + weight_decay * p
    z = state["z"] - lr_t * step
    x = state["x"] + weight / weight_sum * (z - state["x"])
    return z + beta1 * (x - z), {"t": t, "lr_max": lr_max, "weight_sum": weight_sum, "v": v, "z": z, "x": x}


@pytest.mark.parametrize("update", [package_update, hand_written], ids=lambda f: f.__name__)
def test_the_exercise_accepts_the_package_and_an_independent_form(update):
    result = check_update(update, "schedule_free")
    assert result.passed, result.message
    assert "5 random trials of 8 steps each" in result.message


def _learner(**wrong):
    """The hand-written rule with one thing done the way a learner might get wrong."""
    def update(p, g, state, *, lr, beta1, beta2, eps, weight_decay, warmup_steps, r, weight_lr_power):
        t = state["t"] + 1
        warm = min(1.0, t / warmup_steps)
        lr_t = lr * warm * (warm if wrong.get("outer_warmup") else 1.0)
        lr_max = max(state["lr_max"], lr_t)
        weight_sum = state["weight_sum"] + t**r * lr_max**weight_lr_power
        c = 1 / t if wrong.get("mean") else t**r * lr_max**weight_lr_power / weight_sum
        v = beta2 * state["v"] + (1 - beta2) * g**2
        decayed = state["z"] if wrong.get("decay_z") else p
        step = g / (np.sqrt(v / (1 - beta2**t)) + eps) + weight_decay * decayed
        z = state["z"] - lr_t * step
        x = (1 - c) * state["x"] + c * z
        y = (1 - beta1) * z + beta1 * x
        return (x if wrong.get("return_x") else y), {"t": t, "lr_max": lr_max, "weight_sum": weight_sum,
                                                      "v": v, "z": z, "x": x}
    return update


@pytest.mark.parametrize(
    ("wrong", "mistake", "named_in_the_hint"),
    [
        ({"return_x": True}, "steps_at_x", "the next gradient is taken at x"),
        ({"mean": True}, "plain_average", "the plain average, c = 1 / t"),
        ({"outer_warmup": True}, "warmup_twice", "the warm-up applied twice"),
        ({"decay_z": True}, "decay_at_z", "the weight decay taken at z"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_classic_mistake_is_rejected_with_a_hint_that_names_it(wrong, mistake, named_in_the_hint):
    result = check_update(_learner(**wrong), "schedule_free")
    assert not result.passed
    assert result.mistake == mistake
    assert named_in_the_hint in result.message


def test_the_plain_average_shows_first_in_x_at_step_2():
    """c_1 = 1 either way; at step 2 the weights differ from 1/2 (r > 0 or a warm-up)."""
    message = check_update(_learner(mean=True), "schedule_free").message
    assert "step 2 of 8" in message and "  x[0]: expected" in message
    assert "Right at this step: t, lr_max, weight_sum, v, z." in message


def test_the_exercise_has_its_hyperparameters_state_and_a_matching_skeleton():
    exercise = EXERCISES["schedule_free"]
    assert exercise.hyperparameters == HYPERPARAMETERS and set(exercise.ranges) == set(HYPERPARAMETERS)
    assert exercise.state_keys == ("t", "lr_max", "weight_sum", "v", "z", "x")
    assert "def my_schedule_free_update(p, g, state, *, lr, beta1, beta2, eps, weight_decay, warmup_steps, r," \
        in exercise.skeleton
    namespace: dict = {}
    exec(exercise.skeleton, namespace)
    result = check_update(namespace["my_schedule_free_update"], "schedule_free")
    assert not result.passed and "Your function raised NameError" in result.message


def test_a_whole_range_samples_whole_numbers_from_both_ends():
    rng = np.random.default_rng(0)
    samples = [Range(2, 4, whole=True).sample(rng) for _ in range(200)]
    assert set(samples) == {2, 3, 4} and all(isinstance(s, int) for s in samples)
