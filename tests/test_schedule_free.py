"""Schedule-free AdamW's two modes against the schedulefree package (1.4.1): the parameters hold
the gradient point y in train mode and the average x in eval mode, and ``train()`` /
``eval()`` move them between the two."""

from __future__ import annotations

import io

import numpy as np
import pytest
import schedulefree
import torch

import optim_lib
from side_by_side import noisy_quadratic

TOLERANCE = 1e-10
SETTINGS = {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.05, "warmup_steps": 10, "r": 0.5}
CLASSES = (optim_lib.AdamWScheduleFree, schedulefree.AdamWScheduleFree)


def _loss(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (0.5 * a * x * x + b * x).sum()


def _both(shape=(3, 4), seed=0, **settings):
    """The same start for optim_lib's optimizer and the package's."""
    (a,), (b,), (start,), (noise,) = noisy_quadratic([shape], seed)
    xs = [start.clone().requires_grad_(True) for _ in CLASSES]
    opts = [cls([x], **{**SETTINGS, **settings}) for cls, x in zip(CLASSES, xs)]
    return a, b, noise, xs, opts


def _steps(a, b, noise, xs, opts, first: int, count: int) -> float:
    """Step each optimizer; the largest difference between the first two parameters, if two."""
    worst = 0.0
    for step in range(first, first + count):
        for x, opt in zip(xs, opts):
            opt.zero_grad()
            _loss(a, b + noise[step], x).backward()
            opt.step()
        if len(xs) == 2:
            worst = max(worst, float((xs[0] - xs[1]).detach().abs().max()))
    return worst


@pytest.mark.parametrize("cls", CLASSES, ids=["optim_lib", "schedulefree"])
def test_starts_in_eval_mode_and_refuses_to_step_there(cls):
    x = torch.ones(3, requires_grad=True)
    x.grad = torch.ones(3)
    opt = cls([x])
    assert opt.param_groups[0]["train_mode"] is False
    with pytest.raises(Exception, match="train"):
        opt.step()
    assert torch.equal(x.detach(), torch.ones(3))


def test_the_refusal_says_what_to_call():
    x = torch.ones(3, requires_grad=True)
    x.grad = torch.ones(3)
    opt = optim_lib.AdamWScheduleFree([x])
    with pytest.raises(RuntimeError, match=r"param group 0 is in eval mode: call optimizer.train\(\)"):
        opt.step()


def test_train_mode_steps_and_eval_mode_parameters_are_the_references():
    a, b, noise, xs, opts = _both()
    for opt in opts:
        opt.train()
    assert _steps(a, b, noise, xs, opts, 0, 100) <= TOLERANCE  # y, step by step
    y = xs[0].detach().clone()
    for opt in opts:
        opt.eval()
    assert float((xs[0] - xs[1]).detach().abs().max()) <= TOLERANCE  # x
    assert float((xs[0].detach() - y).abs().max()) > 1e-3  # eval() moved the parameters


def test_eval_parameters_are_the_average_x_computed_from_the_packages_own_state():
    """x = (y - (1 - beta1) z) / beta1 by hand, from the package's y and z (its state)."""
    a, b, noise, xs, opts = _both()
    reference = opts[1]
    reference.train()
    _steps(a, b, noise, xs[1:], opts[1:], 0, 50)
    beta1 = SETTINGS["betas"][0]
    y, z = xs[1].detach().clone(), reference.state[xs[1]]["z"]
    reference.eval()
    torch.testing.assert_close(xs[1].detach(), (y - (1 - beta1) * z) / beta1, rtol=0, atol=1e-13)


def test_x_is_the_running_average_of_the_z_iterates():
    """With r = 0 and no warmup every weight is the same, c_t = 1/t, and x is the plain mean of
    z after each step (the paper's x_{t+1} = (1 - c) x_t + c z_{t+1}, unrolled)."""
    (a,), (b,), (start,), (noise,) = noisy_quadratic([(5,)], seed=4)
    x = start.clone().requires_grad_(True)
    opt = optim_lib.AdamWScheduleFree([x], lr=0.05, betas=(0.7, 0.99))
    opt.train()
    zs = []
    for step in range(40):
        opt.zero_grad()
        _loss(a, b + noise[step], x).backward()
        opt.step()
        zs.append(opt.state[x]["z"].clone())
    opt.eval()
    torch.testing.assert_close(x.detach(), torch.stack(zs).mean(dim=0), rtol=0, atol=1e-13)


def test_switching_modes_in_the_middle_continues_like_the_reference():
    """Evaluate at x every 30 steps (eval, read the loss, train), as a training loop does."""
    a, b, noise, xs, opts = _both(shape=(2, 1, 5), seed=1)
    for opt in opts:
        opt.train()
    for first in range(0, 120, 30):
        assert _steps(a, b, noise, xs, opts, first, 30) <= TOLERANCE
        for opt in opts:
            opt.eval()
        assert float((xs[0] - xs[1]).detach().abs().max()) <= TOLERANCE
        losses = [float(_loss(a, b, x.detach())) for x in xs]
        assert abs(losses[0] - losses[1]) <= TOLERANCE
        for opt in opts:
            opt.train()
        assert float((xs[0] - xs[1]).detach().abs().max()) <= TOLERANCE


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_switching_to_the_mode_it_is_in_changes_nothing(mode):
    a, b, noise, xs, opts = _both()
    for opt in opts:
        opt.train()
    _steps(a, b, noise, xs, opts, 0, 20)
    for opt in opts:
        getattr(opt, mode)()
    before = [x.detach().clone() for x in xs]
    for opt in opts:
        getattr(opt, mode)()
    for x, previous in zip(xs, before):
        assert torch.equal(x.detach(), previous)


def test_eval_then_train_comes_back_to_y():
    a, b, noise, xs, opts = _both()
    opt = opts[0]
    opt.train()
    _steps(a, b, noise, xs[:1], [opt], 0, 30)
    y = xs[0].detach().clone()
    opt.eval()
    opt.train()
    torch.testing.assert_close(xs[0].detach(), y, rtol=0, atol=1e-14)


def test_state_dict_saved_in_eval_mode_resumes_exactly():
    """The package asks for eval mode when saving: the checkpoint holds x and the mode."""
    (a,), (b,), (start,), (noise,) = noisy_quadratic([(2, 3)], seed=2)

    def run(steps: range, x: torch.Tensor, opt: optim_lib.AdamWScheduleFree) -> None:
        for step in steps:
            opt.zero_grad()
            _loss(a, b + noise[step], x).backward()
            opt.step()

    straight = start.clone().requires_grad_(True)
    opt = optim_lib.AdamWScheduleFree([straight], **SETTINGS)
    opt.train()
    run(range(20), straight, opt)
    opt.eval()
    opt.train()
    run(range(20, 40), straight, opt)

    first_half = start.clone().requires_grad_(True)
    opt = optim_lib.AdamWScheduleFree([first_half], **SETTINGS)
    opt.train()
    run(range(20), first_half, opt)
    opt.eval()
    buffer = io.BytesIO()
    torch.save({"x": first_half.detach(), "optimizer": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed = saved["x"].clone().requires_grad_(True)
    opt = optim_lib.AdamWScheduleFree([resumed], **SETTINGS)
    opt.load_state_dict(saved["optimizer"])
    assert opt.param_groups[0]["train_mode"] is False
    opt.train()
    run(range(20, 40), resumed, opt)
    assert torch.equal(resumed.detach(), straight.detach())


def test_a_group_added_later_takes_the_current_mode():
    x, y = torch.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = optim_lib.AdamWScheduleFree([x])
    opt.train()
    opt.add_param_group({"params": [y], "lr": 0.01})
    assert opt.param_groups[1]["train_mode"] is True
    x.grad, y.grad = torch.ones(3), torch.ones(3)
    opt.step()  # no "call train()" error for the new group
    assert not torch.equal(y.detach(), torch.zeros(3))


class _ParkedInEvalMode(torch.optim.SGD):
    """SGD with schedule-free-style modes whose eval point is known by hand: eval() parks every
    parameter at 0.25, train() puts it back, and step() refuses to run in eval mode."""

    EVAL_VALUE = 0.25

    def __init__(self, params, lr=0.1):
        super().__init__(params, lr=lr)
        self.training = False
        self.parked: list[torch.Tensor] = []

    def train(self):
        if not self.training:
            with torch.no_grad():
                for p, value in zip(self._params(), self.parked):
                    p.copy_(value)
            self.training = True

    def eval(self):
        if self.training:
            self.parked = [p.detach().clone() for p in self._params()]
            with torch.no_grad():
                for p in self._params():
                    p.fill_(self.EVAL_VALUE)
            self.training = False

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def step(self, closure=None):
        if not self.training:
            raise RuntimeError("step() in eval mode")
        return super().step(closure)


def test_run_trajectory_steps_in_train_mode_and_records_the_eval_point():
    trajectory = optim_lib.run_trajectory(_ParkedInEvalMode, {"lr": 0.1}, steps=5)
    assert trajectory.path.shape == (6, 2)
    assert (trajectory.path[1:] == _ParkedInEvalMode.EVAL_VALUE).all()


def test_train_linear_regression_steps_in_train_mode_and_records_the_loss_at_the_eval_point(airfoil):
    from optim_lib.training import squared_loss

    curve = optim_lib.train_linear_regression(_ParkedInEvalMode, {"lr": 0.01}, airfoil, epochs=1)
    X, y = airfoil.X.numpy(), airfoil.y.numpy()
    parked = squared_loss(X, y, np.full(X.shape[1], 0.25, dtype=X.dtype), np.array([0.25], dtype=X.dtype))
    np.testing.assert_allclose(curve.losses[1:], parked, rtol=1e-6)
    assert abs(curve.losses[0] - parked) > 0.01  # the start is recorded before any mode switch
