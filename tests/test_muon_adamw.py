"""MuonWithAdamW against its oracle: torch.optim.Muon on the Muon parameters and
torch.optim.AdamW on the others, two torch optimizers stepping one set of parameters.

In float64 with torch's Newton–Schulz iteration unchanged but for its cast to bfloat16
(tests/oracles.py, as for Muon alone) the two agree to 1e-10; with the real bfloat16
iteration, to the tolerance tests/test_new_optimizers.py measures for Muon.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch

import optim_lib
from optim_lib.digits import load_digits
from optim_lib.network import train_network
from optim_lib.optimizers import MuonWithAdamW
from optim_lib.optimizers.muon_adamw import split_for_muon
from oracles import oracle_setting
from side_by_side import STEPS, run_side_by_side

# A 6 -> 8 -> 3 perceptron's shapes: the hidden matrix, its bias, the output layer, its bias.
SHAPES = [(8, 6), (8,), (3, 8), (3,)]


class TorchPair:
    """torch.optim.Muon on the parameters split_for_muon gives Muon, torch.optim.AdamW on the
    rest, with MuonWithAdamW's hyperparameters under each class's own names."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                 adjust_lr_fn="match_rms_adamw", adamw_lr=None, adamw_betas=(0.9, 0.999), adamw_eps=1e-8,
                 adamw_weight_decay=None, muon_for="hidden"):
        muon, adamw = split_for_muon(params, muon_for)
        self.optimizers = [
            torch.optim.Muon(muon, lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                             ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn),
            torch.optim.AdamW(adamw, lr=lr if adamw_lr is None else adamw_lr, betas=adamw_betas, eps=adamw_eps,
                              weight_decay=weight_decay if adamw_weight_decay is None else adamw_weight_decay),
        ]

    def zero_grad(self):
        for opt in self.optimizers:
            opt.zero_grad()

    def step(self):
        for opt in self.optimizers:
            opt.step()


SETTINGS = [
    {"lr": 0.02},
    {"lr": 0.01, "weight_decay": 0.0, "adjust_lr_fn": "original", "adamw_lr": 0.003},
    {"lr": 0.05, "momentum": 0.8, "nesterov": False, "adamw_betas": (0.8, 0.99), "adamw_weight_decay": 0.01},
    {"lr": 0.01, "muon_for": "all", "ns_steps": 3},
]


@pytest.mark.parametrize("hyperparameters", SETTINGS)
def test_muon_with_adamw_is_torchs_muon_plus_torchs_adamw(hyperparameters):
    with oracle_setting("Muon"):
        for seed in range(2):
            difference = run_side_by_side(MuonWithAdamW, TorchPair, hyperparameters, SHAPES, seed)
            assert difference <= 1e-10, (hyperparameters, seed, difference)


def test_with_torchs_bfloat16_iteration_it_follows_within_muons_tolerance():
    """The bound of test_new_optimizers.py for Muon alone: 5 % of what 120 steps can move."""
    hyperparameters = {"lr": 0.02}
    difference = run_side_by_side(MuonWithAdamW, TorchPair, hyperparameters, SHAPES, seed=0)
    largest_step = 0.02 * 0.2 * math.sqrt(8)  # match_rms_adamw on the 8 x 6 matrix; AdamW's is at most lr
    assert 1e-6 < difference <= 0.05 * STEPS * largest_step  # the cast matters, and only that much


def test_the_comparison_can_fail():
    """An AdamW group given Muon's eps (1e-7 instead of AdamW's 1e-8) is caught."""

    def with_muons_eps(params, **hyperparameters):
        return MuonWithAdamW(params, **hyperparameters, adamw_eps=1e-7)

    with oracle_setting("Muon"):
        difference = run_side_by_side(with_muons_eps, TorchPair, {"lr": 0.02}, SHAPES, seed=0)
    assert difference > 1e-8


def test_a_flat_list_is_split_into_hidden_matrices_and_the_rest():
    params = [torch.zeros(shape, requires_grad=True) for shape in SHAPES]
    opt = MuonWithAdamW(params, lr=0.01, adamw_lr=0.002)
    muon, adamw = opt.param_groups
    assert muon["use_muon"] and muon["params"] == [params[0]] and muon["lr"] == 0.01 and muon["eps"] == 1e-7
    assert not adamw["use_muon"] and adamw["params"] == params[1:] and adamw["lr"] == 0.002 and adamw["eps"] == 1e-8
    every = MuonWithAdamW(params, muon_for="all").param_groups
    assert every[0]["params"] == [params[0], params[2]] and every[1]["params"] == [params[1], params[3]]


def test_explicit_groups_are_taken_as_given():
    W, b = torch.zeros(4, 3, requires_grad=True), torch.zeros(4, requires_grad=True)
    opt = MuonWithAdamW([{"params": [W], "use_muon": True}, {"params": [b], "use_muon": False, "lr": 3e-4}], lr=0.02)
    assert [group["lr"] for group in opt.param_groups] == [0.02, 3e-4]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)


def test_a_vector_in_a_muon_group_and_a_group_without_use_muon_are_refused():
    b = torch.zeros(4, requires_grad=True)
    with pytest.raises(ValueError, match=r"a Muon group \(use_muon=True\) takes 2-D parameters .* shape \(4,\)"):
        MuonWithAdamW([{"params": [b], "use_muon": True}])
    with pytest.raises(ValueError, match="each param group must set use_muon to True or False; got use_muon=None"):
        MuonWithAdamW([{"params": [b]}])
    with pytest.raises(ValueError, match=r"muon_for must be one of \('hidden', 'all'\); got 'output'"):
        MuonWithAdamW([b], muon_for="output")


def test_bad_hyperparameters_name_their_group():
    params = [torch.zeros(shape, requires_grad=True) for shape in SHAPES]
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\); got 1.0"):
        MuonWithAdamW(params, momentum=1.0)
    with pytest.raises(ValueError, match=r"betas\[0\] \(beta1\) must be in \[0, 1\); got 1.0"):
        MuonWithAdamW(params, adamw_betas=(1.0, 0.999))


def test_state_dict_round_trip_continues_the_same_run():
    torch.manual_seed(0)
    params = [torch.randn(shape, dtype=torch.float64, requires_grad=True) for shape in SHAPES]
    copies = [p.detach().clone().requires_grad_(True) for p in params]
    first = MuonWithAdamW(params, lr=0.02)
    for _ in range(3):
        for p in params:
            p.grad = torch.randn_like(p)
        first.step()
    second = MuonWithAdamW(copies, lr=0.02)
    with torch.no_grad():
        for p, q in zip(params, copies):
            q.copy_(p)
    second.load_state_dict(copy.deepcopy(first.state_dict()))  # torch's loading may share the tensors
    for opt, ps in ((first, params), (second, copies)):
        for p in ps:
            p.grad = torch.full_like(p, 0.5)
        opt.step()
    assert all(torch.equal(p, q) for p, q in zip(params, copies))


def test_the_network_trainer_takes_it():
    data = load_digits()
    run = train_network(MuonWithAdamW, {"lr": 0.01}, data, epochs=1)
    assert run.diverged_at is None and run.final_test_accuracy > 0.5
    assert run.optimizer == "MuonWithAdamW"
    assert optim_lib.optimizers.MuonWithAdamW is MuonWithAdamW
