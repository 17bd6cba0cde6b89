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


def _numpy_views(p: torch.Tensor, g: torch.Tensor, state: State) -> tuple[Any, Any, State] | None:
    """Zero-copy NumPy views of ``p``, ``g`` and the state tensors, or ``None`` where NumPy
    cannot see the memory (GPU, bfloat16, a gradient that needs grad, a lazy negation)."""
    try:
        return (
            p.detach().numpy(),
            g.numpy(),
            {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in state.items()},
        )
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

    def _step_parameter(self, p: Any, g: Any, state_now: State, state: State, arguments: dict[str, Any]) -> None:
        """Apply the rule to one parameter (tensors, or NumPy views of them) and write the
        results back in place, so ``p`` and the state tensors stay the objects torch knows
        (and a state tensor never aliases the gradient)."""
        new_p, new_state = self.update(p, g, state_now, **arguments)
        p[...] = new_p
        for key, value in new_state.items():
            if value is state_now[key]:
                continue  # unchanged (e.g. AMSGrad's maximum when amsgrad is off)
            if isinstance(state[key], torch.Tensor):
                state_now[key][...] = value
            else:
                state[key] = value

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
                views = _numpy_views(p, g, state)
                if views is None:
                    with torch.no_grad():
                        self._step_parameter(p, g, state, state, arguments)
                else:
                    # The same rule on NumPy views of the same memory: on small CPU tensors
                    # NumPy's per-operation cost is a fifth of torch's.
                    p_array, g_array, arrays = views
                    self._step_parameter(p_array, g_array, arrays, state, arguments)
                    # Writes through NumPy bypass autograd's bookkeeping: bump the version, so
                    # a graph that saved ``p`` refuses to backpropagate through stale values,
                    # exactly as after torch.optim's in-place update.
                    increment_version(p)
        return loss
