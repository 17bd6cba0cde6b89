"""A true drop-in for torch 2.13: every constructor takes exactly torch's keywords with torch's
defaults (a new torch keyword fails here), the flags optim_lib does not implement are
refused by name at construction, and a learning rate may be a one-element tensor."""

from __future__ import annotations

import inspect

import pytest
import torch

import optim_lib

CLASSES = [cls.__name__ for cls in optim_lib.ALL_OPTIMIZERS]


def _parameters(cls: type) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_has_torchs_keywords_kinds_and_defaults(name):
    assert _parameters(getattr(optim_lib, name)) == _parameters(getattr(torch.optim, name))


@pytest.mark.parametrize("name", CLASSES)
def test_param_group_holds_the_same_keys_as_torchs(name):
    x = torch.zeros(3, requires_grad=True)
    ours = getattr(optim_lib, name)([x]).param_groups[0]
    theirs = getattr(torch.optim, name)([x]).param_groups[0]
    assert sorted(ours) == sorted(theirs)


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("foreach", [None, True, False])
def test_foreach_is_accepted_and_changes_no_number(name, foreach):
    # Oracle: torch.optim with the same flag (foreach is an implementation choice in torch too).
    from optim_lib.compare import largest_difference

    ours = getattr(optim_lib, name)
    theirs = getattr(torch.optim, name)
    assert largest_difference(ours, theirs, {"foreach": foreach}, steps=30) < 1e-10


FLAGS = [(name, flag) for name in CLASSES for flag in ("fused", "capturable", "differentiable")
         if flag in inspect.signature(getattr(torch.optim, name)).parameters]


@pytest.mark.parametrize(("name", "flag"), FLAGS)
def test_unimplemented_flag_is_refused_by_name_with_what_to_use_instead(name, flag):
    x = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=rf"^{flag}=True is not supported by optim_lib\.{name}: .*torch\.optim\.{name}\({flag}=True\)"):
        getattr(optim_lib, name)([x], **{flag: True})


@pytest.mark.parametrize(("name", "flag"), FLAGS)
def test_unimplemented_flag_left_false_is_accepted(name, flag):
    x = torch.zeros(3, requires_grad=True)
    getattr(optim_lib, name)([x], **{flag: False})


def test_adam_with_decoupled_weight_decay_is_adamw():
    from optim_lib.compare import largest_difference

    class DecoupledAdam(optim_lib.Adam):
        def __init__(self, params, **kwargs):
            super().__init__(params, decoupled_weight_decay=True, **kwargs)

    hyperparameters = {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}
    assert largest_difference(DecoupledAdam, torch.optim.AdamW, hyperparameters, steps=100) < 1e-10
    # and it differs from Adam's L2 penalty, so the comparison can fail
    assert largest_difference(optim_lib.Adam, torch.optim.AdamW, hyperparameters, steps=100) > 1e-3


def test_adamw_param_groups_say_decoupled_as_torchs_do():
    x = torch.zeros(3, requires_grad=True)
    assert optim_lib.AdamW([x]).param_groups[0]["decoupled_weight_decay"] is True


@pytest.mark.parametrize("name", CLASSES)
def test_a_zero_dimensional_tensor_learning_rate_works_as_in_torch(name):
    from optim_lib.compare import largest_difference

    ours, theirs = getattr(optim_lib, name), getattr(torch.optim, name)
    lr = torch.tensor(0.05, dtype=torch.float64)
    assert largest_difference(ours, theirs, {"lr": lr}, steps=30) < 1e-10


def test_a_tensor_learning_rate_changed_in_place_changes_the_step():
    # Oracle: torch.optim.SGD reads the tensor at every step.
    results = []
    for cls in (optim_lib.SGD, torch.optim.SGD):
        x = torch.ones(2, dtype=torch.float64, requires_grad=True)
        lr = torch.tensor(0.1, dtype=torch.float64)
        opt = cls([x], lr=lr)
        for step in range(3):
            x.grad = torch.ones_like(x)
            opt.step()
            lr.mul_(0.5)
        results.append(x.detach().clone())
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=1e-15)


def test_a_tensor_learning_rate_with_several_elements_is_refused_by_name():
    x = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"^lr must be a float or a one-element tensor; got a tensor of shape \(2,\)$"):
        optim_lib.Adam([x], lr=torch.tensor([0.1, 0.2]))
