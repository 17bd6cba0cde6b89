"""What an optimizer is before it meets torch: a few pure functions, bundled as a :class:`Rule`.

A rule is written once and used everywhere: the ``torch.optim.Optimizer`` class (an adapter
in :mod:`optim_lib.optimizers`), the 2-D runner, the airfoil trainer, the chapters, and the
reader's browser, which runs these very modules in Pyodide. So nothing under
``optim_lib/rules/`` imports NumPy or torch (a test runs them with both imports blocked).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

State = dict[str, Any]
Group = Mapping[str, Any]
"""A param group's hyperparameters under torch's names (``betas``, ``alpha``), as the
``torch.optim`` constructor takes them."""


def _no_init_arguments(group: Group) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Rule:
    """One algorithm as pure functions.

    Attributes:
        name: the ``torch.optim`` class it matches (``"Adam"``).
        init: ``init(p, **init_arguments(group))``, the state before the first step.
        update: ``update(p, g, state, **arguments(group))`` returns ``(new_p, new_state)``
            and changes none of its inputs.
        check: raises ``ValueError``/``TypeError`` naming any hyperparameter of a group
            that is out of range.
        arguments: a group's hyperparameters as the keyword arguments of ``update``, under
            the names of the math (torch's ``betas`` become ``beta1``, ``beta2``).
        init_arguments: the group's hyperparameters that ``init`` takes (AdaGrad's
            initial accumulator), usually none.
        elementwise: every coordinate is updated from its own numbers only (true of all
            the classic rules), so the rule gives the same result on a whole array as on
            each of its elements as a float.
        evaluation_point: ``evaluation_point(p, state, group)``, the point at which a model
            trained with this rule is evaluated, where that is not the parameter ``p``
            itself (schedule-free AdamW takes its gradients at ``y`` and is evaluated at
            the average ``x``); ``None`` for the rules where it is ``p``. The runners record
            this point, and an optimizer class with such a rule switches its parameters
            between the two with ``train()`` and ``eval()``.
    """

    name: str
    init: Callable[..., State]
    update: Callable[..., tuple[Any, State]]
    check: Callable[[Group], None]
    arguments: Callable[[Group], dict[str, Any]]
    init_arguments: Callable[[Group], dict[str, Any]] = _no_init_arguments
    elementwise: bool = True
    evaluation_point: Callable[[Any, State, Group], Any] | None = None

    def initial_state(self, p: Any, group: Group) -> State:
        """The state of parameter ``p`` before its first step, for ``group``'s settings."""
        return self.init(p, **self.init_arguments(group))
