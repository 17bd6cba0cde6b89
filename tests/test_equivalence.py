"""optim_lib's optimizers against torch.optim, the oracle: the same hyperparameters, the same
gradients, 120 steps in float64, several parameter shapes; largest difference <= 1e-10."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import optim_lib

STEPS = 120
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
    """Optimize a random convex quadratic (concave when maximizing, so both converge) with a
    noisy gradient, as in SGD, in parameters of the given shapes (one param group). The
    noise matters: on an exact quadratic, sign-like methods (RMSProp, Adam) end up bouncing
    chaotically around the minimum, where torch's fused multiply-adds and NumPy's separate
    roundings (both correct) drift apart exponentially."""
    generator = torch.Generator().manual_seed(seed)

    def draw(shape, scale=1.0, offset=0.0):
        return torch.rand(shape, generator=generator, dtype=torch.float64) * scale + offset

    a = [draw(shape, 1.5, 0.5) for shape in shapes]
    b = [draw(shape, 2.0, -1.0) for shape in shapes]
    starts = [torch.randn(shape, generator=generator, dtype=torch.float64) for shape in shapes]
    noise = [0.5 * torch.randn((STEPS, *shape), generator=generator, dtype=torch.float64) for shape in shapes]
    sign = -1.0 if hyperparameters["maximize"] else 1.0
    ours = [start.clone().requires_grad_(True) for start in starts]
    theirs = [start.clone().requires_grad_(True) for start in starts]
    opt_ours = getattr(optim_lib, name)(ours, **hyperparameters)
    opt_theirs = getattr(torch.optim, name)(theirs, **hyperparameters)
    worst = 0.0
    for step in range(STEPS):
        for xs, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            opt.zero_grad()
            sum((sign * (0.5 * ai * x * x + (bi + ni[step]) * x)).sum()
                for x, ai, bi, ni in zip(xs, a, b, noise)).backward()
            opt.step()
        worst = max(worst, *(float((x - y).detach().abs().max()) for x, y in zip(ours, theirs)))
    return worst


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


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_matches_torch_optim_with_two_param_groups(name):
    """Per-group hyperparameters, and a parameter with no gradient that must stay put."""
    generator = torch.Generator().manual_seed(1)
    starts = [torch.randn(3, generator=generator, dtype=torch.float64) for _ in range(3)]
    runs = []
    for module in (optim_lib, torch.optim):
        w, b, frozen = (s.clone().requires_grad_(True) for s in starts)
        opt = getattr(module, name)([{"params": [w]}, {"params": [b, frozen], "lr": 0.03}], lr=0.01)
        for _ in range(50):
            opt.zero_grad()
            ((w - 1) ** 2 + (b + 2) ** 2).sum().backward()
            opt.step()
        runs.append((w, b, frozen))
    for x, y in zip(*runs):
        assert float((x - y).detach().abs().max()) <= TOLERANCE
    assert torch.equal(runs[0][2].detach(), starts[2])


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_matches_torch_optim_in_float32(name):
    """The NumPy fast path must keep float32 arithmetic in float32, as torch does."""
    generator = torch.Generator().manual_seed(2)
    start = torch.randn(5, generator=generator)
    runs = []
    for module in (optim_lib, torch.optim):
        x = start.clone().requires_grad_(True)
        opt = getattr(module, name)([x], lr=0.01)
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


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_step_invalidates_graphs_that_saved_the_parameter_like_torch(name):
    """A backward through a graph built before step() must fail, as with torch.optim."""
    for module in (optim_lib, torch.optim):
        x = torch.ones(3, requires_grad=True)
        opt = getattr(module, name)([x], lr=0.1)
        (x * x).sum().backward()
        stale = (x * x).sum()
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            stale.backward()


# Hyperparameters that use every piece of state (momentum, centering, AMSGrad's maximum).
FULL_SETTINGS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "RMSprop": {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True},
    "Adadelta": {"lr": 1.0, "rho": 0.9, "weight_decay": 0.01},
    "Adam": {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True},
    "AdamW": {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
}


@pytest.mark.parametrize("name", list(FULL_SETTINGS))
def test_matches_torch_optim_when_numpy_cannot_see_the_gradient(name):
    """A gradient that itself needs grad (``backward(create_graph=True)``) cannot become a NumPy
    view: the step runs the rule on tensors instead, and must give the same numbers."""
    weights = torch.arange(1.0, 7.0, dtype=torch.float64)
    start = torch.linspace(-1.0, 1.5, 6, dtype=torch.float64)
    runs = []
    for module in (optim_lib, torch.optim):
        x = start.clone().requires_grad_(True)
        opt = getattr(module, name)([x], **FULL_SETTINGS[name])
        for step in range(60):
            (x.grad,) = torch.autograd.grad(((x - step / 30) ** 2 * weights).sum(), x, create_graph=True)
            assert x.grad.requires_grad
            opt.step()
        runs.append(x.detach())
    assert float((runs[0] - runs[1]).abs().max()) <= TOLERANCE
