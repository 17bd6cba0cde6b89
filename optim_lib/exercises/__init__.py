"""Check a learner's own update rule against optim_lib's, with a hint at the likely mistake.

Usage, in a notebook (Colab included: only NumPy and optim_lib are needed)::

    from optim_lib.exercises import check_update, EXERCISES

    print(EXERCISES["adam"].skeleton)        # a starting point to copy into a cell

    def my_adam_update(p, g, state, *, lr, beta1, beta2, eps):
        ...

    check_update(my_adam_update, "adam")     # shows a CheckResult; never raises for a wrong answer

How the check works. For each of several trials (a parameter of a random shape such as
``(3,)`` or ``(2, 4)``, random gradients, random hyperparameters in the ranges of
:data:`EXERCISES`, all from a fixed seed) the learner's function and the reference rule each
take a few steps from the same start. The learner's function gets the reference's initial
state (from ``adam_init`` and friends) and then, at every later step, the state it returned
itself. After each step the new ``p`` and the exercise's state variables are compared with
the reference's (``rtol = 1e-7``, ``atol = 1e-10``).

On the first difference, the message says which variable, which entry, at which step,
expected versus got, and gives a hint: the same inputs are run through a catalogue of
classic mistakes (:class:`Mistake`: Adam without bias correction, eps inside the square
root, momentum as an average, ...), and if the learner's numbers match one of them the hint
names it and says how to fix it. Otherwise the hint explains the variable that differs.
Exceptions, a wrong return structure, wrong shapes, NaN and inputs changed in place are
reported in words, never as a traceback.

Convention: eps is sampled between 1e-4 and 1e-2 (1e-6 to 1e-3 for Adadelta), larger than
the usual defaults, so that where eps goes (inside or outside the square root) changes the
result by far more than the tolerance; the gradients' sizes vary per entry (0.03 to 3) for
the same reason.

The package. :mod:`.checking` holds the machinery (:class:`Exercise`, :class:`Mistake`, the
trials, the messages) and the building blocks the families share; each algorithm family has
a module of its own with its references, its catalogue of mistakes, its starter code and its
``EXERCISES``: :mod:`.sgd` (gradient descent, momentum, Nesterov), :mod:`.adagrad`,
:mod:`.rmsprop`, :mod:`.adadelta`, :mod:`.adam` (Adam, AdamW), :mod:`.adam_descendants` (NAdam,
RAdam, Adamax), :mod:`.adafactor`, :mod:`.lion`, :mod:`.muon` and :mod:`.schedule_free`. To add a family, write its
module the same way and import it here into :data:`FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import adadelta, adafactor, adagrad, adam, adam_descendants, lion, muon, rmsprop, schedule_free, sgd
from .checking import ATOL, RTOL, CheckResult, Exercise, Mistake, Range, check_exercise

__all__ = ["check_update", "CheckResult", "EXERCISES", "Exercise", "Mistake", "Range", "RTOL", "ATOL"]

FAMILIES = (sgd, adagrad, rmsprop, adadelta, adam, adam_descendants, adafactor, lion, muon, schedule_free)
"""The algorithm families' modules, in the chapters' order; each lists its exercises in its
own ``EXERCISES`` tuple."""


def _by_name(exercises: Iterable[Exercise]) -> dict[str, Exercise]:
    """The exercises keyed by name, in their order; a name given twice is refused, so that
    one family cannot silently replace another's exercise."""
    by_name: dict[str, Exercise] = {}
    for exercise in exercises:
        if exercise.name in by_name:
            raise ValueError(f"two exercises are named {exercise.name!r}; each exercise needs a name of its own")
        by_name[exercise.name] = exercise
    return by_name


EXERCISES: dict[str, Exercise] = _by_name(exercise for family in FAMILIES for exercise in family.EXERCISES)
"""The exercises by name: ``sgd``, ``momentum``, ``nesterov``, ``adagrad``, ``rmsprop``,
``adadelta``, ``adam``, ``adamw``, ``nadam``, ``radam``, ``adamax``, ``adafactor``, ``lion``, ``muon``, ``schedule_free``."""


def check_update(
    update: Callable[..., Any], algorithm: str, *, trials: int = 5, steps: int | None = None, seed: int = 0
) -> CheckResult:
    """Check ``update(p, g, state, **hyperparameters) -> (new_p, new_state)`` against
    optim_lib's rule for ``algorithm`` (a key of :data:`EXERCISES`).

    Runs ``trials`` random trials (seeded, so every run checks the same cases) of ``steps``
    steps each (default: the exercise's own, 6 for all but RAdam's 10) and compares ``p``
    and the exercise's state variables after every step.
    Never raises for a wrong answer: a wrong number, an exception, a wrong return
    structure, a wrong shape, NaN or an input changed in place all come back as a failed
    :class:`CheckResult` whose message says what happened, where, and what to try.

    Raises:
        ValueError: ``algorithm`` is not an exercise's name (a mistake in the notebook, not
            in the learner's answer).
    """
    if algorithm not in EXERCISES:
        raise ValueError(f"algorithm must be one of {', '.join(EXERCISES)}; got {algorithm!r}")
    return check_exercise(update, EXERCISES[algorithm], trials=trials, steps=steps, seed=seed)
