"""An elementwise rule recorded once per step and replayed on every slice, without temporaries.

Run on NumPy arrays, a rule allocates a new array for every intermediate (``beta1 * m``,
``(1 - beta1) * g``, their sum, ...) and the step loop then copies its results into the
parameter and its state. On a large parameter stepped in cache-sized slices (see
:data:`~optim_lib.optimizers.base.SLICE`), those allocations and copies were most of the
step: Adam's readable rule is about a dozen NumPy operations a slice, and each new array
of half a megabyte comes from ``malloc``, often fresh pages from the kernel.

Here the rule itself runs once per step on stand-ins (:class:`Symbol`), which record each
operation the rule asks for (``np.multiply(0.9, m)``, ``np.sqrt(v)``, ...) instead of doing
it: the rule's control flow (Nesterov or not, the first step's special case, RAdam's
rectification) and its scalar arithmetic (bias corrections like ``1 - beta1**t``) run as
they always do, in Python, and only the elementwise operations on arrays are recorded.
:func:`record` then plans where each result goes: the rule's new values straight into the
parameter and state arrays they replace, once nothing later reads the old value, and the
other intermediates into a few scratch buffers, reused as soon as their value is dead.
:meth:`Recording.replay` runs the recorded operations on a slice with ``out=``.

The numbers are the same, bit for bit, as the rule's own evaluation on the slice: the same
NumPy functions on the same operands in the same order (a result written into an existing
array instead of a new one is rounded the same way), except that a multiplication or
division by the Python number 1 is skipped, which returns its operand exactly (in the default
floating-point mode: with ``torch.set_flush_denormal(True)`` a product by 1 would flush a
subnormal number to 0, which the skip leaves as it is, until the next operation flushes it).
Anything a recording cannot stand in for (a comparison of arrays, a state entry of another
dtype, an operand that is not a Python number or a recorded array) raises
:class:`NotRecordable`; what a stand-in lacks altogether (a reduction, a shape) raises
``AttributeError`` or ``TypeError``; in both cases the step loop evaluates the rule as before.
A step that fails in the middle (NumPy set to raise on an invalid value) may leave the state
arrays it had already written, where the direct evaluation fails before writing anything.

The step loop replays not this recording but :attr:`Recording.fast`: the same operations
rewritten into torch's fused ones (:mod:`.fusion`), fewer passes over each slice, the
rule's numbers up to rounding; this one, bit for bit, is replayed where that rewrite is not
made (other dtypes than float32 and float64, an operation torch lacks).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from ..rules.base import Rule, State
from .fusion import fuse

__all__ = ["NotRecordable", "Recording", "Symbol", "record"]


class NotRecordable(Exception):
    """The rule did something a recording cannot stand in for; evaluate it directly."""


_NUMBER = (float, int, bool)


class Symbol:
    """A stand-in for an array while a rule is recorded: arithmetic on it records an operation
    of the :class:`_Tape` and returns the symbol of its result."""

    __slots__ = ("tape", "index")
    # optim_lib.rules._arrays asks an array's type for the library of its functions (sqrt,
    # maximum, ...): this module's, which record too.
    array_library: Any = None  # set below, once the module's functions exist
    # NumPy defers to this type's operators (so that ``np.float64(0.1) * g`` reaches
    # ``__rmul__`` and is refused rather than turned into an array of objects).
    __array_ufunc__ = None

    def __init__(self, tape: _Tape, index: int) -> None:
        self.tape = tape
        self.index = index

    @property
    def dtype(self) -> np.dtype:
        return self.tape.dtype

    def __add__(self, other: Any) -> Symbol:
        return self.tape.op(np.add, self, other)

    def __radd__(self, other: Any) -> Symbol:
        return self.tape.op(np.add, other, self)

    def __sub__(self, other: Any) -> Symbol:
        return self.tape.op(np.subtract, self, other)

    def __rsub__(self, other: Any) -> Symbol:
        return self.tape.op(np.subtract, other, self)

    def __mul__(self, other: Any) -> Symbol:
        return self.tape.op(np.multiply, self, other)

    def __rmul__(self, other: Any) -> Symbol:
        return self.tape.op(np.multiply, other, self)

    def __truediv__(self, other: Any) -> Symbol:
        return self.tape.op(np.true_divide, self, other)

    def __rtruediv__(self, other: Any) -> Symbol:
        return self.tape.op(np.true_divide, other, self)

    def __pow__(self, other: Any) -> Symbol:
        return self.tape.op(np.power, self, other)

    def __rpow__(self, other: Any) -> Symbol:
        return self.tape.op(np.power, other, self)

    def __neg__(self) -> Symbol:
        return self.tape.op(np.negative, self)

    def __abs__(self) -> Symbol:
        return self.tape.op(np.absolute, self)

    def clip(self, min: float) -> Symbol:  # noqa: A002 - NumPy's name
        return self.tape.op(_clip_min, self, min)

    def __bool__(self) -> bool:
        raise NotRecordable("the rule branches on an array's values")

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise NotRecordable("the rule compares arrays")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse  # type: ignore[assignment]
    __hash__ = object.__hash__


def _clip_min(x: Any, low: Any, out: Any = None) -> Any:
    """``x.clip(min=low)`` into ``out``: NumPy's own clip, so NaN stays NaN as in the rule."""
    return np.clip(x, low, None, out=out)


class _Library:
    """The functions of :mod:`optim_lib.rules._arrays` that an elementwise rule calls on its
    arrays, recording instead of computing (``_arrays`` dispatches to them by the type)."""

    @staticmethod
    def sqrt(x: Symbol) -> Symbol:
        return x.tape.op(np.sqrt, x)

    @staticmethod
    def maximum(a: Any, b: Any) -> Symbol:
        return (a if isinstance(a, Symbol) else b).tape.op(np.maximum, a, b)

    @staticmethod
    def sign(x: Symbol) -> Symbol:  # NumPy's sign: NaN stays NaN, as the rules ask
        return x.tape.op(np.sign, x)

    @staticmethod
    def copy(x: Symbol) -> Symbol:
        return x  # recorded values are never changed in place: a copy is the same value

    @staticmethod
    def finfo(dtype: Any) -> Any:
        return np.finfo(dtype)

    @staticmethod
    def zeros_like(x: Symbol) -> Symbol:
        raise NotRecordable("the rule makes a new array during its update")

    full_like = zeros_like


Symbol.array_library = _Library


class _Tape:
    """The operations recorded so far: ``(function, operands)``, each operand a symbol's index
    (an int) or a constant (wrapped in a 1-tuple, so that it is never taken for an index)."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.ops: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.inputs: list[str] = []
        self.size = 0  # symbols made: inputs first, then one per operation

    def input(self, name: str) -> Symbol:
        self.inputs.append(name)
        self.size += 1
        return Symbol(self, self.size - 1)

    def op(self, function: Callable[..., Any], *operands: Any) -> Symbol:
        encoded = []
        for operand in operands:
            if isinstance(operand, Symbol):
                if operand.tape is not self:
                    raise NotRecordable("an array of another recording")
                encoded.append(operand.index)
            elif type(operand) in _NUMBER:
                encoded.append((operand,))
            else:  # a NumPy scalar or array would change the result's dtype or shape
                raise NotRecordable(f"an operand of type {type(operand).__name__}")
        # x * 1 and x / 1 return x exactly (its NaNs and signed zeros too): skip them
        if function in (np.multiply, np.true_divide) and len(encoded) == 2:
            a, b = encoded
            if isinstance(b, tuple) and b[0] == 1 and type(b[0]) is not bool and isinstance(a, int):
                return Symbol(self, a)
            if function is np.multiply and isinstance(a, tuple) and a[0] == 1 and type(a[0]) is not bool \
                    and isinstance(b, int):
                return Symbol(self, b)
        self.ops.append((function, tuple(encoded)))
        self.size += 1
        return Symbol(self, self.size - 1)


class Recording:
    """One step of a rule, recorded (:func:`record`): :meth:`replay` runs it on a slice.

    Attributes:
        plain: the rule's new plain state (the step count ``t``, ...): the same for every
            slice, since it never depends on the arrays.
        fast: the same step rewritten into torch's fused operations (:mod:`.fusion`), a
            recording of its own (``None`` for other dtypes than float32 and float64, for
            a rule with an operation that has no torch equivalent here, such as
            ``power``, and for a number the dtype cannot hold): the step loop replays this
            one, from one thread, with torch's threads.
        on_torch: whether the operations take torch tensors (``fast``'s do).
    """

    fast: Recording | None = None
    on_torch = False

    def __init__(self, program: list[tuple[Callable[..., Any], tuple[Any, ...], int]],
                 copies: list[tuple[int, int]], names: list[str], scratch: int,
                 plain: dict[str, Any], dtype: np.dtype) -> None:
        self.program = program
        self.copies = copies
        self.names = names
        self.scratch = scratch
        self.plain = plain
        self.dtype = dtype

    def lines(self) -> list[str]:
        """The recorded step as one line per operation, ``m <- multiply(0.9, m)``: the memory
        each result goes to (an input's name where it replaces that input, ``s0``, ``s1``, ...
        for scratch) and then the copies at the end, if any."""
        names = [*self.names, *(f"s{i}" for i in range(self.scratch))]

        def operand(o: Any) -> str:
            if type(o) is int:
                return names[o]
            return repr(o[0].item() if isinstance(o[0], torch.Tensor) else o[0])

        text = [f"{names[out]} <- {function.__name__.lstrip('_')}({', '.join(map(operand, operands))})"
                for function, operands, out in self.program]
        return text + [f"{names[target]} <- copy of {names[source]}" for target, source in self.copies]

    def replay(self, p: np.ndarray, g: np.ndarray, arrays: Mapping[str, np.ndarray]) -> None:
        """The recorded step on one slice: ``p``, its gradient ``g`` and its state ``arrays``
        (1-D, all of one length and of the recorded dtype), the new values written into
        ``p`` and ``arrays`` in place. The intermediates go to the calling thread's scratch
        buffers (:func:`_scratch`), kept from step to step. The arrays are NumPy's; a
        recording :attr:`on_torch` runs on torch tensors of the same memory."""
        n = p.shape[0]
        memory = [p, g, *(arrays[name] for name in self.names[2:])]
        memory += [b[:n] for b in _scratch(self.dtype, self.scratch, n)]
        if self.on_torch:
            memory = [torch.from_numpy(m) for m in memory]
        for function, operands, out in self.program:
            function(*[memory[o] if type(o) is int else o[0] for o in operands], out=memory[out])
        for target, source in self.copies:
            if self.on_torch:
                memory[target].copy_(memory[source])
            else:
                np.copyto(memory[target], memory[source])


_THREAD = threading.local()


def _scratch(dtype: np.dtype, count: int, n: int) -> list[np.ndarray]:
    """``count`` scratch arrays of at least ``n`` numbers of ``dtype``, the calling thread's
    own, kept between calls (new arrays would cost fresh pages at every step: the point of
    replaying) and freed with the thread."""
    pool = getattr(_THREAD, "buffers", None)
    if pool is None:
        pool = _THREAD.buffers = {}
    buffers = pool.setdefault(dtype, [])
    if buffers and buffers[0].shape[0] < n:
        buffers.clear()
    while len(buffers) < count:
        buffers.append(np.empty(max(n, buffers[0].shape[0] if buffers else n), dtype))
    return buffers[:count]


def record(rule: Rule, state: State, arrays: Mapping[str, Any], arguments: Mapping[str, Any],
           dtype: np.dtype) -> Recording:
    """Record one step of the elementwise ``rule`` with the plain state in ``state`` (the step
    count ...), the state arrays named by ``arrays`` (all of ``dtype``) and ``arguments``,
    and plan its replay (see the module); raises :class:`NotRecordable` where it cannot."""
    if any(a.dtype != dtype for a in arrays.values()):
        raise NotRecordable("state arrays of another dtype than the parameter")
    tape = _Tape(np.dtype(dtype))
    p, g = tape.input("p"), tape.input("g")
    symbols = {name: tape.input(name) for name in arrays}
    old = {**state, **symbols}
    new_p, new_state = rule.update(p, g, old, **arguments)
    if not isinstance(new_p, Symbol) or new_p.tape is not tape:
        raise NotRecordable("the rule's new parameter is not an array of the recording")
    # Where each input's new value comes from (a symbol's index); unchanged state is left out.
    finals = {0: new_p.index}
    plain = {}
    for key, value in new_state.items():
        if key in symbols:
            if value is old[key]:
                continue
            if not isinstance(value, Symbol) or value.tape is not tape:
                raise NotRecordable(f"the rule's new {key!r} is not an array of the recording")
            finals[symbols[key].index] = value.index
        elif isinstance(value, Symbol):
            raise NotRecordable(f"the rule's new {key!r} is an array, but the state holds no array {key!r}")
        else:
            plain[key] = value
    recording = _plan(tape, finals, plain)
    float_dtype = tape.dtype in (np.dtype(np.float32), np.dtype(np.float64))
    rewritten = fuse(tape.ops, len(tape.inputs), finals, tape.dtype) if float_dtype else None
    if rewritten is not None:
        fused = _Tape(tape.dtype)
        fused.inputs = list(tape.inputs)
        fused.ops, fused_finals = rewritten
        fused.size = len(fused.inputs) + len(fused.ops)
        recording.fast = _plan(fused, fused_finals, plain)
        recording.fast.on_torch = True
    return recording


_NOT_IN_PLACE = {np.sign}
"""Functions whose result never goes over their operand: NumPy 2.4's ``sign`` of float32
took ten times as long in place (548 µs on 128 K numbers of both signs, against 55 µs into
another array; measured on this project's 2-core Intel machine): Lion's slices took 789 µs
with it in place, 206 µs without."""


def _plan(tape: _Tape, finals: dict[int, int], plain: dict[str, Any]) -> Recording:
    """Where every recorded value lives: memory slots are the inputs (p, g, the state arrays:
    slots ``0 .. k-1``) and then the scratch buffers."""
    inputs = len(tape.inputs)
    end = len(tape.ops)
    last_read = {}  # symbol -> index of the last operation that reads it (end: a final value)
    for i, (_, operands) in enumerate(tape.ops):
        for o in operands:
            if type(o) is int:
                last_read[o] = i
    for source in finals.values():
        last_read[source] = end  # a new value (or an old one given back as another's) lives to the end
    # Whose new value a symbol is (the first input it is the final value of).
    destination = {}
    for target, source in finals.items():
        destination.setdefault(source, target)
    slot = {i: i for i in range(inputs)}  # symbol -> memory slot
    free: list[int] = []
    scratch = 0
    written: set[int] = set()  # input slots that already hold their new value
    program = []
    for i, (function, operands) in enumerate(tape.ops):
        symbol = inputs + i
        # Scratch slots whose value is read for the last time here may hold the result
        # (an elementwise ufunc may write over an operand it reads).
        dying = {o for o in operands if type(o) is int and last_read.get(o) == i and slot[o] >= inputs}
        if function not in _NOT_IN_PLACE:
            free.extend(slot[o] for o in dying)
        target = destination.get(symbol)
        if target is not None and target not in written and last_read.get(target, -1) <= i:
            slot[symbol] = target  # straight into the array it replaces: its old value is dead
            written.add(target)
        elif free:
            slot[symbol] = free.pop()
        else:
            slot[symbol] = inputs + scratch
            scratch += 1
        encoded = tuple(slot[o] if type(o) is int else o for o in operands)
        program.append((function, encoded, slot[symbol]))
        if function in _NOT_IN_PLACE:
            free.extend(slot[o] for o in dying)
        if symbol not in last_read and symbol not in destination and slot[symbol] >= inputs:
            free.append(slot[symbol])  # never read: its buffer is free again
    # What is not yet in place is copied at the end, from scratch, from another input's new
    # value, or from an input's old value (the rule gave an input back as another's new value:
    # SGD's first velocity is the gradient). Those last are copied before their own input is
    # written, and two inputs exchanging their old values are refused.
    copies = [(target, slot[source]) for target, source in finals.items() if slot[source] != target]
    sources = {source for _, source in copies}
    copies.sort(key=lambda copy: copy[0] in sources)
    overwritten: set[int] = set()
    for target, source in copies:
        if source in overwritten:
            raise NotRecordable("the rule's new values exchange old ones")
        overwritten.add(target)
    names = list(tape.inputs)
    return Recording(program, copies, names, scratch, plain, tape.dtype)

