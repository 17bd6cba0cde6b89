"""A rule recorded once per step and replayed on slices (optim_lib/optimizers/replay.py) gives
the rule's own numbers, bit for bit.

The oracle is the rule itself evaluated on NumPy arrays, the way the step loop ran it before
it replayed: every elementwise optimizer with its variants, in float32 and float64, with NaN,
infinities and signed zeros among the numbers. Also: the step loop really replays (the
rule's direct evaluation is made to fail), the planner's corner cases (a new value that is
another input's old one, values that exchange, what cannot be recorded), and the scratch
buffers are kept between steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_fast_paths import VARIANTS, _largest_difference, _new, _parameters, _readable, _run

import optim_lib
from optim_lib.optimizers import base, replay
from optim_lib.optimizers.base import plain_hyperparameters
from optim_lib.optimizers.replay import NotRecordable, record
from optim_lib.rules._arrays import zeros_like
from optim_lib.rules.base import Rule

SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, -1e30]


def _rule_and_arguments(name, hyperparameters):
    probe = _new(name, [torch.zeros(1, requires_grad=True)], hyperparameters)
    group = probe.param_groups[0]
    rule = probe.rule_for(group)
    return rule, group, rule.arguments(plain_hyperparameters(group))


def _random(rng, n, dtype):
    x = rng.standard_normal(n).astype(dtype)
    x[rng.choice(n, len(SPECIAL), replace=False)] = SPECIAL
    return x


# Also plain momentum (its first velocity is the gradient itself, a copy at the end of the
# step) and AdamW and Lion without weight decay (their product of p by 1 - lr * 0 is skipped).
EXTRA = [("SGD", {"lr": 0.1, "momentum": 0.9}), ("AdamW", {"lr": 0.05, "weight_decay": 0.0}),
         ("Lion", {"lr": 0.01})]


def _same_bits(a, b):
    """Equal bit for bit: signed zeros and NaN payloads included."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    unsigned = {4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    return a.dtype == b.dtype and bool(np.array_equal(a.view(unsigned), b.view(unsigned)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "hyperparameters"), [*VARIANTS, *EXTRA], ids=lambda v: str(v))
def test_replay_gives_the_rules_numbers_bit_for_bit(name, hyperparameters, dtype):
    rule, group, arguments = _rule_and_arguments(name, hyperparameters)
    rng = np.random.default_rng(0)
    n = 200
    p = _random(rng, n, dtype)
    state = rule.initial_state(p.copy(), group)  # the oracle's: the rule evaluated directly
    ours_p = p.copy()
    ours = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}
    for step in range(6):
        g = _random(rng, n, dtype)
        with np.errstate(all="ignore"):
            p, new_state = rule.update(p, g, state, **arguments)
            state = {**state, **new_state}
            arrays = {k: v for k, v in ours.items() if isinstance(v, np.ndarray)}
            recording = record(rule, ours, arrays, arguments, ours_p.dtype)  # never refused here
            gradient = g.copy()
            for a, b in ((0, 77), (77, n)):  # two slices of unequal length, one recording
                recording.replay(ours_p[a:b], g[a:b], {k: v[a:b] for k, v in arrays.items()})
        ours.update(recording.plain)
        assert _same_bits(g, gradient), step  # the gradient (p.grad) is never written
        assert _same_bits(ours_p, p), step
        for key, value in state.items():
            assert _same_bits(ours[key], value), (step, key)


@pytest.mark.parametrize(("name", "hyperparameters"), VARIANTS, ids=lambda v: str(v))
def test_the_sliced_step_replays_and_never_evaluates_the_rule_per_slice(monkeypatch, name, hyperparameters):
    monkeypatch.setattr(base, "SLICE", 7)

    def refuse(*args, **kwargs):
        raise AssertionError("a slice evaluated the rule instead of replaying it")

    monkeypatch.setattr(base, "_step_slice", refuse)
    params = _parameters()
    optimizer = _new(name, params, hyperparameters)
    _run(optimizer, params, 5)
    assert optimizer._flat_groups[0].plan is not None  # stepped in slices
    # (the rule on torch tensors: torch and NumPy may round a few operations differently)
    assert _largest_difference(params, _readable(name, hyperparameters, 5)) <= 1e-12


@pytest.mark.parametrize(("name", "hyperparameters"), [*VARIANTS, *EXTRA], ids=lambda v: str(v))
def test_the_sliced_group_on_threads_gives_the_numbers_of_the_rule_evaluated_per_slice(monkeypatch, name,
                                                                                        hyperparameters):
    # float32, a group of large and small parameters (gathered runs, slices on the pool's threads)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    shapes = [(3 * base.SLICE + 5,), (17,), (40,), (base.SLICE,)]
    runs = []
    for recorded in (True, False):
        if not recorded:
            monkeypatch.setattr(base, "_recorded", lambda *args: None)
        generator = torch.Generator().manual_seed(5)
        params = [torch.randn(shape, generator=generator).requires_grad_() for shape in shapes]
        optimizer = _new(name, params, hyperparameters)
        for _ in range(3):
            for p in params:
                p.grad = torch.randn(p.shape, generator=generator)
            optimizer.step()
        assert optimizer._flat_groups[0].plan is not None
        runs.append([p.detach().numpy().copy() for p in params])
    assert all(_same_bits(a, b) for a, b in zip(*runs))


def test_the_direct_evaluation_copies_an_old_array_given_back_as_a_new_value():
    # The rule keeps the old parameter in its state (replayed: "a <- copy of p" first).
    keeper = _toy(lambda p, g, state: (p - 0.5 * g, {"t": state["t"] + 1, "a": p}))
    for recorded in (True, False):
        p, g, a = np.arange(4.0), np.ones(4), np.zeros(4)
        if recorded:
            base._step_in_slices(keeper, p, g, {"a": a}, {"t": 0, "a": a}, {}, {})
        else:
            base._step_slice(keeper, p, g, {"a": a}, {"t": 0, "a": a}, {}, {})
        assert np.array_equal(a, np.arange(4.0)) and np.array_equal(p, np.arange(4.0) - 0.5), recorded


def test_sgd_momentum_without_dampening_skips_the_multiplication_by_one():
    rule, _, arguments = _rule_and_arguments("SGD", {"lr": 0.1, "momentum": 0.9})
    v = np.zeros(3, np.float32)
    lines = record(rule, {"t": 4}, {"v": v}, arguments, v.dtype).lines()
    assert lines == ["s0 <- multiply(0.9, v)", "v <- add(s0, g)", "s0 <- multiply(0.1, v)", "p <- subtract(p, s0)"]


def _toy(update, init=lambda p: {"t": 0, "a": zeros_like(p)}):
    return Rule("toy", init=init, update=update, check=lambda group: None, arguments=lambda group: {})


def _replayed_and_direct(rule, n=5):
    rng = np.random.default_rng(1)
    p, g, a = (rng.standard_normal(n) for _ in range(3))
    direct_p, direct_state = rule.update(p.copy(), g, {"t": 0, "a": a.copy()})
    arrays = {"a": a.copy()}
    ours_p = p.copy()
    record(rule, {"t": 0}, arrays, {}, ours_p.dtype).replay(ours_p, g, arrays)
    return (ours_p, arrays["a"]), (direct_p, direct_state["a"])


def test_a_new_value_that_is_another_inputs_old_value_is_copied_before_that_input_changes():
    # The state keeps the old parameter: it must be copied before the parameter is written.
    rule = _toy(lambda p, g, state: (p - 0.5 * g, {"t": state["t"] + 1, "a": p}))
    (ours_p, ours_a), (direct_p, direct_a) = _replayed_and_direct(rule)
    assert np.array_equal(ours_p, direct_p) and np.array_equal(ours_a, direct_a)
    lines = record(rule, {"t": 0}, {"a": np.zeros(2)}, {}, np.dtype(np.float64)).lines()
    assert lines.index("a <- copy of p") < lines.index("p <- copy of s0")


def test_what_cannot_be_recorded_is_refused_and_the_step_loop_evaluates_the_rule():
    arrays = {"a": np.zeros(4)}
    cases = {
        "exchange": lambda p, g, s: (s["a"], {"t": 1, "a": p}),
        "branch on an array": lambda p, g, s: (p - g if g else p, {"t": 1}),
        "compare arrays": lambda p, g, s: (p - (g > 0), {"t": 1}),
        "a new array": lambda p, g, s: (p - zeros_like(g), {"t": 1}),
        "a NumPy scalar": lambda p, g, s: (p - np.float64(0.1) * g, {"t": 1}),
        "an array returned as plain state": lambda p, g, s: (p - g, {"t": 1, "b": g * 2}),
    }
    for label, update in cases.items():
        with pytest.raises(NotRecordable):
            record(_toy(update), {"t": 0}, arrays, {}, np.dtype(np.float64))
        assert base._recorded(_toy(update), {"t": 0}, arrays, {}, np.dtype(np.float64)) is None, label
    with pytest.raises(NotRecordable, match="dtype"):
        record(_toy(lambda p, g, s: (p - g, {"t": 1})), {"t": 0}, {"a": np.zeros(4, np.float32)}, {},
               np.dtype(np.float64))
    # and such a rule still steps, by the direct evaluation of each slice
    scalar = _toy(cases["a NumPy scalar"])
    p, g = np.arange(10.0), np.ones(10)
    plain = {}
    base._step_in_slices(scalar, p, g, {"a": np.zeros(10)}, {"t": 0, "a": np.zeros(10)}, {}, plain)
    assert np.array_equal(p, np.arange(10.0) - 0.1) and plain == {"t": 1}

def test_the_scratch_buffers_are_kept_from_step_to_step():
    rule, group, arguments = _rule_and_arguments("Adam", {"lr": 1e-3})
    p, g = np.ones(1000, np.float32), np.full(1000, 0.5, np.float32)
    arrays = {"m": np.zeros_like(p), "v": np.zeros_like(p)}
    kept = []
    for t in range(3):
        recording = record(rule, {"t": t}, arrays, arguments, p.dtype)
        recording.replay(p, g, arrays)
        kept.append([id(b) for b in replay._scratch(p.dtype, recording.scratch, p.shape[0])])
    assert recording.scratch >= 2 and kept[0] == kept[1] == kept[2]


def test_lions_sign_is_never_written_over_its_operand():
    # NumPy's float32 sign is ten times slower in place (replay._NOT_IN_PLACE)
    rule, _, arguments = _rule_and_arguments("Lion", {"lr": 1e-4})
    m = np.zeros(3, np.float32)
    signs = [line for line in record(rule, {"t": 2}, {"m": m}, arguments, m.dtype).lines() if "sign(" in line]
    assert len(signs) == 1
    target, operand = signs[0].split(" <- sign(")
    assert target != operand.rstrip(")")
