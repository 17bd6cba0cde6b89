"""The fast paths compute the readable rule's numbers.

- Sliced evaluation (the default on large parameters and groups: optim_lib.optimizers.base,
  ``SLICE``): every elementwise optimizer, with its variants, equals its rule run on whole
  tensors, in float64 to 1e-12. ``SLICE`` is set to 7 elements here, so that small tensors
  take every branch (a parameter cut in slices, small ones gathered into one buffer, a
  parameter stepped alone after its state was loaded).
- ``fused=True`` (the rule compiled by ``torch.compile``): equal to the eager step to
  float32 rounding. Compiling takes seconds to tens of seconds, so only a few cases are
  compiled, and they share their compilations.
- ``state_dict`` saved under one path and loaded under another continues identically.

The oracle throughout is the rule itself, ``rule.update`` on each whole parameter (torch
tensors), the function the chapters print; tests/test_equivalence.py checks the rules
against torch.optim and the reference packages.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib.optimizers import base
from optim_lib.optimizers.base import has_modes, plain_hyperparameters

SHAPES = [(5, 7), (3,), (11,), (2, 3, 4), (2,), (4,)]  # with SLICE = 7: every kind of piece

# (class, hyperparameters): every elementwise optimizer of the course, with its variants.
VARIANTS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1}),
    ("Adadelta", {"lr": 1.0, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("Lion", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamWScheduleFree", {"lr": 0.05, "weight_decay": 0.1, "warmup_steps": 3}),
]
STEPS = 8


@pytest.fixture
def small_slices(monkeypatch):
    monkeypatch.setattr(base, "SLICE", 7)


@pytest.fixture
def numpy_replay(monkeypatch):
    """The step loop replays the NumPy recording (bit for bit the rule's), not the one
    rewritten into torch's operations: as for float16, where it runs on the slice threads."""
    real = base.record

    def exact(*args):
        recording = real(*args)
        recording.fast = None
        return recording

    monkeypatch.setattr(base, "record", exact)


def _parameters(dtype=torch.float64, shapes=SHAPES):
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(shape, generator=generator, dtype=dtype).requires_grad_() for shape in shapes]


def _gradients(step, params):
    generator = torch.Generator().manual_seed(1000 + step)
    return [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in params]


def _new(name, params, hyperparameters):
    optimizer = getattr(optim_lib, name)(params, **hyperparameters)
    if has_modes(optimizer):
        optimizer.train()
    return optimizer


def _run(optimizer, params, steps, first=0):
    for step in range(first, first + steps):
        for p, g in zip(params, _gradients(step, params)):
            p.grad = g
        optimizer.step()


def _readable(name, hyperparameters, steps):
    """The oracle: the rule on each whole parameter, step after step."""
    params = [p.detach().clone() for p in _parameters()]
    probe = _new(name, [torch.zeros(1, requires_grad=True)], hyperparameters)
    group = probe.param_groups[0]
    rule = probe.rule_for(group)
    arguments = rule.arguments(plain_hyperparameters(group))
    states = [rule.initial_state(p, group) for p in params]
    for step in range(steps):
        for i, g in enumerate(_gradients(step, params)):
            params[i], states[i] = rule.update(params[i], g, states[i], **arguments)
    return params


def _largest_difference(ours, theirs):
    return max(float((a.detach() - b.detach()).abs().max()) for a, b in zip(ours, theirs))


@pytest.mark.parametrize(("name", "hyperparameters"), VARIANTS, ids=lambda v: str(v))
def test_sliced_step_equals_the_rule_on_whole_tensors(small_slices, name, hyperparameters):
    params = _parameters()
    optimizer = _new(name, params, hyperparameters)
    _run(optimizer, params, STEPS)
    assert base._plan([p.detach().numpy().reshape(-1) for p in params]) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6)]
    assert optimizer._flat_groups[0].plan is not None  # the group was stepped in slices
    assert _largest_difference(params, _readable(name, hyperparameters, STEPS)) <= 1e-12


@pytest.mark.parametrize(("name", "hyperparameters"), VARIANTS[1::3], ids=lambda v: str(v))
def test_state_dict_from_the_sliced_group_continues_identically_one_parameter_at_a_time(
        small_slices, name, hyperparameters):
    params = _parameters()
    optimizer = _new(name, params, hyperparameters)
    _run(optimizer, params, 3)
    saved = copy.deepcopy(optimizer.state_dict())
    copies = [p.detach().clone().requires_grad_() for p in params]
    resumed = _new(name, copies, hyperparameters)
    resumed.load_state_dict(saved)
    _run(optimizer, params, 4, first=3)
    _run(resumed, copies, 4, first=3)
    assert not resumed._flat_groups  # loaded state: each parameter alone, the large ones in slices
    assert all(v.sliceable for p, v in resumed._views.items() if p.numel() > 7)
    assert _largest_difference(params, copies) <= 1e-12
    assert _largest_difference(params, _readable(name, hyperparameters, 7)) <= 1e-12


def test_a_frozen_parameter_leaves_the_group_and_the_others_still_equal_the_rule(small_slices):
    params = _parameters()
    optimizer = _new("Adam", params, {"lr": 0.05})
    _run(optimizer, params, 2)
    frozen = params[0].detach().clone()
    params[0].grad = None
    for p, g in zip(params[1:], _gradients(2, params)[1:]):
        p.grad = g
    optimizer.step()
    assert torch.equal(params[0].detach(), frozen)
    for step in (3, 4):  # every parameter again, each at its own step count
        for p, g in zip(params, _gradients(step, params)):
            p.grad = g
        optimizer.step()
    assert not optimizer._flat_groups  # the step counts differ: one parameter at a time
    assert _largest_difference(params[1:], _readable("Adam", {"lr": 0.05}, 5)[1:]) <= 1e-12


def test_small_groups_are_not_sliced():
    params = _parameters()
    optimizer = _new("Adam", params, {"lr": 0.05})
    _run(optimizer, params, 1)
    assert optimizer._flat_groups[0].plan is None  # 79 numbers, far below SLICE: one evaluation


# --- fused=True: few and small, each compilation shared by the tests that follow it ---

FUSED = [
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),  # torch's signature has fused
    # through the param group (torch's NAdam has no fused); a float in the state (mu_product)
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
]


def _fused(name, params, hyperparameters):
    if "fused" in getattr(optim_lib, name).__init__.__code__.co_varnames:
        return _new(name, params, {**hyperparameters, "fused": True})
    return _new(name, [{"params": params, "fused": True}], hyperparameters)


@pytest.mark.parametrize(("name", "hyperparameters"), FUSED, ids=lambda v: str(v))
def test_fused_step_equals_the_eager_step_to_float32_rounding(name, hyperparameters):
    shapes = [(40, 30), (7,), (300,), (3, 5)]  # one large enough to be stepped alone
    fused_params, eager_params = _parameters(torch.float32, shapes), _parameters(torch.float32, shapes)
    fused = _fused(name, fused_params, hyperparameters)
    assert fused.param_groups[0]["fused"] is True
    _run(fused, fused_params, 5)
    _run(_new(name, eager_params, hyperparameters), eager_params, 5)
    for a, b in zip(fused_params, eager_params):
        torch.testing.assert_close(a.detach(), b.detach(), rtol=2e-6, atol=2e-6)
    moved = _largest_difference(fused_params, _parameters(torch.float32, shapes))
    assert moved > 1e-3  # the step did move the parameters



def test_fused_step_of_a_sliced_group_is_one_call_and_equals_the_eager_step(monkeypatch):
    # SLICE = 256: two parameters stepped alone, runs of small ones gathered, all the pieces
    # passed to one compiled call (_fused_group_step).
    monkeypatch.setattr(base, "SLICE", 256)
    name, hyperparameters = FUSED[0]
    shapes = [(40, 30), (7,), (9,), (300,), (3, 5), (4,)]
    fused_params, eager_params = _parameters(torch.float32, shapes), _parameters(torch.float32, shapes)
    fused = _fused(name, fused_params, hyperparameters)
    _run(fused, fused_params, 5)
    _run(_new(name, eager_params, hyperparameters), eager_params, 5)
    group = fused._flat_groups[0]
    assert group.plan == [(0, 1), (1, 3), (3, 4), (4, 6)]
    assert len(group.buffers[0]) == 4  # four pieces, in one call a step
    for a, b in zip(fused_params, eager_params):
        torch.testing.assert_close(a.detach(), b.detach(), rtol=2e-6, atol=2e-6)
    assert _largest_difference(fused_params, _parameters(torch.float32, shapes)) > 1e-3

def _with_a_transpose(params):
    """The parameters, the last one replaced by a transposed (not contiguous) copy of itself."""
    last = params[-1].detach().t().contiguous().t().requires_grad_()
    assert not last.is_contiguous() and torch.equal(last, params[-1].detach())
    return [*params[:-1], last]


def test_state_dict_round_trips_between_the_fused_and_the_default_path():
    # A transposed parameter: the fused step then takes each parameter alone, in its shape.
    name, hyperparameters = FUSED[0]
    shapes = [(40, 30), (7,), (300,), (6, 4)]
    reference = _with_a_transpose(_parameters(torch.float32, shapes))
    uninterrupted = _new(name, reference, hyperparameters)
    _run(uninterrupted, reference, 6)
    for first, then in ((True, False), (False, True)):
        params = _with_a_transpose(_parameters(torch.float32, shapes))
        before = _fused(name, params, hyperparameters) if first else _new(name, params, hyperparameters)
        _run(before, params, 3)
        saved = copy.deepcopy(before.state_dict())
        copies = [p.detach().clone().requires_grad_() for p in params]
        after = _fused(name, copies, hyperparameters) if then else _new(name, copies, hyperparameters)
        after.load_state_dict(saved)
        # The flag is a param-group entry, restored by load_state_dict as torch's are: the path
        # after loading is chosen by setting it.
        assert after.param_groups[0]["fused"] is (True if first else None)
        after.param_groups[0]["fused"] = then
        _run(after, copies, 3, first=3)
        for a, b in zip(copies, reference):
            torch.testing.assert_close(a.detach(), b.detach(), rtol=2e-6, atol=2e-6)


def test_fused_on_a_complex_parameter_is_refused_by_name():
    z = torch.zeros(3, dtype=torch.complex64, requires_grad=True)
    with pytest.raises(ValueError, match=r"^fused=True does not support complex parameters"):
        optim_lib.Adam([z], fused=True)


def test_fused_on_a_sparse_gradient_is_refused_by_name_at_the_step():
    x = torch.zeros(4, requires_grad=True)
    optimizer = optim_lib.SGD([x], lr=0.1, fused=True)
    x.grad = torch.zeros(4).to_sparse()
    with pytest.raises(ValueError, match=r"^fused=True does not support sparse gradients"):
        optimizer.step()


@pytest.mark.parametrize("name", ["Muon", "Adafactor"])
def test_fused_on_a_rule_that_is_not_elementwise_is_refused_by_name(name):
    w = torch.zeros(4, 3, requires_grad=True)
    with pytest.raises(ValueError, match=rf"^fused=True is not supported by optim_lib\.{name}: .*not elementwise"):
        getattr(optim_lib, name)([{"params": [w], "fused": True}])


def test_fused_with_foreach_is_refused_as_in_torch():
    x = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"^fused=True and foreach=True cannot be set together"):
        optim_lib.Adam([x], fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="cannot be `True` together"):  # torch's own refusal
        torch.optim.Adam([x], fused=True, foreach=True)


# --- the slice threads: the same numbers, bit for bit, on one thread or several ---

@pytest.mark.parametrize(("name", "hyperparameters"), VARIANTS, ids=lambda v: str(v))
def test_threaded_slices_give_the_numbers_of_one_thread_bit_for_bit(small_slices, numpy_replay, monkeypatch, name,
                                                                      hyperparameters):
    shapes = [(9, 7), (3,), (11,), (2, 3, 4), (2,), (4,), (30,)]  # many slices of 7, runs, singles
    results = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(base, "_threads", lambda: threads)
        params = _parameters(shapes=shapes)
        optimizer = _new(name, params, hyperparameters)
        _run(optimizer, params, 5)
        assert optimizer._flat_groups[0].plan is not None
        # and each parameter alone (state loaded: no flat group), its slices threaded too
        copies = [p.detach().clone().requires_grad_() for p in params]
        resumed = _new(name, copies, hyperparameters)
        resumed.load_state_dict(copy.deepcopy(optimizer.state_dict()))
        _run(resumed, copies, 3, first=5)
        assert not resumed._flat_groups
        results[threads] = ([p.detach().clone() for p in copies],
                            [{k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in resumed.state[p].items()}
                             for p in copies])
    for threads in (2, 3):
        for a, b in zip(results[1][0], results[threads][0]):
            assert torch.equal(a, b)
        for a, b in zip(results[1][1], results[threads][1]):
            assert a.keys() == b.keys()
            for key in a:
                assert torch.equal(a[key], b[key]) if isinstance(a[key], torch.Tensor) else a[key] == b[key]


@pytest.mark.parametrize(("name", "hyperparameters"), VARIANTS, ids=lambda v: str(v))
def test_the_fused_recording_steps_its_slices_on_the_calling_thread(small_slices, monkeypatch, name,
                                                                    hyperparameters):
    # torch's operations use torch's threads: Python threads calling them would run more
    # threads than torch.get_num_threads() (the slice pool is only for NumPy's operations:
    # a recording that is not rewritten, and the rule evaluated per slice)
    monkeypatch.setattr(base, "_threads", lambda: 2)

    def refuse(*args):
        raise AssertionError("the slice pool ran a step of torch's operations")

    monkeypatch.setattr(base._SlicePool, "run", refuse)
    params = _parameters()
    optimizer = _new(name, params, hyperparameters)
    _run(optimizer, params, 3)
    assert optimizer._flat_groups[0].plan is not None
    assert _largest_difference(params, _readable(name, hyperparameters, 3)) <= 1e-12


def test_the_slice_pool_runs_tasks_on_several_threads_and_hands_back_an_error():
    import threading

    pool = base._SlicePool(1)
    met = threading.Barrier(2, timeout=10)  # passes only if two threads run tasks at once
    seen = []

    def meet(task, thread):
        met.wait()
        seen.append((task, thread))

    assert pool.run([0, 1], meet, 2)
    assert sorted(seen) in ([(0, 0), (1, 1)], [(0, 1), (1, 0)])
    assert all(thread.daemon for thread in threading.enumerate() if thread.name.startswith("optim_lib-slices"))

    def fail(task, thread):
        if task == 3:
            raise ArithmeticError("slice 3")
        seen.append(task)

    seen.clear()
    with pytest.raises(ArithmeticError, match="slice 3"):
        pool.run(list(range(6)), fail, 2)
    assert pool.run(list(range(6)), lambda task, thread: seen.append(task), 2)  # still usable
    assert sorted(seen[-6:]) == list(range(6))


def test_a_forked_child_steps_in_slices_with_a_pool_of_its_own(monkeypatch):
    # The parent replays torch's operations on large slices, in parallel on torch's threads,
    # which do not survive a fork (torch.optim's own step then hangs in the child): the
    # child replays the NumPy recording, on slice threads of its own (base._FORKED).
    import os

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(base, "_threads", lambda: 2)
    params = [torch.randn(3 * base.SLICE, dtype=torch.float32, requires_grad=True), torch.randn(5, requires_grad=True)]
    optimizer = _new("Adam", params, {"lr": 0.05})
    _run(optimizer, params, 2)
    assert not base._FORKED
    pid = os.fork()
    if pid == 0:  # the child: a step must not wait for the parent's threads
        import signal

        signal.alarm(60)  # a child that hangs is killed, and the test fails
        code = 1
        try:  # (NumPy's gradients and checks: torch's own randn and all() would hang here too)
            rng = np.random.default_rng(2)
            for _ in range(2):
                for p in params:
                    p.grad = torch.from_numpy(rng.standard_normal(p.shape).astype(np.float32))
                optimizer.step()
            finite = all(np.isfinite(p.detach().numpy()).all() for p in params)
            code = 0 if base._FORKED and base._POOL is not None and finite else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
