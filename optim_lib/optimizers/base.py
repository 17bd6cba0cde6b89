"""The one step loop that every optim_lib optimizer shares.

An optimizer here is three small things: ``init_state`` (the state a parameter starts
with), ``update`` (one step of the algorithm, a pure function written next to its
equations) and ``rule_arguments`` (which hyperparameters of a ``param_group`` the rule
takes, under the names of the math). This class turns those into a drop-in
``torch.optim.Optimizer``: param groups, lazily created per-parameter state,
``state_dict`` / ``load_state_dict``, closures and hooks all come from torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import torch
from torch.autograd.graph import increment_version

State = dict[str, Any]


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


class RuleOptimizer(torch.optim.Optimizer):
    """Base class: owns the step loop; subclasses supply the rule.

    Subclasses set ``init_state`` and ``update`` (as ``staticmethod``) and implement
    ``check_hyperparameters`` and ``rule_arguments``.
    """

    init_state: ClassVar[Callable[..., State]]
    update: ClassVar[Callable[..., tuple[Any, State]]]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        # torch adds each param group through add_param_group, which checks it (below).
        super().__init__(params, defaults)

    @staticmethod
    def check_hyperparameters(group: dict[str, Any]) -> None:
        """Raise ``ValueError``/``TypeError`` naming any hyperparameter out of range."""
        raise NotImplementedError

    @staticmethod
    def rule_arguments(group: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``update``, taken from a param group."""
        raise NotImplementedError

    def initial_state(self, p: torch.Tensor, group: dict[str, Any]) -> State:
        """A parameter's state before its first step (override when it needs the group)."""
        return self.init_state(p)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        # A group may override the defaults (``[{"params": ..., "lr": 0.1}]``): check the
        # merged group before it is added, so a bad one is refused and nothing changes.
        self.check_hyperparameters({**self.defaults, **param_group})
        super().add_param_group(param_group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss, as in torch."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        views_of = self.__dict__.setdefault("_views", {})  # not pickled: rebuilt after loading
        for group in self.param_groups:
            arguments = self.rule_arguments(group)
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
                    state.update(self.initial_state(p, group))
                views = views_of.get(p)
                if views is None or not views.still_show(p, state):
                    views = views_of[p] = _Views.of(p, state)
                g_array = _numpy_or_none(g) if views is not None else None
                if g_array is None:
                    with torch.no_grad():
                        new_p, new_state = self.update(p, g, state, **arguments)
                        _write_back(p, new_p, state, _tensors(state), new_state, state)
                else:
                    # The same rule on NumPy views of the same memory: on small CPU tensors
                    # NumPy's per-operation cost is a fifth of torch's.
                    arrays = {**state, **views.arrays}
                    new_p, new_state = self.update(views.p, g_array, arrays, **arguments)
                    _write_back(views.p, new_p, state, views.arrays, new_state, arrays)
                    # Writes through NumPy bypass autograd's bookkeeping: bump the version, so
                    # a graph that saved ``p`` refuses to backpropagate through stale values,
                    # exactly as after torch.optim's in-place update.
                    increment_version(p)
        return loss
