"""The one step loop that every optim_lib optimizer shares: a pure rule behind ``torch.optim``.

An optimizer here is a :class:`~optim_lib.rules.base.Rule` (the state a parameter starts
with, one step of the algorithm written next to its equations, the checks, and which
hyperparameters of a ``param_group`` the step takes, under the names of the math). This
class turns a rule into a drop-in ``torch.optim.Optimizer``: param groups, lazily created
per-parameter state, ``state_dict`` / ``load_state_dict``, closures and hooks all come from
torch. It also takes torch 2.13's implementation flags (``foreach``, ``fused``,
``capturable``, ``differentiable``) with torch's defaults, so a training script can swap
classes without editing its arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import torch
from torch.autograd.graph import increment_version

from ..rules.base import Rule, State

def _tensors(state: State) -> dict[str, torch.Tensor]:
    """The state entries that are tensors (the rest, like ``t``, are plain numbers)."""
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


class _Views:
    """Zero-copy NumPy views of one parameter and of its state tensors, kept between steps.

    Making a NumPy view of a tensor costs about a microsecond, as much as the whole update of
    a small parameter, so the views are made once and reused for as long as they still show
    what torch holds: the same state tensors, and the parameter's data at the same address
    (``load_state_dict``, replacing a state tensor, or assigning ``p.data`` all make new
    views).
    """

    __slots__ = ("tensors", "address", "p", "arrays")

    def __init__(self, p: torch.Tensor, state: State) -> None:
        self.tensors = _tensors(state)
        self.address = p.data_ptr()
        self.p = p.detach().numpy()
        self.arrays = {k: v.numpy() for k, v in self.tensors.items()}

    @classmethod
    def of(cls, p: torch.Tensor, state: State) -> _Views | None:
        """The views, or ``None`` where NumPy cannot see the memory (GPU, bfloat16)."""
        try:
            return cls(p, state)
        except (RuntimeError, TypeError):
            return None

    def still_show(self, p: torch.Tensor, state: State) -> bool:
        """Whether ``p`` and ``state`` still hold the memory these views were made of."""
        return p.data_ptr() == self.address and all(state.get(k) is v for k, v in self.tensors.items())


def _write_back(p: Any, new_p: Any, state: State, targets: dict[str, Any], new_state: State, old_state: State) -> None:
    """Copy the rule's results into the parameter and the state tensors in place, so they
    stay the objects torch knows (and a state tensor never aliases the gradient); plain
    values such as ``t`` are stored in ``state``. Unchanged state is skipped (e.g. AMSGrad's
    maximum when amsgrad is off)."""
    p[...] = new_p
    for key, value in new_state.items():
        if value is old_state[key]:
            continue
        if key in targets:
            targets[key][...] = value
        else:
            state[key] = value


def _numpy_or_none(g: torch.Tensor) -> Any:
    """A zero-copy NumPy view of the gradient, or ``None`` where NumPy cannot see it (a
    gradient that needs grad, a lazy negation, another device)."""
    try:
        return g.numpy()
    except (RuntimeError, TypeError):
        return None


# What each flag asks for that optim_lib does not do, and what to use instead. ``foreach``
# changes nothing in the numbers (torch's multi-tensor path computes the same update), so
# it is accepted and, for now, ignored.
_UNSUPPORTED_FLAGS = {
    "fused": "a fused kernel; leave fused unset, or use torch.optim.{name}(fused=True)",
    "capturable": "CUDA-graph capture (optim_lib steps on the CPU); use torch.optim.{name}(capturable=True)",
    "differentiable": (
        "differentiating through the step (optim_lib's update runs outside autograd); "
        "use torch.optim.{name}(differentiable=True)"
    ),
}


def check_torch_flags(name: str, group: Mapping[str, Any]) -> None:
    """Refuse, naming the flag, what optim_lib does not implement (at construction)."""
    for flag in ("foreach", "fused"):
        if flag in group and group[flag] not in (None, True, False):
            raise TypeError(f"{flag} must be None, True or False; got {group[flag]!r}")
    for flag in ("capturable", "differentiable", "decoupled_weight_decay"):
        if flag in group and not isinstance(group[flag], bool):
            raise TypeError(f"{flag} must be True or False; got {group[flag]!r}")
    for flag, instead in _UNSUPPORTED_FLAGS.items():
        if group.get(flag):
            raise ValueError(f"{flag}=True is not supported by optim_lib.{name}: it asks for "
                             + instead.format(name=name))


def _scalar(name: str, value: Any) -> Any:
    """A one-element tensor (torch allows ``lr=torch.tensor(0.01)``) read as a float, at
    every step, so that changing the tensor in place changes the rate, as in torch."""
    if not isinstance(value, torch.Tensor):
        return value
    if value.numel() != 1:
        raise ValueError(f"{name} must be a float or a one-element tensor; got a tensor of shape {tuple(value.shape)}")
    return float(value)


def plain_hyperparameters(group: Mapping[str, Any]) -> Mapping[str, Any]:
    """``group`` with a tensor ``lr``, ``weight_decay`` or ``betas`` read as floats (the rule
    and its checks take numbers); ``group`` itself when there is none."""
    betas = group.get("betas")
    tensor_betas = isinstance(betas, (tuple, list)) and any(isinstance(b, torch.Tensor) for b in betas)
    if not (tensor_betas or isinstance(group.get("lr"), torch.Tensor)
            or isinstance(group.get("weight_decay"), torch.Tensor)):
        return group
    plain = dict(group)
    for name in ("lr", "weight_decay"):
        if name in plain:
            plain[name] = _scalar(name, plain[name])
    if tensor_betas:
        plain["betas"] = tuple(_scalar(f"betas[{i}]", b) for i, b in enumerate(betas))
    return plain


def has_modes(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` switches its parameters between a training and an evaluation
    point with ``train()`` and ``eval()``, as schedule-free optimizers do (optim_lib's
    :class:`~optim_lib.optimizers.schedule_free.AdamWScheduleFree` and the schedulefree
    package's); ``torch.optim``'s classes have no such methods."""
    return callable(getattr(optimizer, "train", None)) and callable(getattr(optimizer, "eval", None))


class RuleOptimizer(torch.optim.Optimizer):
    """Base class: owns the step loop; a subclass names its rule and writes its constructor.

    Subclasses set ``rule`` (a :class:`~optim_lib.rules.base.Rule`) and pass their
    hyperparameters, under torch's names, as ``defaults``.
    """

    rule: ClassVar[Rule]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        # torch adds each param group through add_param_group, which checks it (below).
        super().__init__(params, defaults)

    def rule_for(self, group: Mapping[str, Any]) -> Rule:
        """The rule a param group runs (Adam's depends on ``decoupled_weight_decay``)."""
        return self.rule

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        # A group may override the defaults (``[{"params": ..., "lr": 0.1}]``): check the
        # merged group before it is added, so a bad one is refused and nothing changes.
        merged = {**self.defaults, **param_group}
        check_torch_flags(type(self).__name__, merged)
        self.rule_for(merged).check(plain_hyperparameters(merged))
        super().add_param_group(param_group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss, as in torch."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        views_of = self.__dict__.setdefault("_views", {})  # not pickled: rebuilt after loading
        for group in self.param_groups:
            rule = self.rule_for(group)
            arguments = rule.arguments(plain_hyperparameters(group))
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.is_sparse or p.is_complex():
                    raise RuntimeError(
                        f"{type(self).__name__} supports dense real parameters only; "
                        f"got a {'sparse gradient' if g.is_sparse else 'complex parameter'}"
                    )
                state = self.state[p]
                if not state:
                    state.update(rule.initial_state(p, group))
                views = views_of.get(p)
                if views is None or not views.still_show(p, state):
                    views = views_of[p] = _Views.of(p, state)
                g_array = _numpy_or_none(g) if views is not None else None
                if g_array is None:
                    with torch.no_grad():
                        new_p, new_state = rule.update(p, g, state, **arguments)
                        _write_back(p, new_p, state, _tensors(state), new_state, state)
                else:
                    # The same rule on NumPy views of the same memory: on small CPU tensors
                    # NumPy's per-operation cost is a fifth of torch's.
                    arrays = {**state, **views.arrays}
                    new_p, new_state = rule.update(views.p, g_array, arrays, **arguments)
                    _write_back(views.p, new_p, state, views.arrays, new_state, arrays)
                    # Writes through NumPy bypass autograd's bookkeeping: bump the version, so
                    # a graph that saved ``p`` refuses to backpropagate through stale values,
                    # exactly as after torch.optim's in-place update.
                    increment_version(p)
        return loss
