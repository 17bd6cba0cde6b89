"""The step loop reuses NumPy views of each parameter and its state between steps. Every way
torch lets a user give a running optimizer new memory must still be seen; torch.optim, which
keeps no views, is the oracle."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

import optim_lib

SETTINGS = {"lr": 0.05, "momentum": 0.9}


def _step(opt: torch.optim.Optimizer, x: torch.Tensor, target: float) -> None:
    opt.zero_grad()
    ((x - target) ** 2).sum().backward()
    opt.step()


def _pair(start: torch.Tensor):
    """(our x, our optimizer), (torch's x, torch's optimizer), each 5 steps in."""
    runs = []
    for module in (optim_lib, torch.optim):
        x = start.clone().requires_grad_(True)
        opt = module.SGD([x], **SETTINGS)
        for step in range(5):
            _step(opt, x, step / 5)
        runs.append((x, opt))
    return runs


def _continue_and_compare(runs) -> None:
    for (x, opt), target in ((run, t / 7) for run in runs for t in range(5)):
        _step(opt, x, target)
    (ours, _), (theirs, _) = runs
    torch.testing.assert_close(ours.detach(), theirs.detach(), rtol=0, atol=1e-12)


START = torch.linspace(-1.0, 2.0, 4, dtype=torch.float64)


def test_a_parameter_given_new_memory_is_updated_there():
    runs = _pair(START)
    for x, _ in runs:
        x.data = torch.full_like(x, 3.0)
    _continue_and_compare(runs)
    assert runs[0][0].detach().min() < 3.0  # the new memory really moved


def test_a_state_tensor_replaced_by_hand_is_used():
    runs = _pair(START)
    (x, ours), (y, theirs) = runs
    ours.state[x]["v"] = torch.zeros_like(x)  # our name for torch's momentum_buffer
    theirs.state[y]["momentum_buffer"] = torch.zeros_like(y)
    _continue_and_compare(runs)


def test_loading_a_state_dict_into_a_running_optimizer_replaces_its_views():
    runs = _pair(START)
    (x, ours), (y, theirs) = runs
    fresh = [torch.zeros_like(START).requires_grad_(True) for _ in range(2)]
    saved_ours = optim_lib.SGD([fresh[0]], **SETTINGS)
    saved_theirs = torch.optim.SGD([fresh[1]], **SETTINGS)
    for opt, z in ((saved_ours, fresh[0]), (saved_theirs, fresh[1])):
        for step in range(3):
            _step(opt, z, -step)
    ours.load_state_dict(saved_ours.state_dict())
    theirs.load_state_dict(saved_theirs.state_dict())
    _continue_and_compare(runs)


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda opt: pickle.loads(pickle.dumps(opt))])
def test_a_copied_optimizer_steps_its_own_parameters(clone):
    twins = []
    for (x, opt) in _pair(START):
        before = x.detach().clone()
        twin = clone(opt)
        twin_x = twin.param_groups[0]["params"][0]
        _step(twin, twin_x, 0.0)
        assert torch.equal(x.detach(), before)  # the original is untouched
        twins.append(twin_x.detach())
    torch.testing.assert_close(twins[0], twins[1], rtol=0, atol=1e-12)
