"""A true drop-in: every constructor takes exactly its oracle's keywords with its oracle's
defaults (torch 2.13's class of the same name, lion-pytorch 0.2.5's ``Lion``, schedulefree
1.4.1's ``AdamWScheduleFree``; a new keyword fails here), the flags optim_lib does not
implement are refused by name at construction, and a learning rate may be a one-element
tensor."""

from __future__ import annotations

import inspect

import pytest
import torch

import optim_lib
from oracles import ORACLES, TORCH_BACKED, oracle_setting, shape_for

CLASSES = [cls.__name__ for cls in optim_lib.ALL_OPTIMIZERS]


def _parameters(cls: type) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]


def test_every_class_has_an_oracle():
    assert sorted(CLASSES) == sorted(ORACLES)


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_has_its_oracles_keywords_kinds_and_defaults(name):
    assert _parameters(getattr(optim_lib, name)) == _parameters(ORACLES[name])


@pytest.mark.parametrize("name", TORCH_BACKED)
def test_param_group_holds_the_same_keys_as_torchs(name):
    x = torch.zeros(shape_for(name, (3,)), requires_grad=True)
    ours = getattr(optim_lib, name)([x]).param_groups[0]
    theirs = getattr(torch.optim, name)([x]).param_groups[0]
    assert sorted(ours) == sorted(theirs)


@pytest.mark.parametrize(
    ("name", "ours_only", "theirs_only"),
    [
        # lion-pytorch keeps these two on the instance, not in the param groups.
        ("Lion", {"decoupled_weight_decay", "init_lr"}, set()),
        # The package's per-group counters and logging entry; the rule keeps them per parameter.
        ("AdamWScheduleFree", set(), {"k", "weight_sum", "lr_max", "scheduled_lr"}),
    ],
)
def test_param_group_differs_from_the_reference_packages_only_as_documented(name, ours_only, theirs_only):
    x = torch.zeros(3, requires_grad=True)
    ours = getattr(optim_lib, name)([x]).param_groups[0]
    theirs = ORACLES[name]([x]).param_groups[0]
    assert set(ours) - set(theirs) == ours_only
    assert set(theirs) - set(ours) == theirs_only
    for key in set(ours) & set(theirs) - {"params"}:
        assert ours[key] == theirs[key], key


FOREACH = [name for name in CLASSES if "foreach" in inspect.signature(ORACLES[name]).parameters]


@pytest.mark.parametrize("name", FOREACH)
@pytest.mark.parametrize("foreach", [None, True, False])
def test_foreach_is_accepted_and_changes_no_number(name, foreach):
    # Oracle: the oracle with the same flag (foreach is an implementation choice there too).
    from optim_lib.compare import largest_difference

    with oracle_setting(name):
        difference = largest_difference(getattr(optim_lib, name), ORACLES[name], {"foreach": foreach}, steps=30)
    assert difference < 1e-10


# fused=True is implemented (the rule compiled: tests/test_fast_paths.py).
FLAGS = [(name, flag) for name in TORCH_BACKED for flag in ("capturable", "differentiable")
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


# lion-pytorch's step cannot take a tensor lr (it passes lr as add_'s alpha).
TENSOR_LR = [name for name in CLASSES if name != "Lion"]


@pytest.mark.parametrize("name", TENSOR_LR)
def test_a_zero_dimensional_tensor_learning_rate_works_as_in_its_oracle(name):
    from optim_lib.compare import largest_difference

    lr = torch.tensor(0.05, dtype=torch.float64)
    with oracle_setting(name):
        assert largest_difference(getattr(optim_lib, name), ORACLES[name], {"lr": lr}, steps=30) < 1e-10


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
