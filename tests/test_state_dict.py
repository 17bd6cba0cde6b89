"""A run resumed from a saved state_dict continues exactly as the uninterrupted run."""

from __future__ import annotations

import io

import pytest
import torch

import optim_lib

SETTINGS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "RMSprop": {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True},
    "Adadelta": {"lr": 1.0, "rho": 0.9, "weight_decay": 0.01},
    "Adam": {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True},
    "AdamW": {"lr": 0.01, "weight_decay": 0.1},
    "NAdam": {"lr": 0.01, "betas": (0.8, 0.99), "momentum_decay": 0.01, "decoupled_weight_decay": True},
    "RAdam": {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1},
    "Adamax": {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1},
    "Adafactor": {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-20, 1e-3), "d": 2.0, "weight_decay": 0.1},
    "Muon": {"lr": 0.01, "momentum": 0.9, "nesterov": False, "ns_steps": 4, "adjust_lr_fn": "match_rms_adamw"},
    "Lion": {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.1, "decoupled_weight_decay": True},
    "AdamWScheduleFree": {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "warmup_steps": 5, "r": 0.5},
}


def _new(cls: type, xs: list[torch.Tensor], settings: dict) -> torch.optim.Optimizer:
    """An optimizer ready to step (schedule-free AdamW needs train mode)."""
    opt = cls(xs, **settings)
    if isinstance(opt, optim_lib.AdamWScheduleFree):
        opt.train()
    return opt


def _steps(xs: list[torch.Tensor], opt: torch.optim.Optimizer, first: int, count: int) -> None:
    for step in range(first, first + count):
        opt.zero_grad()
        # A gradient that changes with the step, so a lost or stale state shows.
        sum(((x - step / 10) ** 2 * torch.arange(1.0, 1.0 + x.numel()).reshape(x.shape)).sum() for x in xs).backward()
        opt.step()


# One parameter, stepped alone; or a group of three, stepped as one array with its state in
# one buffer per entry (which a state_dict must still save and restore per parameter).
LAYOUTS = {
    "one parameter": [torch.linspace(-1, 1, 6, dtype=torch.float64).reshape(2, 3)],
    "a group of three": [
        torch.linspace(-1, 1, 6, dtype=torch.float64).reshape(2, 3),
        torch.linspace(0.5, 2, 4, dtype=torch.float64),
        torch.tensor([-0.3], dtype=torch.float64),
    ],
}


@pytest.mark.parametrize("starts", list(LAYOUTS.values()), ids=list(LAYOUTS))
@pytest.mark.parametrize("name", list(SETTINGS))
def test_resumed_run_continues_exactly(name, starts):
    cls = getattr(optim_lib, name)
    if name == "Muon":  # matrices only: the vectors as rows
        starts = [start.reshape(start.shape[0] if start.dim() > 1 else 1, -1) for start in starts]

    straight = [start.clone().requires_grad_(True) for start in starts]
    opt = _new(cls, straight, SETTINGS[name])
    _steps(straight, opt, 0, 40)

    first_half = [start.clone().requires_grad_(True) for start in starts]
    opt = _new(cls, first_half, SETTINGS[name])
    _steps(first_half, opt, 0, 20)
    buffer = io.BytesIO()
    torch.save({"xs": [x.detach() for x in first_half], "optimizer": opt.state_dict()}, buffer)
    buffer.seek(0)
    del opt

    saved = torch.load(buffer, weights_only=True)
    resumed = [x.clone().requires_grad_(True) for x in saved["xs"]]
    opt = cls(resumed, **SETTINGS[name])
    opt.load_state_dict(saved["optimizer"])
    _steps(resumed, opt, 20, 20)

    for x, y in zip(resumed, straight):
        assert torch.equal(x.detach(), y.detach())


@pytest.mark.parametrize("name", list(SETTINGS))
def test_state_dict_carries_hyperparameters(name):
    cls = getattr(optim_lib, name)
    x = torch.zeros(1, 3, requires_grad=True)  # a matrix: Muon takes no other
    saved = cls([x], **SETTINGS[name]).state_dict()
    fresh = cls([torch.zeros(1, 3, requires_grad=True)])
    fresh.load_state_dict(saved)
    for key, value in SETTINGS[name].items():
        assert fresh.param_groups[0][key] == value
