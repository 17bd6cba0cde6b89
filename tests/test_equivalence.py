"""optim_lib's optimizers against torch.optim, the oracle: the same hyperparameters, the same
gradients, 120 steps in float64, several parameter shapes; largest difference <= 1e-10.

The hyperparameters of the classic six are sampled here; those of the newer classes in
tests/test_new_optimizers.py. The tests of param groups, float32, the tensor fallback path and
graph invalidation run every class against its oracle (tests/oracles.py)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import optim_lib
from oracles import ORACLES, oracle_setting, shape_for, start_training
from side_by_side import run_side_by_side

TOLERANCE = 1e-10
SHAPES = [(), (7,), (3, 4), (2, 1, 5)]

floats = st.floats  # shorthand


def _adam_like(weight_decay_max: float) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "lr": floats(1e-4, 0.2),
            "betas": st.tuples(floats(0.0, 0.99), floats(0.5, 0.9999)),
            "eps": floats(1e-10, 1e-3),
            "weight_decay": floats(0.0, weight_decay_max),
            "amsgrad": st.booleans(),
            "maximize": st.booleans(),
        }
    )


def _sgd() -> st.SearchStrategy[dict]:
    plain = st.fixed_dictionaries(
        {
            "lr": floats(1e-4, 0.4),
            "momentum": floats(0.0, 0.9),
            "dampening": floats(0.0, 1.0),
            "weight_decay": floats(0.0, 0.5),
            "nesterov": st.just(False),
            "maximize": st.booleans(),
        }
    )
    nesterov = st.fixed_dictionaries(
        {
            "lr": floats(1e-4, 0.2),
            "momentum": floats(0.05, 0.9),
            "dampening": st.just(0.0),
            "weight_decay": floats(0.0, 0.5),
            "nesterov": st.just(True),
            "maximize": st.booleans(),
        }
    )
    return st.one_of(plain, nesterov)


STRATEGIES = {
    "SGD": _sgd(),
    "Adagrad": st.fixed_dictionaries(
        {
            "lr": floats(1e-4, 0.5),
            "lr_decay": floats(0.0, 0.1),
            "weight_decay": floats(0.0, 0.5),
            "initial_accumulator_value": floats(0.0, 1.0),
            "eps": floats(1e-10, 1e-3),
            "maximize": st.booleans(),
        }
    ),
    "RMSprop": st.fixed_dictionaries(
        {
            "lr": floats(1e-4, 0.05),
            "alpha": floats(0.5, 0.999),
            "eps": floats(1e-8, 1e-3),
            "weight_decay": floats(0.0, 0.5),
            "momentum": floats(0.0, 0.9),
            "centered": st.booleans(),
            "maximize": st.booleans(),
        }
    ),
    "Adadelta": st.fixed_dictionaries(
        {
            "lr": floats(0.05, 2.0),
            "rho": floats(0.5, 0.99),
            "eps": floats(1e-8, 1e-3),
            "weight_decay": floats(0.0, 0.5),
            "maximize": st.booleans(),
        }
    ),
    "Adam": _adam_like(0.5),
    "AdamW": _adam_like(2.0),
}


def _run_side_by_side(name: str, hyperparameters: dict, shapes: list[tuple[int, ...]], seed: int) -> float:
    return run_side_by_side(getattr(optim_lib, name), getattr(torch.optim, name), hyperparameters, shapes, seed)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_matches_torch_optim_over_sampled_hyperparameters(name):
    @settings(max_examples=30, deadline=None, derandomize=True, database=None)
    @given(
        hyperparameters=STRATEGIES[name],
        shape=st.sampled_from(SHAPES),
        seed=st.integers(0, 2**16),
    )
    def check(hyperparameters, shape, seed):
        difference = _run_side_by_side(name, hyperparameters, [shape], seed)
        assert difference <= TOLERANCE, f"{name}{hyperparameters} on {shape}: {difference:.3e}"

    check()


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_matches_torch_optim_on_a_group_of_several_parameters(name):
    """A group of several parameters steps as one array (the rule once on all of them laid
    end to end): the numbers must be those of torch's parameter-by-parameter loop."""

    @settings(max_examples=15, deadline=None, derandomize=True, database=None)
    @given(
        hyperparameters=STRATEGIES[name],
        shapes=st.lists(st.sampled_from(SHAPES), min_size=2, max_size=4),
        seed=st.integers(0, 2**16),
    )
    def check(hyperparameters, shapes, seed):
        difference = _run_side_by_side(name, hyperparameters, shapes, seed)
        assert difference <= TOLERANCE, f"{name}{hyperparameters} on {shapes}: {difference:.3e}"

    check()


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_a_group_of_several_parameters_keeps_its_state_in_one_buffer(name):
    """The fast path is taken: each parameter's state tensors are views of one buffer per
    entry, and state_dict still lists them per parameter, shaped like the parameter."""
    params = [torch.randn(shape, requires_grad=True) for shape in [(3, 4), (4,), (2, 1, 5)]]
    opt = getattr(optim_lib, name)(params)
    sum((p * p).sum() for p in params).backward()
    opt.step()
    saved = opt.state_dict()["state"]
    assert sorted(saved) == [0, 1, 2]
    for key, first in opt.state[params[0]].items():
        if isinstance(first, torch.Tensor):
            buffers = {opt.state[p][key].untyped_storage().data_ptr() for p in params}
            assert len(buffers) == 1, key
            assert [saved[i][key].shape for i in range(3)] == [p.shape for p in params]


# The tests below run every optim_lib class against its oracle (tests/oracles.py): torch.optim,
# lion-pytorch or schedulefree.


@pytest.mark.parametrize("name", list(ORACLES))
def test_matches_its_oracle_with_two_param_groups(name):
    """Per-group hyperparameters, and a parameter with no gradient that must stay put."""
    generator = torch.Generator().manual_seed(1)
    starts = [torch.randn(shape_for(name, (3,)), generator=generator, dtype=torch.float64) for _ in range(3)]
    # Decoupled decay where a class has it: Lion's divides by the constructor's lr, not the group's.
    decoupled = {"weight_decay": 0.1, "decoupled_weight_decay": True} if name in ("NAdam", "RAdam", "Lion") else {}
    runs = []
    with oracle_setting(name):
        for cls in (getattr(optim_lib, name), ORACLES[name]):
            w, b, frozen = (s.clone().requires_grad_(True) for s in starts)
            opt = cls([{"params": [w]}, {"params": [b, frozen], "lr": 0.03}], lr=0.01, **decoupled)
            start_training(opt)
            for _ in range(50):
                opt.zero_grad()
                ((w - 1) ** 2 + (b + 2) ** 2).sum().backward()
                opt.step()
            runs.append((w, b, frozen))
    for x, y in zip(*runs):
        assert float((x - y).detach().abs().max()) <= TOLERANCE
    assert torch.equal(runs[0][2].detach(), starts[2])


@pytest.mark.parametrize("name", list(ORACLES))
def test_matches_its_oracle_in_float32(name):
    """The NumPy fast path must keep float32 arithmetic in float32, as the oracle does."""
    generator = torch.Generator().manual_seed(2)
    start = torch.randn(shape_for(name, (5,)), generator=generator)
    runs = []
    # In float32 torch's NAdam product is as precise as the parameters: no float64 default.
    with oracle_setting(name if name == "Muon" else ""):
        for cls in (getattr(optim_lib, name), ORACLES[name]):
            x = start.clone().requires_grad_(True)
            opt = cls([x], lr=0.01)
            start_training(opt)
            for _ in range(100):
                opt.zero_grad()
                (x**2 + torch.sin(x)).sum().backward()
                opt.step()
            assert x.dtype == torch.float32
            runs.append(x.detach())
    assert float((runs[0] - runs[1]).abs().max()) <= 1e-6


def test_closure_is_called_and_its_loss_returned():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim_lib.SGD([x], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.detach()) == 5.0
    # Hand computation: x - 0.1 * 2x = 0.8 x.
    assert torch.allclose(x.detach(), torch.tensor([0.8, 1.6]))


@pytest.mark.parametrize("name", list(ORACLES))
def test_step_invalidates_graphs_that_saved_the_parameter_like_its_oracle(name):
    """A backward through a graph built before step() must fail, as with the oracle."""
    for cls in (getattr(optim_lib, name), ORACLES[name]):
        x = torch.ones(shape_for(name, (3,)), requires_grad=True)
        opt = cls([x], lr=0.1)
        start_training(opt)
        (x * x).sum().backward()
        stale = (x * x).sum()
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            stale.backward()


# Hyperparameters that use every piece of state and every branch (momentum, centering,
# AMSGrad's maximum, decoupled decay, warmup).
FULL_SETTINGS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "RMSprop": {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True},
    "Adadelta": {"lr": 1.0, "rho": 0.9, "weight_decay": 0.01},
    "Adam": {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True},
    "AdamW": {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
    "NAdam": {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "decoupled_weight_decay": True},
    "RAdam": {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1},
    "Adamax": {"lr": 0.01, "weight_decay": 0.1},
    "Adafactor": {"lr": 0.05, "weight_decay": 0.1, "d": 2.0},
    "Muon": {"lr": 0.01, "momentum": 0.9},
    "Lion": {"lr": 0.01, "weight_decay": 0.1},
    "AdamWScheduleFree": {"lr": 0.05, "weight_decay": 0.1, "warmup_steps": 10},
}


TENSOR_PATH_CASES = [(name, shape) for name in FULL_SETTINGS for shape in ((6,), (2, 3))
                     if not (name == "Muon" and len(shape) != 2)]  # Muon takes matrices only


@pytest.mark.parametrize(("name", "shape"), TENSOR_PATH_CASES)
def test_matches_its_oracle_when_numpy_cannot_see_the_gradient(name, shape):
    """A gradient that itself needs grad (``backward(create_graph=True)``) cannot become a NumPy
    view: the step runs the rule on tensors instead, and must give the same numbers (a matrix
    runs Adafactor's factored branch and Muon's iteration on tensors)."""
    weights = torch.arange(1.0, 7.0, dtype=torch.float64).reshape(shape)
    start = torch.linspace(-1.0, 1.5, 6, dtype=torch.float64).reshape(shape)
    runs = []
    with oracle_setting(name):
        for cls in (getattr(optim_lib, name), ORACLES[name]):
            x = start.clone().requires_grad_(True)
            opt = cls([x], **FULL_SETTINGS[name])
            start_training(opt)
            for step in range(60):
                (x.grad,) = torch.autograd.grad(((x - step / 30) ** 2 * weights).sum(), x, create_graph=True)
                assert x.grad.requires_grad
                opt.step()
            runs.append(x.detach())
    assert float((runs[0] - runs[1]).abs().max()) <= TOLERANCE
