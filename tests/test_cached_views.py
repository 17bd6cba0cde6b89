"""The step loop reuses NumPy views of each parameter and its state between steps, and steps
a group of several parameters as one array whose state is one buffer per entry. Every way
torch lets a user give a running optimizer new memory must still be seen, in both layouts;
torch.optim, which keeps no views, is the oracle."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

import optim_lib

SETTINGS = {"lr": 0.05, "momentum": 0.9}

# One parameter (stepped alone), or a group of three (stepped as one array).
LAYOUTS = {
    "one parameter": [torch.linspace(-1.0, 2.0, 4, dtype=torch.float64)],
    "a group of three": [
        torch.linspace(-1.0, 2.0, 4, dtype=torch.float64),
        torch.linspace(0.5, 1.5, 6, dtype=torch.float64).reshape(2, 3),
        torch.tensor([0.25], dtype=torch.float64),
    ],
}
layouts = pytest.mark.parametrize("starts", list(LAYOUTS.values()), ids=list(LAYOUTS))


def _step(opt: torch.optim.Optimizer, xs: list[torch.Tensor], target: float) -> None:
    opt.zero_grad()
    sum(((x - target) ** 2).sum() for x in xs).backward()
    opt.step()


def _pair(starts: list[torch.Tensor], name: str = "SGD", settings: dict = SETTINGS):
    """(our xs, our optimizer), (torch's xs, torch's optimizer), each 5 steps in."""
    runs = []
    for module in (optim_lib, torch.optim):
        xs = [start.clone().requires_grad_(True) for start in starts]
        opt = getattr(module, name)(xs, **settings)
        for step in range(5):
            _step(opt, xs, step / 5)
        runs.append((xs, opt))
    return runs


def _continue_and_compare(runs) -> None:
    for (xs, opt), target in ((run, t / 7) for run in runs for t in range(5)):
        _step(opt, xs, target)
    (ours, _), (theirs, _) = runs
    for x, y in zip(ours, theirs):
        torch.testing.assert_close(x.detach(), y.detach(), rtol=0, atol=1e-12)


@layouts
def test_a_parameter_given_new_memory_is_updated_there(starts):
    runs = _pair(starts)
    for xs, _ in runs:
        xs[0].data = torch.full_like(xs[0], 3.0)
    _continue_and_compare(runs)
    assert runs[0][0][0].detach().min() < 3.0  # the new memory really moved


@layouts
def test_a_parameter_transposed_in_place_is_stepped_in_its_new_layout(starts):
    """Same memory, new strides: the group cannot be read as one array any more."""
    runs = _pair([torch.outer(start.reshape(-1), start.reshape(-1).flip(0) + 1) for start in starts])  # square, not symmetric
    for xs, _ in runs:
        xs[0].data = xs[0].data.t()
    _continue_and_compare(runs)


@layouts
def test_a_state_tensor_replaced_by_hand_is_used(starts):
    runs = _pair(starts)
    (xs, ours), (ys, theirs) = runs
    ours.state[xs[0]]["v"] = torch.zeros_like(xs[0])  # our name for torch's momentum_buffer
    theirs.state[ys[0]]["momentum_buffer"] = torch.zeros_like(ys[0])
    _continue_and_compare(runs)


@layouts
def test_loading_a_state_dict_into_a_running_optimizer_replaces_its_views(starts):
    runs = _pair(starts)
    (xs, ours), (ys, theirs) = runs
    fresh = [[torch.zeros_like(start).requires_grad_(True) for start in starts] for _ in range(2)]
    saved_ours = optim_lib.SGD(fresh[0], **SETTINGS)
    saved_theirs = torch.optim.SGD(fresh[1], **SETTINGS)
    for opt, zs in ((saved_ours, fresh[0]), (saved_theirs, fresh[1])):
        for step in range(3):
            _step(opt, zs, -step)
    ours.load_state_dict(saved_ours.state_dict())
    theirs.load_state_dict(saved_theirs.state_dict())
    _continue_and_compare(runs)


@layouts
@pytest.mark.parametrize("name", ["SGD", "Adam"])  # Adam: its bias correction counts the steps
def test_a_parameter_that_loses_its_gradient_stays_put_and_the_rest_step_on(starts, name):
    runs = _pair(starts, name, SETTINGS if name == "SGD" else {"lr": 0.05})
    for xs, opt in runs:
        frozen = xs[-1].detach().clone()
        for target in (0.3, 0.6):
            opt.zero_grad()  # the last parameter's gradient is None from here on
            if xs[:-1]:
                sum(((x - target) ** 2).sum() for x in xs[:-1]).backward()
            opt.step()
        assert torch.equal(xs[-1].detach(), frozen)
    _continue_and_compare(runs)


@layouts
@pytest.mark.parametrize("clone", [copy.deepcopy, lambda opt: pickle.loads(pickle.dumps(opt))])
def test_a_copied_optimizer_steps_its_own_parameters(starts, clone):
    twins = []
    for (xs, opt) in _pair(starts):
        before = [x.detach().clone() for x in xs]
        twin = clone(opt)
        twin_xs = twin.param_groups[0]["params"]
        _step(twin, twin_xs, 0.0)
        assert all(torch.equal(x.detach(), b) for x, b in zip(xs, before))  # the original is untouched
        twins.append([x.detach() for x in twin_xs])
    for x, y in zip(*twins):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-12)
