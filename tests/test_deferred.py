"""A rule that is not elementwise, on a group of more than SLICE numbers, runs on Deferred
tensors (optim_lib/optimizers/deferred.py: its sums of matrix products become torch's
``addmm``) and gives the rule's numbers: the oracle is the rule itself evaluated on NumPy
arrays, the way the step loop runs it on a small group (float64 to 1e-12, float32 to
1e-5). Also: the path is really taken, and only for a large group; a rule that asks
Deferred for what it lacks (Adafactor) falls back to NumPy and is remembered; every new
value is computed from the old contents, in place or not; a saved state resumes; and a
forked child steps on NumPy.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib.optimizers import base
from optim_lib.optimizers.base import RuleOptimizer, plain_hyperparameters
from optim_lib.rules._arrays import transpose, zeros_like
from optim_lib.rules.base import Rule

LARGE = [(200, 400), (400, 200)]  # 160 000 numbers: a wide and a tall matrix (Muon transposes it)


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    """No rule remembered as one Deferred cannot run (base._NOT_DEFERRED), and a count of
    the steps written by the Deferred path."""
    monkeypatch.setattr(base, "_NOT_DEFERRED", set())
    calls = []
    real = base.write

    def counted(values):
        calls.append(len(values))
        return real(values)

    monkeypatch.setattr(base, "write", counted)
    return calls


def _params(shapes, dtype, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=generator, dtype=dtype).requires_grad_() for s in shapes]


def _gradients(step, shapes, dtype):
    generator = torch.Generator().manual_seed(100 + step)
    return [torch.randn(s, generator=generator, dtype=dtype) for s in shapes]


def _on_numpy(optimizer, shapes, dtype, steps):
    """The oracle: the optimizer's rule on each parameter as NumPy arrays, step after step."""
    group = optimizer.param_groups[0]
    rule = optimizer.rule_for(group)
    arguments = rule.arguments(plain_hyperparameters(group))
    params = [p.detach().numpy().copy() for p in _params(shapes, dtype)]
    states = [{k: v.numpy().copy() if isinstance(v, torch.Tensor) else v
               for k, v in rule.initial_state(torch.from_numpy(p), group).items()} for p in params]
    for step in range(steps):
        for i, g in enumerate(_gradients(step, shapes, dtype)):
            params[i], new = rule.update(params[i], g.numpy(), states[i], **arguments)
            states[i] = {**states[i], **new}
    return params, states


def _steps(optimizer, params, steps, first=0):
    for step in range(first, first + steps):
        for p, g in zip(params, _gradients(step, [tuple(p.shape) for p in params], params[0].dtype)):
            p.grad = g
        optimizer.step()


def _relative(ours, theirs):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    return float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("hyperparameters", [
    {"lr": 0.02},
    {"lr": 0.05, "weight_decay": 0.0, "nesterov": False, "adjust_lr_fn": "match_rms_adamw", "ns_steps": 3},
], ids=str)
def test_muon_on_a_large_group_runs_on_deferred_tensors_with_the_rules_numbers(fresh_memory, hyperparameters,
                                                                               dtype):
    params = _params(LARGE, dtype)
    optimizer = optim_lib.Muon(params, **hyperparameters)
    _steps(optimizer, params, 3)
    assert fresh_memory == [2] * 6  # every matrix of every step: the weights and the momentum
    expected, states = _on_numpy(optimizer, LARGE, dtype, 3)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    for p, e, state in zip(params, expected, states):
        assert _relative(p.detach(), e) <= tolerance
        assert _relative(optimizer.state[p]["B"], state["B"]) <= tolerance


def test_a_small_group_stays_on_numpy_bit_for_bit(fresh_memory):
    # (the sliders' matrices: NumPy is faster on them; see base._deferred_step)
    shapes = [(64, 64), (10, 64)]
    params = _params(shapes, torch.float64)
    optimizer = optim_lib.Muon(params, lr=0.02)
    _steps(optimizer, params, 3)
    assert fresh_memory == []
    expected, _ = _on_numpy(optimizer, shapes, torch.float64, 3)
    for p, e in zip(params, expected):
        assert np.array_equal(p.detach().numpy(), e)


def test_a_saved_state_resumes_on_the_deferred_path_as_if_never_stopped():
    params = _params(LARGE, torch.float32)
    optimizer = optim_lib.Muon(params, lr=0.02)
    _steps(optimizer, params, 2)
    saved = copy.deepcopy(optimizer.state_dict())  # (torch's load_state_dict keeps the same tensors)
    copies = [p.detach().clone().requires_grad_() for p in params]
    resumed = optim_lib.Muon(copies, lr=0.02)
    resumed.load_state_dict(saved)
    _steps(optimizer, params, 1, first=2)
    _steps(resumed, copies, 1, first=2)
    for p, q in zip(params, copies):
        assert torch.equal(p, q) and torch.equal(optimizer.state[p]["B"], resumed.state[q]["B"])


def test_a_rule_that_asks_deferred_for_what_it_lacks_steps_on_numpy_and_is_remembered(fresh_memory):
    # Adafactor takes means of rows and columns: Deferred has none, so the first step falls
    # back to NumPy with nothing written, and the next steps go there straight away
    params = _params(LARGE, torch.float64)
    optimizer = optim_lib.Adafactor(params, lr=0.01)
    _steps(optimizer, params, 3)
    assert base._NOT_DEFERRED == {optimizer.rule.update} and fresh_memory == []
    expected, _ = _on_numpy(optimizer, LARGE, torch.float64, 3)
    for p, e in zip(params, expected):
        assert np.array_equal(p.detach().numpy(), e)


def _optimizer(update, params, init=lambda p: {"s": zeros_like(p) + 7.0, "t": 0}):
    rule = Rule("Toy", init=init, update=update, check=lambda group: None, arguments=lambda group: {},
                elementwise=False)
    cls = type("Toy", (RuleOptimizer,), {"rule": rule, "__init__": lambda self, ps: RuleOptimizer.__init__(self, ps, {})})
    return cls(params)


def _toy_update(p, g, state):
    # a new p with a matrix product that reads p (cannot be computed in p's own memory), a
    # new "a" that is the old p itself (copied before p is written), a new "b" that "c"
    # reads (not in place) and a new "c" that nothing else reads (in place)
    a, b, c = state["a"], state["b"], state["c"]
    new_p = 0.5 * p + 0.25 * a - 0.01 * ((g @ transpose(g)) @ p)
    return new_p, {"a": p, "b": 0.9 * b + g, "c": c - 0.5 * b + 2.0 * c, "t": state["t"] + 1}


def _toy(params):
    init = lambda p: {"a": zeros_like(p) + 1.0, "b": zeros_like(p), "c": zeros_like(p) + 3.0, "t": 0}  # noqa: E731
    return _optimizer(_toy_update, params, init)


def test_every_new_value_is_computed_from_the_old_contents_in_place_or_not(fresh_memory):
    params = _params(LARGE, torch.float64)
    optimizer = _toy(params)
    _steps(optimizer, params, 3)
    assert fresh_memory == [4] * 6
    expected, states = _on_numpy(optimizer, LARGE, torch.float64, 3)
    for p, e, state in zip(params, expected, states):
        assert _relative(p.detach(), e) <= 1e-12
        for key in "abc":
            assert _relative(optimizer.state[p][key], state[key]) <= 1e-12
        assert optimizer.state[p]["t"] == 3


def test_a_forked_child_steps_a_large_group_on_numpy(monkeypatch):
    # torch's threads do not survive fork (base._FORKED): the child's step must not wait for them
    import os

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    params = _params(LARGE, torch.float32)
    optimizer = optim_lib.Muon(params, lr=0.02)
    _steps(optimizer, params, 2)
    pid = os.fork()
    if pid == 0:
        import signal

        signal.alarm(60)  # a child that hangs is killed, and the test fails
        code = 1
        try:  # (NumPy's gradients and checks: torch's own randn would hang here too)
            rng = np.random.default_rng(2)
            calls = []
            base.write = lambda values: calls.append(values)  # the Deferred path must not run
            for p in params:
                p.grad = torch.from_numpy(rng.standard_normal(p.shape).astype(np.float32))
            optimizer.step()
            finite = all(np.isfinite(p.detach().numpy()).all() for p in params)
            code = 0 if base._FORKED and not calls and finite else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_on_a_small_group_too_every_new_value_is_computed_from_the_old_contents():
    # the NumPy path of a rule that is not elementwise: the new "a", the old p itself, is
    # copied before p is written over
    shapes = [(6, 4), (3, 5)]
    params = _params(shapes, torch.float64)
    optimizer = _toy(params)
    _steps(optimizer, params, 3)
    expected, states = _on_numpy(optimizer, shapes, torch.float64, 3)
    for p, e, state in zip(params, expected, states):
        assert np.array_equal(p.detach().numpy(), e)
        for key in "abc":
            assert np.array_equal(optimizer.state[p][key].numpy(), state[key])


def test_each_newton_schulz_iteration_is_a_product_and_two_addmm_as_in_torchs_muon():
    # torch/optim/_muon.py: gram = X @ X.T; addmm(gram, gram, gram, beta=b, alpha=c);
    # addmm(X, that, X, beta=a). On Deferred tensors the rule does the same (the last addmm
    # computed into the weights' own memory), and no other matrix product.
    from torch.overrides import TorchFunctionMode

    class Count(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(getattr(func, "__name__", str(func)))
            return func(*args, **(kwargs or {}))

    params = _params([(300, 500)], torch.float32)
    optimizer = optim_lib.Muon(params, lr=0.02, ns_steps=4)
    params[0].grad = torch.randn(300, 500)
    with Count() as count:
        optimizer.step()
    products = [name for name in count.names if name in ("mm", "matmul", "__matmul__", "addmm", "addmm_", "bmm")]
    assert products == ["mm", "addmm", "addmm"] * 3 + ["mm", "addmm", "addmm_"]


SQUARE = [(400, 400)]  # 160 000 numbers: a large group of one square matrix
SMALL = [(8, 8)]


@pytest.mark.parametrize("shapes", [SQUARE, SMALL], ids=["large", "small"])
@pytest.mark.parametrize("update", [
    lambda p, g, s: ((x := 0.5 * p + 0.5 * g), {"s": x, "t": s["t"] + 1}),  # one value for two targets
    lambda p, g, s: ((x := 0.5 * p + 0.5 * s["s"] + 0 * g), {"s": x, "t": s["t"] + 1}),  # ... reading both
    lambda p, g, s: (0.5 * p + 0 * g, {"s": transpose(p), "t": s["t"] + 1}),  # a view of the old p
], ids=["shared", "shared-reading-both", "transpose"])
def test_values_that_share_an_object_or_memory_are_written_as_the_rule_computes_them(shapes, update):
    params = _params(shapes, torch.float64)
    optimizer = _optimizer(update, params)
    _steps(optimizer, params, 2)
    expected, states = _on_numpy(optimizer, shapes, torch.float64, 2)
    for p, e, state in zip(params, expected, states):
        assert _relative(p.detach(), e) <= 1e-12
        assert _relative(optimizer.state[p]["s"], state["s"]) <= 1e-12


def test_muon_with_eps_0_on_a_zero_gradient_gives_nan_as_the_rule_does():
    # the rule divides 0 by max(0, 0): NaN (not a ZeroDivisionError from a reciprocal)
    params = _params(LARGE, torch.float64)
    optimizer = optim_lib.Muon(params, lr=0.02, eps=0.0)
    for p in params:
        p.grad = torch.zeros_like(p)
    with np.errstate(all="ignore"):
        optimizer.step()
    assert all(torch.isnan(p).all() for p in params)


def test_a_weight_decayed_to_zero_keeps_the_rules_nan_for_an_infinite_weight():
    # 1 - lr * weight_decay = 0: the rule's 0 * inf is NaN, which addmm with beta = 0 would drop
    params = _params(LARGE, torch.float64)
    with torch.no_grad():
        params[0][0, 0] = float("inf")
    optimizer = optim_lib.Muon(params, lr=0.5, weight_decay=2.0)
    _steps(optimizer, params, 1)
    assert torch.isnan(params[0][0, 0]) and torch.isfinite(params[0].flatten()[1:]).all()


def test_a_rule_that_compares_arrays_steps_on_numpy(fresh_memory):
    # Deferred refuses comparisons (TypeError; Python's own == would say False): the step
    # falls back to NumPy, bit for bit
    update = lambda p, g, s: (p - 0.1 * ((g == 0.0) * 1.0), {"s": s["s"], "t": s["t"] + 1})  # noqa: E731
    params = _params(SQUARE, torch.float64)
    expected = params[0].detach().numpy().copy()
    optimizer = _optimizer(update, params)
    g = torch.randn(SQUARE[0], dtype=torch.float64)
    g[::2] = 0.0
    params[0].grad = g
    optimizer.step()
    assert fresh_memory == [] and base._NOT_DEFERRED == {optimizer.rule.update}
    expected[::2] -= 0.1
    assert np.array_equal(params[0].detach().numpy(), expected)


def test_a_matrix_product_of_mismatched_shapes_raises_before_anything_is_written():
    update = lambda p, g, s: (0.5 * p + 0.5 * g, {"s": s["s"] + 1.0 * (g @ g), "t": s["t"] + 1})  # noqa: E731
    params = _params([(400, 800)], torch.float64)
    optimizer = _optimizer(update, params)
    before = params[0].detach().clone()
    params[0].grad = torch.ones(400, 800, dtype=torch.float64)
    with pytest.raises(ValueError, match="shapes"):
        optimizer.step()
    assert torch.equal(params[0].detach(), before)
