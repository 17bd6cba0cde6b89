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

import math

import numpy as np
import pytest
import torch
from test_fast_paths import VARIANTS, _largest_difference, _new, _parameters, _readable, _run

import optim_lib
from optim_lib.optimizers import base, replay
from optim_lib.optimizers.base import plain_hyperparameters
from optim_lib.optimizers.replay import NotRecordable, record
from optim_lib.rules._arrays import sign, zeros_like
from optim_lib.rules.base import Rule

SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, -1e30]


def _rule_and_arguments(name, hyperparameters):
    probe = _new(name, [torch.zeros(1, requires_grad=True)], hyperparameters)
    group = probe.param_groups[0]
    rule = probe.rule_for(group)
    return rule, group, rule.arguments(plain_hyperparameters(group))


def _random(rng, n, dtype, special=SPECIAL):
    x = rng.standard_normal(n).astype(dtype)
    x[rng.choice(n, len(special), replace=False)] = special
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


def _start(name, hyperparameters, dtype, special=SPECIAL, n=200):
    """The rule, its arguments, a generator of gradients, the first parameter and state."""
    rule, group, arguments = _rule_and_arguments(name, hyperparameters)
    rng = np.random.default_rng(0)
    p = _random(rng, n, dtype, special)
    return rule, arguments, rng, p, rule.initial_state(p.copy(), group)


def _copy(state):
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "hyperparameters"), [*VARIANTS, *EXTRA], ids=lambda v: str(v))
def test_replay_gives_the_rules_numbers_bit_for_bit(name, hyperparameters, dtype):
    rule, arguments, rng, p, state = _start(name, hyperparameters, dtype)  # the oracle: the rule itself
    n = p.shape[0]
    ours_p, ours = p.copy(), _copy(state)
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


def _close(a, b, dtype):
    """Equal to the rounding of ``dtype`` (float64: 1e-12, float32: 1e-5, relative to the
    larger magnitude, or absolute below 1: where a sum cancels, a rounding of its terms is
    large next to it), with infinities and NaN in the same places."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    finite = np.isfinite(b)
    if not np.array_equal(finite, np.isfinite(a)) or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    if not np.array_equal(a[np.isinf(b)], b[np.isinf(b)]):
        return False
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    scale = np.maximum(1.0, np.maximum(np.abs(a[finite]), np.abs(b[finite])))
    return bool(np.all(np.abs(a[finite] - b[finite]) <= tolerance * scale))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "hyperparameters"), [*VARIANTS, *EXTRA], ids=lambda v: str(v))
def test_the_fused_replay_gives_the_rules_numbers_to_rounding(name, hyperparameters, dtype):
    # The recording rewritten into torch's fused operations (optim_lib/optimizers/fusion.py),
    # which the step loop replays: the rule's numbers up to rounding, NaN and infinities
    # where the rule puts them, and bit for bit the same on any slicing.
    # (No -1e30 among the numbers: a fused operation rounds a product once, so where the
    # rule's product overflows to infinity it may not; see the next test.)
    rule, arguments, rng, p, state = _start(name, hyperparameters, dtype, SPECIAL[:-1])
    n = p.shape[0]
    ours_p, whole_p, ours, whole = p.copy(), p.copy(), _copy(state), _copy(state)
    for step in range(6):
        g = _random(rng, n, dtype, SPECIAL[:-1])
        with np.errstate(all="ignore"):
            p, new_state = rule.update(p, g, state, **arguments)
            state = {**state, **new_state}
            arrays = {k: v for k, v in ours.items() if isinstance(v, np.ndarray)}
            fast = record(rule, ours, arrays, arguments, ours_p.dtype).fast
            assert fast is not None and fast.on_torch
            gradient = g.copy()
            for a, b in ((0, 77), (77, n)):
                fast.replay(ours_p[a:b], g[a:b], {k: v[a:b] for k, v in arrays.items()})
            fast.replay(whole_p, g, {k: v for k, v in whole.items() if isinstance(v, np.ndarray)})
        ours.update(fast.plain)
        whole.update(fast.plain)
        assert _same_bits(g, gradient), step
        assert _close(ours_p, p, dtype), step
        # the same numbers on any slicing: bit for bit, but for torch's maximum (AMSGrad,
        # Adamax), whose zeros' signs and NaN payloads differ between its vector and scalar
        # loops
        exact = name != "Adamax" and not hyperparameters.get("amsgrad")
        assert _same_bits(ours_p, whole_p) if exact else np.array_equal(ours_p, whole_p, equal_nan=True), step
        for key, value in state.items():
            assert _close(ours[key], value, dtype), (step, key)
            if exact:
                assert _same_bits(ours[key], whole[key]), (step, key)
            else:
                assert np.array_equal(ours[key], whole[key], equal_nan=True), (step, key)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sign_rewritten_for_torch_gives_numpys_sign_exactly(dtype):
    # torch's sign gives 0 for NaN; the rewrite (fusion._without_sign: scale by a power of
    # two, clip to the smallest normal number, divide by it, folded into the sum) gives
    # NumPy's sign, NaN for NaN, on every kind of number: subnormal ones, the smallest and
    # the largest, infinities and zeros. Nothing else differs (the factor is a power of two
    # times the rule's; a learning rate float32 cannot hold, so that a double rounding would
    # show), so the numbers are the rule's bit for bit, but for a zero's sign.
    info = np.finfo(dtype)
    smallest = np.nextafter(dtype(0), dtype(1))
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, smallest, -smallest, 3 * smallest, info.tiny,
                        -info.tiny / 2, info.max, -info.max, 1.0, -2.5, 1e-3], dtype)
    rng = np.random.default_rng(3)
    g = np.concatenate([special, rng.standard_normal(1000).astype(dtype)])
    rule = _toy(lambda p, g, s: (p - 1e-4 * sign(g), {"t": s["t"] + 1}))
    p = rng.standard_normal(g.size).astype(dtype)
    direct, _ = rule.update(p.copy(), g, {"t": 0})
    fast = record(rule, {"t": 0}, {}, {}, p.dtype).fast
    assert [line.split("(")[0].split(" <- ")[1] for line in fast.lines()] == ["multiply", "clip", "axpy"]
    fast.replay(p, g, {})
    assert np.array_equal(np.isnan(p), np.isnan(g)) and _same_bits(p[~np.isnan(p)], direct[~np.isnan(direct)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lions_direction_is_computed_as_the_rule_computes_it(dtype):
    # Where the rule's beta1 * m + (1 - beta1) * g is exactly 0, that sum rounded once (a
    # fused multiply-add) would not be, and the step would move by the learning rate where
    # the rule's stays: what sign reads is not rewritten (fusion._without_sign)
    rule, _, arguments = _rule_and_arguments("Lion", {"lr": 1e-4})
    rng = np.random.default_rng(4)
    g = rng.standard_normal(10_000).astype(dtype)
    m = (-(dtype(1 - 0.9) * g) / dtype(0.9)).astype(dtype)  # the rule's 0.9 m + (1 - 0.9) g: often exactly 0
    p = rng.standard_normal(g.size).astype(dtype)
    before = p.copy()
    with np.errstate(all="ignore"):
        direct, direct_state = rule.update(p.copy(), g, {"m": m.copy()}, **arguments)
        arrays = {"m": m.copy()}
        record(rule, {}, arrays, arguments, p.dtype).fast.replay(p, g, arrays)
    assert np.sum(direct == before) > 0.5 * p.size  # many coordinates the rule leaves where they are
    assert _same_bits(p, direct)
    assert _close(arrays["m"], direct_state["m"], dtype)


def _torch_fuses_multiply_and_add():
    x, y = torch.tensor([1.0 + 2.0**-23], dtype=torch.float32), torch.tensor([1.0 - 2.0**-23], dtype=torch.float32)
    return torch.addcmul(-torch.ones(1), x, y).item() != 0.0  # 1 - 2**-46, rounded once: not 0


def test_where_the_rules_product_overflows_the_fused_operation_does_not_here():
    # Centered RMSprop in float32, g = 1e30: the rule's g_bar * g_bar overflows, and
    # s - g_bar**2 is inf - inf = NaN; addcmul's product, on a CPU with fused multiply-add,
    # is not rounded before the difference, which stays infinite, so the step divides by
    # infinity: 0, not NaN.
    if not _torch_fuses_multiply_and_add():
        pytest.skip("torch's addcmul rounds its product here: no fused multiply-add on this CPU")
    rule, group, arguments = _rule_and_arguments("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9})
    p, g = np.ones(1, np.float32), np.full(1, 1e30, np.float32)
    state = rule.initial_state(p.copy(), group)
    with np.errstate(all="ignore"):
        direct_p, _ = rule.update(p.copy(), g, state, **arguments)
        arrays = {k: v.copy() for k, v in state.items() if isinstance(v, np.ndarray)}
        record(rule, state, arrays, arguments, p.dtype).fast.replay(p, g, arrays)
    assert np.isnan(direct_p[0]) and p[0] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_factor_is_folded_only_while_it_is_a_normal_number_of_the_dtype(dtype):
    # Folded, these factors would be a ZeroDivisionError, 0 (inf * 0 = NaN where the rule
    # gives inf), a subnormal, or beyond the dtype (torch refuses to convert it): kept apart,
    # the rule's own operations, so its numbers bit for bit (nothing else is fused here)
    big, small = (1e20, 1e-30) if dtype == np.float32 else (1e200, 1e-200)
    rules = [lambda p, g, s: (p - 0.5 * (g / 0.0), {"t": s["t"] + 1}),
             lambda p, g, s: (p - small * (small * g), {"t": s["t"] + 1}),
             lambda p, g, s: (p - big * (big * g), {"t": s["t"] + 1}),
             lambda p, g, s: (p - 2**70 * g, {"t": s["t"] + 1})]  # an int beyond int64: a float
    for update in rules:
        rule = _toy(update)
        p, g = np.array([1.0, 2.0, 3.0, 4.0], dtype), np.array([1.0, 0.0, np.inf, 1e-30], dtype)
        with np.errstate(all="ignore"):
            direct, _ = rule.update(p.copy(), g, {"t": 0})
            fast = record(rule, {"t": 0}, {}, {}, p.dtype).fast
            fast.replay(p, g, {})
        assert _same_bits(p, direct)
    # and a number the dtype cannot hold at all is not rewritten (the NumPy recording runs)
    too_big = _toy(lambda p, g, s: (p - 1e300 * g, {"t": s["t"] + 1}))
    assert (record(too_big, {"t": 0}, {}, {}, np.dtype(dtype)).fast is None) == (dtype == np.float32)


def test_numbers_that_torchs_operations_take_as_tensors_are_rounded_as_numpy_rounds_them():
    # 0.1 - g, 0.3 / g and maximum(g, 0.2) in float32: torch's maximum takes no number, and
    # sub and div take it as a 0-d tensor, which is rounded to float32 first, as NumPy does:
    # nothing to fuse here, so the same bits
    from optim_lib.rules._arrays import maximum
    rule = _toy(lambda p, g, s: (p, {"t": s["t"] + 1, "a": 0.1 - g, "b": 0.3 / g, "c": maximum(g, 0.2)}),
                init=lambda p: {"t": 0, "a": zeros_like(p), "b": zeros_like(p), "c": zeros_like(p)})
    g = np.random.default_rng(3).standard_normal(1000).astype(np.float32)
    p = np.ones_like(g)
    direct = rule.update(p, g, rule.initial_state(p, {}))[1]
    arrays = {k: np.zeros_like(g) for k in "abc"}
    fast = record(rule, {"t": 0}, arrays, {}, p.dtype).fast
    fast.replay(p, g, arrays)
    assert [line.split(" <- ")[1].split("(")[0] for line in fast.lines()] == ["subtract", "divide", "maximum"]
    assert all(_same_bits(arrays[k], direct[k]) for k in "abc")


def test_the_fused_recording_does_torchs_operations_in_fewer_passes():
    # Adam: fourteen NumPy operations become seven, as many as torch's for-loop does (which
    # uses lerp_ for m, one operation where the rewrite has two: lerp sends an infinite m to
    # NaN where the rule keeps it infinite, and has a division and a square root where the
    # rewrite has one root: sqrt(v / c) + eps is (sqrt(v) + eps sqrt(c)) / sqrt(c), the last
    # division folded into addcdiv's factor)
    rule, _, arguments = _rule_and_arguments("Adam", {"lr": 1e-3})
    arrays = {"m": np.zeros(3, np.float32), "v": np.zeros(3, np.float32)}
    recording = record(rule, {"t": 9}, arrays, arguments, np.dtype(np.float32))
    lines = recording.fast.lines()
    assert len(recording.lines()) == 14 and len(lines) == 7
    assert lines[1].startswith("m <- axpy(s0, g, ") and lines[3].startswith("v <- addcmul(s0, g, g, ")
    bias1, root2 = 1 - 0.9**10, math.sqrt(1 - 0.999**10)
    assert lines[4:] == ["s0 <- sqrt(v)", f"s0 <- add(s0, {1e-8 * root2!r})",
                         f"p <- addcdiv(p, m, s0, {-1e-3 / bias1 * root2!r})"]
    # SGD with momentum: two operations, each one pass (v <- g + 0.9 v; p <- p - lr v)
    rule, _, arguments = _rule_and_arguments("SGD", {"lr": 0.1, "momentum": 0.9})
    lines = record(rule, {"t": 4}, {"v": np.zeros(3)}, arguments, np.dtype(np.float64)).fast.lines()
    assert lines == ["v <- axpy(g, v, 0.9)", "p <- axpy(p, v, -0.1)"]


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
    # float32, a group of large and small parameters (gathered runs; the rule evaluated per
    # slice on the pool's threads, the fused recording replayed with torch's): the same
    # numbers to float32 rounding
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
    assert all(_close(a, b, np.float32) for a, b in zip(*runs))


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_root_of_a_quotient_read_only_as_a_divisor_is_rewritten_and_else_left(dtype):
    # sqrt(a / c) + eps read only as addcdiv's divisor: (sqrt(a) + eps sqrt(c)) / sqrt(c), the
    # division by sqrt(c) in addcdiv's factor (fusion._root_of_quotient); kept in the state,
    # or with c <= 0, the rule's own operations
    from optim_lib.rules._arrays import sqrt as root

    def names(rule):
        fast = record(rule, {"t": 0}, arrays, {}, np.dtype(dtype)).fast
        return [line.split(" <- ")[1].split("(")[0] for line in fast.lines()], fast

    init = lambda p: {"t": 0, "a": zeros_like(p), "d": zeros_like(p)}  # noqa: E731
    rewritten = _toy(lambda p, g, s: (p - 0.1 * g / (root(s["a"] / 0.3) + 1e-3), {"t": s["t"] + 1}), init)
    kept = _toy(lambda p, g, s: ((p - 0.1 * g / (d := root(s["a"] / 0.3) + 1e-3)), {"t": s["t"] + 1, "d": d}), init)
    negative = _toy(lambda p, g, s: (p - 0.1 * g / (root(s["a"] / -0.3) + 1e-3), {"t": s["t"] + 1}), init)
    rng = np.random.default_rng(5)
    a = np.abs(rng.standard_normal(50)).astype(dtype)
    a[:3] = [0.0, np.inf, np.nan]
    for rule, expected in ((rewritten, ["sqrt", "add", "addcdiv"]), (kept, ["divide", "sqrt", "add", "addcdiv"]),
                           (negative, ["divide", "sqrt", "add", "addcdiv"])):
        arrays = {"a": a.copy(), "d": np.zeros_like(a)}
        g, p = rng.standard_normal(50).astype(dtype), rng.standard_normal(50).astype(dtype)
        with np.errstate(all="ignore"):
            direct_p, direct = rule.update(p.copy(), g, {"t": 0, **{k: v.copy() for k, v in arrays.items()}})
            ops, fast = names(rule)
            assert ops == expected
            fast.replay(p, g, arrays)
        assert _close(p, direct_p, dtype) and _close(arrays["d"], direct.get("d", np.zeros_like(a)), dtype)
