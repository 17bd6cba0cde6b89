"""The checking machinery: what an exercise is, how a trial runs, how a difference is told.

The algorithm families (:mod:`.sgd`, :mod:`.adam`, ...) build their :class:`Exercise` entries
from the pieces here and the building blocks they share (the ranges ``_LR`` and ``_EPS``, the
common hints, the starter code's note on not changing inputs); :func:`check_exercise` checks a
learner's function against one of them. How the check works is told in :mod:`optim_lib.exercises`.
"""

from __future__ import annotations

import html
import inspect
import math
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..rules._checks import check_whole

__all__ = ["check_exercise", "CheckResult", "Exercise", "Mistake", "Range", "RTOL", "ATOL"]

State = dict[str, Any]
UpdateRule = Callable[..., tuple[Any, State]]
"""``f(p, g, state, *, <hyperparameters>) -> (new_p, new_state)``, like optim_lib's rules."""
Arrays = tuple[np.ndarray, State]

RTOL = 1e-7
ATOL = 1e-10
SHAPES: tuple[tuple[int, ...], ...] = ((3,), (2, 4), (5,), (3, 2), (2, 2, 2))
"""The parameter's shape in trial 1, 2, 3, ... (cycled)."""


# --------------------------------------------------------------------------------------
# The pieces of an exercise
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """Where a hyperparameter is sampled: uniform on ``[low, high]``, or log-uniform when
    ``log`` is true, or a whole number from ``low`` to ``high`` (both included) when
    ``whole`` is true (a number of warm-up steps). Samples are rounded to 3 significant
    digits, so that the values a message shows are exactly the values used."""

    low: float
    high: float
    log: bool = False
    whole: bool = False

    def sample(self, rng: np.random.Generator) -> float:
        if self.whole:
            return int(rng.integers(int(self.low), int(self.high) + 1))
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return float(f"{value:.3g}")


@dataclass(frozen=True)
class Mistake:
    """A classic wrong version of an update rule, used to explain a learner's result.

    The hint reads ``"Your result matches {description}: {fix}"``.
    """

    key: str
    description: str
    fix: str
    update: UpdateRule

    @property
    def hint(self) -> str:
        return f"Your result matches {self.description}: {self.fix}"


@dataclass(frozen=True)
class Exercise:
    """One "implement it yourself" exercise.

    Attributes:
        name: the key in :data:`EXERCISES` (``"adam"``).
        title: the algorithm's name in messages (``"Adam"``).
        hyperparameters: the keyword arguments the learner's function is called with.
        ranges: where each hyperparameter is sampled.
        fixed: hyperparameters with one value, passed only if the learner's function names
            them (Adadelta's ``lr = 1.0``: the paper has no learning rate, torch has one).
        init: the reference's initial state, ``init(p)`` (``adam_init``).
        reference: the optim_lib rule with everything else fixed (``amsgrad=False``, ...),
            taking exactly ``hyperparameters``.
        state_keys: the state variables compared after each step, besides ``p``.
        mistakes: the catalogue of classic mistakes, most specific first.
        variable_hints: a general hint per compared variable (and ``"p"``).
        nan_hint: what NaN, inf or a ZeroDivisionError usually means here.
        skeleton: starter code for the learner.
        scalar_keys: the state variables that are single numbers, not arrays of ``p``'s
            shape (the step count ``t``; NAdam's product of momentum coefficients).
        steps: how many steps a trial takes unless :func:`check_exercise` is told
            otherwise (RAdam takes its first rectified step only at step 6, so its
            exercise checks more steps).
        shapes: the parameter's shape in trial 1, 2, 3, ... (cycled); default
            :data:`SHAPES`. Muon's exercise takes matrices only, Adafactor's factors them.
        state_shapes: the shape of each state variable for a parameter of a given shape,
            ``state_shapes(p_shape) -> {"R": (n, 1), ...}``, for a rule whose state is not
            shaped like ``p`` (Adafactor's row and column factors); default ``None``: a
            state variable has ``p``'s shape, and ``t`` is a single number.
    """

    name: str
    title: str
    hyperparameters: tuple[str, ...]
    ranges: Mapping[str, Range]
    fixed: Mapping[str, float]
    init: Callable[[np.ndarray], State]
    reference: UpdateRule
    state_keys: tuple[str, ...]
    mistakes: tuple[Mistake, ...]
    variable_hints: Mapping[str, str]
    nan_hint: str
    skeleton: str
    scalar_keys: tuple[str, ...] = ("t",)
    steps: int = 6
    shapes: tuple[tuple[int, ...], ...] = SHAPES
    state_shapes: Callable[[tuple[int, ...]], Mapping[str, tuple[int, ...]]] | None = None

    def expected_shape(self, key: str, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape the state variable ``key`` (or ``"p"``) must have, for a parameter of
        ``shape``."""
        if key == "p":
            return shape
        if self.state_shapes is not None and key in self.state_shapes(shape):
            return tuple(self.state_shapes(shape)[key])
        return () if key in self.scalar_keys else shape

    @property
    def compared(self) -> tuple[str, ...]:
        """The variables compared after each step: the state first (in the order the rule
        computes them), then ``p``, which is computed from them."""
        return (*self.state_keys, "p")

    @property
    def state_example(self) -> str:
        """The new state as the learner should return it, e.g. ``{"t": t, "m": m, "v": v}``."""
        return "{" + ", ".join(f'"{key}": {key}' for key in self.state_keys) + "}"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`check_update`; prints as its message.

    Attributes:
        passed: whether the function matched the reference on every trial and step.
        message: what passed, or the first problem explained in words, with a hint.
        algorithm: the exercise's name.
        mistake: the key of the catalogue :class:`Mistake` the function matches, if any.
    """

    passed: bool
    message: str
    algorithm: str
    mistake: str | None = None

    def __str__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else "#c62828"
        return (
            f'<div style="border-left: 4px solid {colour}; padding: 0.2em 0.8em;">'
            f'<pre style="white-space: pre-wrap; margin: 0;">{html.escape(self.message)}</pre>'
            "</div>"
        )


# --------------------------------------------------------------------------------------
# Building blocks the families share
# --------------------------------------------------------------------------------------

_LR = Range(0.01, 0.3, log=True)
_EPS = Range(1e-4, 1e-2, log=True)  # large enough that eps inside or outside the root shows

_DEFAULT_NAN_HINT = (
    "NaN or inf comes from a square root of a negative number (did you square g?) or a division "
    "by zero (is eps in the denominator?)."
)

# The fix for eps inside the square root, where the rule adds it outside (AdaGrad, RMSProp).
_EPS_OUTSIDE = (
    "this course follows torch and adds eps outside the root, np.sqrt(s) + eps "
    "(Dive into Deep Learning puts it inside; both work, but they give different numbers)."
)

# A paragraph of every skeleton's docstring.
_NOT_IN_PLACE = """\
    Do not change p, g or state in place (no p -= ..., no state[...] = ...): compute
    new arrays."""


# --------------------------------------------------------------------------------------
# Running a rule on a trial
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trial:
    """One trial's inputs: the start, one gradient per step, the hyperparameters."""

    number: int
    p0: np.ndarray
    gradients: tuple[np.ndarray, ...]
    hyperparameters: dict[str, float]

    def describe(self) -> str:
        values = ", ".join(f"{name}={value:g}" for name, value in self.hyperparameters.items())
        return f"p of shape {self.p0.shape}; {values}"


@dataclass(frozen=True)
class _Step:
    """A rule's output after one step: ``p`` and the compared state variables, as float arrays."""

    values: dict[str, np.ndarray]


def _make_trial(exercise: Exercise, number: int, steps: int, rng: np.random.Generator) -> _Trial:
    shape = exercise.shapes[(number - 1) % len(exercise.shapes)]
    p0 = rng.normal(size=shape)
    size_per_entry = 10 ** rng.uniform(-1.5, 0.5, size=shape)  # gradients from about 0.03 to 3
    gradients = tuple(size_per_entry * rng.normal(size=shape) for _ in range(steps))
    hyperparameters = {name: exercise.ranges[name].sample(rng) for name in exercise.hyperparameters}
    return _Trial(number, p0, gradients, hyperparameters)


def _copy_state(state: State) -> State:
    return {key: np.copy(value) if isinstance(value, np.ndarray) else value for key, value in state.items()}


def _run_rule(rule: UpdateRule, exercise: Exercise, trial: _Trial) -> list[_Step]:
    """The steps of a trusted rule (the reference or a catalogue mistake); a mistake that
    raises simply stops early."""
    p = trial.p0.copy()
    state = exercise.init(p)
    steps = []
    with np.errstate(all="ignore"):
        for g in trial.gradients:
            try:
                p, state = rule(p, g.copy(), _copy_state(state), **trial.hyperparameters)
            except (ArithmeticError, ValueError):
                break
            values = {key: np.asarray(state[key], dtype=float) for key in exercise.state_keys}
            values["p"] = np.asarray(p, dtype=float)
            steps.append(_Step(values))
    return steps


@dataclass(frozen=True)
class _Problem:
    """Something other than a wrong number: an exception, a wrong structure, a mutation."""

    step: int
    text: str
    hint: str = ""


@dataclass(frozen=True)
class _LearnerRun:
    steps: list[_Step]
    problem: _Problem | None


def _accepts_keyword(update: Callable[..., Any], name: str) -> bool:
    try:
        parameters = inspect.signature(update).parameters
    except (TypeError, ValueError):
        return False
    parameter = parameters.get(name)
    return parameter is not None and parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)


def _learner_arguments(update: Callable[..., Any], exercise: Exercise, trial: _Trial) -> dict[str, float]:
    arguments = dict(trial.hyperparameters)
    for name, value in exercise.fixed.items():
        if _accepts_keyword(update, name):
            arguments[name] = value
    return arguments


def _run_learner(update: Callable[..., Any], exercise: Exercise, trial: _Trial) -> _LearnerRun:
    """The learner's steps from the reference's initial state, feeding back its own returned
    ``p`` and state; stops at the first exception, wrong structure or changed input."""
    arguments = _learner_arguments(update, exercise, trial)
    p: Any = trial.p0.copy()
    state: Any = exercise.init(trial.p0.copy())
    steps: list[_Step] = []
    for step, gradient in enumerate(trial.gradients, start=1):
        g = gradient.copy()
        before = _Snapshot.take(p, g, state)
        try:
            with np.errstate(all="ignore"):
                returned = update(p, g, state, **arguments)
        except Exception as error:  # the learner's code: any error is reported, not raised
            return _LearnerRun(steps, _describe_exception(error, update, exercise, step, arguments))
        changed = before.changes(p, g, state)
        if changed:
            return _LearnerRun(steps, _Problem(step, changed, _not_in_place_hint(exercise)))
        parsed = _parse_returned(returned, exercise, trial.p0.shape, step)
        if isinstance(parsed, _Problem):
            return _LearnerRun(steps, parsed)
        step_values, p, state = parsed
        steps.append(step_values)
    return _LearnerRun(steps, None)


# --------------------------------------------------------------------------------------
# What the learner's function did wrong, in words
# --------------------------------------------------------------------------------------


def _not_in_place_hint(exercise: Exercise) -> str:
    """How to write the rule without changing its inputs, in the exercise's own names."""
    if not exercise.state_keys:
        return (
            "optim_lib's rules never change their inputs: compute a new array, new_p = p - lr * g "
            "(not p -= lr * g), and return the state as it came."
        )
    key = exercise.state_keys[-1]
    return (
        f"optim_lib's rules never change their inputs: compute new arrays (new_p = p - ..., not p -= ...; "
        f"{key} = ... * {key} + ..., not {key} *= ...) and return a new dict, {exercise.state_example}, "
        f'instead of assigning state["{key}"] = {key}.'
    )


@dataclass(frozen=True)
class _Snapshot:
    """Copies of the inputs before the call, and the state's objects, to see what changed."""

    p: np.ndarray
    g: np.ndarray
    state_objects: dict[str, Any]
    state_values: dict[str, Any]

    @staticmethod
    def take(p: Any, g: np.ndarray, state: State) -> _Snapshot:
        return _Snapshot(np.array(p, copy=True), g.copy(), dict(state), _copy_state(state))

    def changes(self, p: Any, g: np.ndarray, state: State) -> str | None:
        """Which input the call changed, in a sentence, or ``None``."""
        for name, now, before in (("p", np.asarray(p), self.p), ("g", np.asarray(g), self.g)):
            if now.shape != before.shape:
                return (
                    f"Your function changed the input {name} in place: "
                    f"its shape went from {before.shape} to {now.shape}."
                )
            entry = _first_changed_entry(now, before)
            if entry is not None:
                index, old, new = entry
                return (
                    f"Your function changed the input {name} in place: "
                    f"{name}{_format_index(index)} was {old:.10g}, is now {new:.10g}."
                )
        added = [key for key in state if key not in self.state_objects]
        removed = [key for key in self.state_objects if key not in state]
        assigned = [key for key in self.state_objects if key in state and state[key] is not self.state_objects[key]]
        if added or removed or assigned:
            actions = [f"{verb} " + ", ".join(f'state["{key}"]' for key in keys)
                       for verb, keys in (("assigned", assigned), ("added", added), ("deleted", removed)) if keys]
            return "Your function changed the input state in place: it " + " and ".join(actions) + "."
        for key, before in self.state_values.items():
            if isinstance(before, np.ndarray) and _first_changed_entry(np.asarray(state[key]), before) is not None:
                return f'Your function changed the input array state["{key}"] in place (with +=, *= or similar).'
        return None


def _first_changed_entry(now: np.ndarray, before: np.ndarray) -> tuple[tuple[int, ...], float, float] | None:
    """The first entry that differs (NaN equal to NaN), with its old and new value; a change of
    shape counts as a change of the first entry."""
    if now.shape != before.shape:
        return (), math.nan, math.nan
    changed = ~((now == before) | (np.isnan(now) & np.isnan(before)))
    if not changed.any():
        return None
    index = tuple(int(i) for i in np.argwhere(changed)[0])
    return index, float(before[index]), float(now[index])


def _describe_exception(
    error: Exception, update: Callable[..., Any], exercise: Exercise, step: int, arguments: dict[str, float]
) -> _Problem:
    frames = traceback.extract_tb(error.__traceback__)[1:]  # drop the checker's own call
    text = f"Your function raised {type(error).__name__}: {error}"
    if not frames and isinstance(error, TypeError):
        call = ", ".join(f"{name}=..." for name in arguments)
        signature = ", ".join(exercise.hyperparameters)
        return _Problem(
            step,
            f"{text}\nThe checker calls your function as f(p, g, state, {call}).",
            f"define it with exactly these arguments: def my_{exercise.name}_update(p, g, state, *, {signature}):",
        )
    own_code = getattr(getattr(update, "__code__", None), "co_filename", None)
    in_own_code = [frame for frame in frames if frame.filename == own_code] or frames
    if in_own_code:
        frame = in_own_code[-1]
        text += f"\n  at line {frame.lineno}" + (f": {frame.line.strip()}" if frame.line else "")
    if isinstance(error, (ZeroDivisionError, FloatingPointError)):
        hint = exercise.nan_hint
    elif isinstance(error, NameError):
        hint = (
            "a name is used before it is given a value (or is misspelt): "
            "compute each variable before the line that uses it."
        )
    elif isinstance(error, KeyError):
        keys = ", ".join(f'"{key}"' for key in exercise.init(np.zeros(exercise.shapes[0])))
        hint = f"the state you are given has the keys {keys}."
    else:
        hint = ""
    return _Problem(step, text, hint)


def _describe_type(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"an object of type {type(value).__name__}"


def _as_floats(value: Any) -> np.ndarray | None:
    """A float copy of ``value`` (a copy, so that later steps cannot change it), or ``None``."""
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None


def _parse_returned(
    returned: Any, exercise: Exercise, shape: tuple[int, ...], step: int
) -> tuple[_Step, Any, State] | _Problem:
    """The learner's ``(new_p, new_state)`` checked for structure and shapes, as a step's
    values plus what to feed back; or the problem, in words."""
    example = f"return new_p, {exercise.state_example}"
    if returned is None:
        return _Problem(step, "Your function returned None.", f"end it with {example}.")
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        hint = f"return a pair, the new p and the new state: {example}."
        if isinstance(returned, np.ndarray):
            hint = f"did you forget to return the state? {example}."
        return _Problem(
            step, f"Your function should return a pair (new_p, new_state), but returned {_describe_type(returned)}.",
            hint,
        )
    new_p, new_state = returned
    if not isinstance(new_state, dict):
        return _Problem(
            step,
            f"The second item you returned should be the new state, a dict, but it is {_describe_type(new_state)}.",
            f"{example}.",
        )
    missing = [key for key in exercise.state_keys if key not in new_state]
    if missing:
        names = ", ".join(f'"{key}"' for key in missing)
        has = ", ".join(f'"{key}"' for key in new_state) or "none"
        return _Problem(
            step, f"The state you returned has no {names} (its keys: {has}).",
            f"return every state variable: {example}.",
        )
    values: dict[str, np.ndarray] = {}
    for key in (*exercise.state_keys, "p"):
        value = new_p if key == "p" else new_state[key]
        name = "the new p" if key == "p" else f'state["{key}"]'
        array = _as_floats(value)
        if array is None:
            return _Problem(
                step, f"{name} you returned is not a number or an array of numbers: it is {_describe_type(value)}."
            )
        expected_shape = exercise.expected_shape(key, shape)
        if array.shape != expected_shape:
            if expected_shape == ():
                what = "a single number"
            elif expected_shape == shape:
                what = f"shape {expected_shape}, the shape of p"
            else:
                what = f"shape {expected_shape} (p has shape {shape})"
            hint = (
                "every operation here is entry by entry: look for a sum, a mean, an indexing or a "
                "broadcast that changes the shape."
                if exercise.state_shapes is None else
                "look at the axis of each mean or sum, and keep its axis (keepdims=True), so that "
                "the shapes broadcast as the rule needs."
            )
            return _Problem(step, f"{name} you returned has shape {array.shape}, but it should have {what}.", hint)
        values[key] = array
    # Feed back a copy of p, so that the stored step stays as it was even if the next call
    # changes its input p (which is then reported).
    return _Step(values), values["p"].copy(), new_state


@dataclass(frozen=True)
class _Difference:
    """The first entry of one variable that differs from the reference."""

    variable: str
    index: tuple[int, ...]
    expected: float
    got: float
    count: int
    size: int

    def describe(self) -> str:
        where = f"{self.variable}{_format_index(self.index)}"
        text = f"{where}: expected {self.expected:.10g}, got {self.got:.10g}"
        if self.size > 1:
            text += f"  ({self.count} of {self.size} entries of {self.variable} differ)"
        return text


def _format_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]" if index else ""


def _difference(variable: str, expected: np.ndarray, got: np.ndarray) -> _Difference | None:
    close = np.isclose(got, expected, rtol=RTOL, atol=ATOL)
    if close.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    return _Difference(variable, index, float(expected[index]), float(got[index]), int((~close).sum()), close.size)


def _steps_match(expected: list[_Step], got: list[_Step]) -> bool:
    """Whether every step the learner took matches ``expected`` (NaN matching NaN)."""
    if len(expected) < len(got):
        return False
    return all(
        np.allclose(got_step.values[key], expected_step.values[key], rtol=RTOL, atol=ATOL, equal_nan=True)
        for expected_step, got_step in zip(expected, got)
        for key in got_step.values
    )


def _matching_mistake(exercise: Exercise, trial: _Trial, learner_steps: list[_Step]) -> Mistake | None:
    for mistake in exercise.mistakes:
        if _steps_match(_run_rule(mistake.update, exercise, trial), learner_steps):
            return mistake
    return None


def _mismatch_result(
    exercise: Exercise, trial: _Trial, trials: int, step: int, differences: list[_Difference],
    learner_steps: list[_Step],
) -> CheckResult:
    first = differences[0]
    lines = [
        f"✗ {exercise.title}: not yet.",
        "",
        f"Trial {trial.number} of {trials}, step {step} of {len(trial.gradients)} ({trial.describe()}):",
        f"  {first.describe()}",
    ]
    others = [difference.variable for difference in differences[1:]]
    right = [key for key in exercise.compared if key not in {d.variable for d in differences}]
    if others:
        lines.append(f"  Also different at this step: {', '.join(others)}.")
    if right:
        lines.append(f"  Right at this step: {', '.join(right)}.")
    lines.append("")
    mistake = _matching_mistake(exercise, trial, learner_steps)
    if mistake is not None:
        lines.append(f"Hint: {mistake.hint}")
    else:
        if not all(np.isfinite(array).all() for array in learner_steps[step - 1].values.values()):
            lines.append(f"Hint: {exercise.nan_hint}")
        lines.append(f"Hint for {first.variable}: {exercise.variable_hints[first.variable]}")
    return CheckResult(False, "\n".join(lines), exercise.name, mistake.key if mistake else None)


def _problem_result(exercise: Exercise, trial: _Trial, trials: int, problem: _Problem) -> CheckResult:
    lines = [
        f"✗ {exercise.title}: not yet.",
        "",
        f"Trial {trial.number} of {trials}, step {problem.step} of {len(trial.gradients)} ({trial.describe()}):",
        *(f"  {line}" for line in problem.text.splitlines()),
    ]
    if problem.hint:
        lines += ["", f"Hint: {problem.hint}"]
    return CheckResult(False, "\n".join(lines), exercise.name)


# --------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------


def check_exercise(
    update: Callable[..., Any], exercise: Exercise, *, trials: int = 5, steps: int | None = None, seed: int = 0
) -> CheckResult:
    """Check ``update(p, g, state, **hyperparameters) -> (new_p, new_state)`` against
    ``exercise``'s reference: the work of :func:`optim_lib.exercises.check_update`, which
    finds the exercise by its name (and is what a notebook calls).

    Runs ``trials`` random trials (seeded, so every run checks the same cases) of ``steps``
    steps each (default: the exercise's ``steps``) and compares ``p`` and the exercise's
    state variables after every step. Never raises for a wrong answer: a wrong number, an
    exception, a wrong return structure, a wrong shape, NaN or an input changed in place all
    come back as a failed :class:`CheckResult` whose message says what happened, where, and
    what to try.
    """
    if steps is None:
        steps = exercise.steps
    check_whole("trials", trials, 1)
    check_whole("steps", steps, 1)
    if not callable(update):
        return CheckResult(
            False,
            f"✗ {exercise.title}: not yet.\n\ncheck_update needs your function itself, e.g. "
            f"check_update(my_{exercise.name}_update, {exercise.name!r}); got {_describe_type(update)}.",
            exercise.name,
        )
    rng = np.random.default_rng(seed)
    for number in range(1, trials + 1):
        trial = _make_trial(exercise, number, steps, rng)
        expected = _run_rule(exercise.reference, exercise, trial)
        learner = _run_learner(update, exercise, trial)
        for step, (expected_step, got_step) in enumerate(zip(expected, learner.steps), start=1):
            differences = [
                difference for key in exercise.compared
                if (difference := _difference(key, expected_step.values[key], got_step.values[key])) is not None
            ]
            if differences:
                return _mismatch_result(exercise, trial, trials, step, differences, learner.steps)
        if learner.problem is not None:
            return _problem_result(exercise, trial, trials, learner.problem)
    shapes = ", ".join(str(exercise.shapes[(number - 1) % len(exercise.shapes)]) for number in range(1, trials + 1))
    compared = ", ".join(exercise.compared)
    message = (
        f"✓ {exercise.title}: correct. Your update matches optim_lib's on {trials} random trials of "
        f"{steps} steps each (shapes {shapes}; compared {compared} after every step, "
        f"rtol {RTOL:g}, atol {ATOL:g})."
    )
    return CheckResult(True, message, exercise.name)
