"""Bad hyperparameters raise an error naming the argument, the allowed range and the value."""

from __future__ import annotations

import math
import re

import pytest
import torch

import optim_lib
from oracles import ORACLES, TORCH_BACKED

NAN = math.nan

# (class, arguments, the exact message expected)
BAD = [
    ("SGD", {"lr": -0.1}, "lr must be in [0, inf); got -0.1"),
    ("SGD", {"lr": NAN}, "lr must be in [0, inf); got nan"),
    ("SGD", {"lr": math.inf}, "lr must be in [0, inf); got inf"),
    ("SGD", {"momentum": 1.0}, "momentum must be in [0, 1); got 1.0"),
    ("SGD", {"momentum": -0.5}, "momentum must be in [0, 1); got -0.5"),
    ("SGD", {"dampening": 1.5}, "dampening must be in [0, 1]; got 1.5"),
    ("SGD", {"weight_decay": -1e-4}, "weight_decay must be in [0, inf); got -0.0001"),
    ("SGD", {"nesterov": True}, "nesterov=True needs momentum in (0, 1) and dampening = 0; got momentum=0, dampening=0"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov=True needs momentum in (0, 1) and dampening = 0; got momentum=0.9, dampening=0.1"),
    ("Adagrad", {"lr": -1.0}, "lr must be in [0, inf); got -1.0"),
    ("Adagrad", {"lr_decay": -0.1}, "lr_decay must be in [0, inf); got -0.1"),
    ("Adagrad", {"initial_accumulator_value": -1}, "initial_accumulator_value must be in [0, inf); got -1"),
    ("Adagrad", {"eps": -1e-10}, "eps must be in [0, inf); got -1e-10"),
    ("Adagrad", {"weight_decay": NAN}, "weight_decay must be in [0, inf); got nan"),
    ("RMSprop", {"alpha": 1.01}, "alpha must be in [0, 1]; got 1.01"),
    ("RMSprop", {"alpha": -0.1}, "alpha must be in [0, 1]; got -0.1"),
    ("RMSprop", {"eps": -1.0}, "eps must be in [0, inf); got -1.0"),
    ("RMSprop", {"momentum": 1.0}, "momentum must be in [0, 1); got 1.0"),
    ("RMSprop", {"weight_decay": -0.5}, "weight_decay must be in [0, inf); got -0.5"),
    ("Adadelta", {"rho": 1.5}, "rho must be in [0, 1]; got 1.5"),
    ("Adadelta", {"rho": NAN}, "rho must be in [0, 1]; got nan"),
    ("Adadelta", {"lr": -1.0}, "lr must be in [0, inf); got -1.0"),
    ("Adadelta", {"eps": -1e-6}, "eps must be in [0, inf); got -1e-06"),
    ("Adam", {"betas": (1.0, 0.999)}, "betas[0] (beta1) must be in [0, 1); got 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "betas[1] (beta2) must be in [0, 1); got -0.1"),
    ("Adam", {"betas": (0.9, NAN)}, "betas[1] (beta2) must be in [0, 1); got nan"),
    ("Adam", {"betas": (0.9,)}, "betas must be a pair (beta1, beta2); got (0.9,)"),
    ("Adam", {"eps": -1e-8}, "eps must be in [0, inf); got -1e-08"),
    ("Adam", {"weight_decay": -0.01}, "weight_decay must be in [0, inf); got -0.01"),
    ("Adam", {"lr": NAN}, "lr must be in [0, inf); got nan"),
    ("AdamW", {"betas": (0.9, 1.0)}, "betas[1] (beta2) must be in [0, 1); got 1.0"),
    ("AdamW", {"weight_decay": -0.01}, "weight_decay must be in [0, inf); got -0.01"),
    ("AdamW", {"eps": NAN}, "eps must be in [0, inf); got nan"),
    ("NAdam", {"lr": -1.0}, "lr must be in [0, inf); got -1.0"),
    ("NAdam", {"momentum_decay": -0.1}, "momentum_decay must be in [0, inf); got -0.1"),
    ("NAdam", {"momentum_decay": NAN}, "momentum_decay must be in [0, inf); got nan"),
    ("NAdam", {"betas": (1.0, 0.999)}, "betas[0] (beta1) must be in [0, 1); got 1.0"),
    ("NAdam", {"capturable": True}, "capturable=True is not supported by optim_lib.NAdam"),
    ("RAdam", {"betas": (0.9, 1.0)}, "betas[1] (beta2) must be in [0, 1); got 1.0"),
    ("RAdam", {"weight_decay": -0.01}, "weight_decay must be in [0, inf); got -0.01"),
    ("RAdam", {"differentiable": True}, "differentiable=True is not supported by optim_lib.RAdam"),
    ("Adamax", {"eps": -1e-8}, "eps must be in [0, inf); got -1e-08"),
    ("Adamax", {"lr": NAN}, "lr must be in [0, inf); got nan"),
    ("Adafactor", {"lr": -0.1}, "lr must be in [0, inf); got -0.1"),
    ("Adafactor", {"beta2_decay": 0.5}, "beta2_decay must be in (-inf, 0.0]; got 0.5"),
    ("Adafactor", {"beta2_decay": NAN}, "beta2_decay must be in (-inf, 0.0]; got nan"),
    ("Adafactor", {"eps": (-1.0, 1e-3)}, "eps[0] (eps1) must be None or in [0, inf); got -1.0"),
    ("Adafactor", {"eps": (None, -1e-3)}, "eps[1] (eps2) must be in [0, inf); got -0.001"),
    ("Adafactor", {"eps": 1e-3}, "eps must be a pair (eps1, eps2); got 0.001"),
    ("Adafactor", {"d": 0.5}, "d must be in [1.0, inf); got 0.5"),
    ("Adafactor", {"d": NAN}, "d must be in [1.0, inf); got nan"),
    ("Adafactor", {"weight_decay": -1.0}, "weight_decay must be in [0, inf); got -1.0"),
    ("Muon", {"lr": -1.0}, "lr must be in [0, inf); got -1.0"),
    ("Muon", {"momentum": 1.0}, "momentum must be in [0, 1); got 1.0"),
    ("Muon", {"momentum": NAN}, "momentum must be in [0, 1); got nan"),
    ("Muon", {"weight_decay": -0.1}, "weight_decay must be in [0, inf); got -0.1"),
    ("Muon", {"eps": -1e-7}, "eps must be in [0, inf); got -1e-07"),
    ("Muon", {"ns_steps": 100}, "ns_steps must be a whole number in [0, 99]; got 100"),
    ("Muon", {"ns_steps": -1}, "ns_steps must be a whole number in [0, 99]; got -1"),
    ("Muon", {"ns_steps": 5.0}, "ns_steps must be a whole number in [0, 99]; got 5.0"),
    ("Muon", {"ns_coefficients": (1.0, 2.0)}, "ns_coefficients must be three numbers (a, b, c); got (1.0, 2.0)"),
    ("Muon", {"ns_coefficients": (3.0, NAN, 2.0)}, "ns_coefficients[1] (b) must be a finite number; got nan"),
    ("Muon", {"adjust_lr_fn": "bad"}, "adjust_lr_fn must be one of None, 'original', 'match_rms_adamw'; got 'bad'"),
    ("Lion", {"lr": 0.0}, "lr must be in (0, inf); got 0.0"),
    ("Lion", {"lr": NAN}, "lr must be in (0, inf); got nan"),
    ("Lion", {"betas": (1.5, 0.99)}, "betas[0] (beta1) must be in [0, 1]; got 1.5"),
    ("Lion", {"betas": (0.9, -0.1)}, "betas[1] (beta2) must be in [0, 1]; got -0.1"),
    ("Lion", {"weight_decay": -1.0}, "weight_decay must be in [0, inf); got -1.0"),
    ("Lion", {"use_triton": True}, "use_triton=True is not supported by optim_lib.Lion"),
    ("AdamWScheduleFree", {"lr": -1.0}, "lr must be in [0, inf); got -1.0"),
    ("AdamWScheduleFree", {"betas": (0.0, 0.999)}, "betas[0] (beta1) must be in (0, 1); got 0.0"),
    ("AdamWScheduleFree", {"betas": (0.9, 1.0)}, "betas[1] (beta2) must be in [0, 1); got 1.0"),
    ("AdamWScheduleFree", {"warmup_steps": -1}, "warmup_steps must be a whole number in [0, inf); got -1"),
    ("AdamWScheduleFree", {"warmup_steps": 1.5}, "warmup_steps must be a whole number in [0, inf); got 1.5"),
    ("AdamWScheduleFree", {"r": -1.0}, "r must be in [0, inf); got -1.0"),
    ("AdamWScheduleFree", {"weight_lr_power": NAN}, "weight_lr_power must be in [0, inf); got nan"),
]

BAD_TYPES = [
    ("SGD", {"lr": "0.1"}, "lr must be a real number; got '0.1'"),
    ("SGD", {"nesterov": "yes", "momentum": 0.9}, "nesterov must be True or False; got 'yes'"),
    ("RMSprop", {"centered": 1}, "centered must be True or False; got 1"),
    ("Adam", {"amsgrad": None}, "amsgrad must be True or False; got None"),
    ("Adam", {"maximize": 0}, "maximize must be True or False; got 0"),
    ("NAdam", {"decoupled_weight_decay": "yes"}, "decoupled_weight_decay must be True or False; got 'yes'"),
    ("Adafactor", {"maximize": None}, "maximize must be True or False; got None"),
    ("Muon", {"nesterov": 1}, "nesterov must be True or False; got 1"),
    ("Lion", {"use_triton": "yes"}, "use_triton must be True or False; got 'yes'"),
    ("Lion", {"lr": "0.1"}, "lr must be a real number; got '0.1'"),
]


@pytest.mark.parametrize(("name", "arguments", "message"), BAD)
def test_out_of_range_hyperparameter_is_refused_with_its_name_range_and_value(name, arguments, message):
    x = torch.zeros(2, 2, requires_grad=True)  # a matrix: Muon takes no other
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(optim_lib, name)([x], **arguments)


@pytest.mark.parametrize(("name", "arguments", "message"), BAD_TYPES)
def test_wrong_type_hyperparameter_is_refused_with_its_name_and_value(name, arguments, message):
    x = torch.zeros(2, 2, requires_grad=True)  # a matrix: Muon takes no other
    with pytest.raises(TypeError, match=re.escape(message)):
        getattr(optim_lib, name)([x], **arguments)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"])
def test_every_bad_value_that_torch_refuses_we_refuse_too(name):
    x = torch.zeros(2, 2, requires_grad=True)  # a matrix: Muon takes no other
    for arguments in ({"lr": -1.0}, {"eps": -1.0}, {"weight_decay": -1.0}):
        if name == "SGD" and "eps" in arguments:
            continue
        with pytest.raises(ValueError):
            getattr(torch.optim, name)([x], **arguments)
        with pytest.raises(ValueError):
            getattr(optim_lib, name)([x], **arguments)


# What each newer oracle refuses (torch.optim with ValueError, lion-pytorch with assert).
ORACLE_REFUSES = [
    ("NAdam", {"lr": -1.0}), ("NAdam", {"eps": -1.0}), ("NAdam", {"weight_decay": -1.0}),
    ("NAdam", {"momentum_decay": -1.0}), ("NAdam", {"betas": (1.0, 0.999)}),
    ("RAdam", {"lr": -1.0}), ("RAdam", {"eps": -1.0}), ("RAdam", {"weight_decay": -1.0}),
    ("RAdam", {"betas": (0.9, 1.0)}),
    ("Adamax", {"lr": -1.0}), ("Adamax", {"eps": -1.0}), ("Adamax", {"weight_decay": -1.0}),
    ("Adamax", {"betas": (-0.1, 0.999)}),
    ("Adafactor", {"lr": -1.0}), ("Adafactor", {"beta2_decay": 0.5}), ("Adafactor", {"eps": (-1.0, 1e-3)}),
    ("Adafactor", {"eps": (None, -1.0)}), ("Adafactor", {"d": 0.5}), ("Adafactor", {"weight_decay": -1.0}),
    ("Muon", {"lr": -1.0}), ("Muon", {"momentum": -1.0}), ("Muon", {"weight_decay": -1.0}),
    ("Muon", {"adjust_lr_fn": "bad"}),
    ("Lion", {"lr": 0.0}), ("Lion", {"lr": -1.0}), ("Lion", {"betas": (1.5, 0.99)}), ("Lion", {"betas": (0.9, -0.1)}),
]


@pytest.mark.parametrize(("name", "arguments"), ORACLE_REFUSES)
def test_every_bad_value_that_the_newer_oracles_refuse_we_refuse_too(name, arguments):
    x = torch.zeros(2, 2, requires_grad=True)
    with pytest.raises((ValueError, AssertionError)):
        ORACLES[name]([x], **arguments)
    with pytest.raises(ValueError):
        getattr(optim_lib, name)([x], **arguments)


def test_bad_param_group_is_refused_and_nothing_is_added():
    x, y = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = optim_lib.Adam([x], lr=0.01)
    with pytest.raises(ValueError, match=re.escape("betas[0] (beta1) must be in [0, 1); got 2.0")):
        opt.add_param_group({"params": [y], "betas": (2.0, 0.999)})
    assert len(opt.param_groups) == 1


def test_per_group_override_is_checked_at_construction():
    x, y = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=re.escape("lr must be in [0, inf); got -0.5")):
        optim_lib.SGD([{"params": [x]}, {"params": [y], "lr": -0.5}], lr=0.1)


@pytest.mark.parametrize("name", TORCH_BACKED)
def test_defaults_match_torch_optim(name):
    x = torch.zeros(2, 2, requires_grad=True)  # a matrix: Muon takes no other
    ours = getattr(optim_lib, name)([x]).defaults
    theirs = getattr(torch.optim, name)([x]).defaults
    for key, value in ours.items():
        assert theirs[key] == value, key

