r"""A recorded step (:mod:`.replay`) rewritten into torch's fused elementwise operations.

Replayed with NumPy, a recording does one pass over a slice per operation of the rule:
Adam's is fourteen (``0.9 * m``, ``0.1 * g``, their sum, ...). torch.optim's for-loop Adam
does seven, because torch has operations that do two or three things in one pass:
``torch.add(x, y, alpha=c)`` is :math:`x + c\,y`, ``torch.addcmul(x, y, z, value=c)`` is
:math:`x + c\,y z` and ``torch.addcdiv(x, y, z, value=c)`` is :math:`x + c\,y / z`. This
module rewrites the recording into them, so the rule is still the only place the algorithm
is written: the rewrite is mechanical, on the recorded operations.

- A multiplication or division of an array by a number, read by only one operation, is
  folded into the factor of the sum that reads it: ``p - lr * (m / (1 - beta1**t))``
  divided by the denominator becomes ``addcdiv(p, m, denominator, value=-lr / (1 -
  beta1**t))``. A factor is folded only while it stays a normal number of the array's
  dtype (not 0, not below the smallest normal number, not beyond the largest).
- A sum or difference with such a scaled array is ``add(x, y, alpha=±c)``; with a product
  or quotient of two arrays, ``addcmul`` or ``addcdiv``.
- Adam's denominator :math:`\sqrt{v / c} + \epsilon`, read only as the divisor of
  ``addcdiv``, is :math:`(\sqrt{v} + \epsilon\sqrt{c}) / \sqrt{c}`, the division by
  :math:`\sqrt{c}` folded into ``addcdiv``'s factor (:func:`_root_of_quotient`): a square
  root and a sum where the rule has a division too.
- ``sign`` (Lion's) is not torch's ``sign``, which makes NaN 0, where NumPy's, and the
  rule's, keeps it NaN: it is a product by a power of two and a ``clamp`` to plus or minus
  the smallest normal number, whose division back by that number is folded into the sum
  that reads it (:func:`_without_sign`); the same numbers exactly, NaN included (what
  ``sign`` reads is left as the rule computes it: see there).
- Every other operation is torch's own (``add``, ``mul``, ``sqrt``, ``maximum``, ...). A
  recording with an operation that has none here (``power``), or with a number the dtype
  cannot hold, is not rewritten: the step loop replays it with NumPy, on its slice threads.

The numbers are the rule's up to rounding, not bit for bit. A folded factor is one rounding
where the rule had two; ``add`` with ``alpha`` rounds the product and the sum together (a
fused multiply-add, on a CPU that has one, as this project's machines do), and
``addcmul`` the product of its two arrays and the sum; torch's square root, in float32 and
float64, is not always correctly rounded (NumPy's is); torch's ``maximum`` of 0 and -0 may
be either, and its NaN's payload may be neither operand's. Infinities and NaN go where the
rule sends them, except near the ends of the dtype's range: where a number the rule
computes on the way overflows to infinity or underflows to 0, the fused operations, which
group the factors differently and round some products only with the sum, may not, and the
reverse (centered RMSprop in float32 with a gradient of 1e30: the rule's
:math:`s - \bar g^2` is :math:`\infty - \infty`, NaN; ``addcmul`` keeps it infinite, and
the step is 0). The numbers do not depend on the slicing: each comes from its own inputs
through the same operations (bit for bit, but for ``maximum``'s zeros and NaN, which
torch's vector and scalar loops treat differently). tests/test_replay.py checks this
against the rule: float64 to 1e-12 and float32 to 1e-5, infinities and NaN in the same
places (with no number near the end of the range), the same numbers on any slicing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["fuse"]


def add(x: Any, y: Any, *, out: torch.Tensor) -> None:
    torch.add(x, y, out=out)


def subtract(x: Any, y: Any, *, out: torch.Tensor) -> None:
    torch.sub(x, y, out=out)


def multiply(x: Any, y: Any, *, out: torch.Tensor) -> None:
    torch.mul(x, y, out=out)


def divide(x: Any, y: Any, *, out: torch.Tensor) -> None:
    torch.div(x, y, out=out)


def negative(x: torch.Tensor, *, out: torch.Tensor) -> None:
    torch.neg(x, out=out)


def absolute(x: torch.Tensor, *, out: torch.Tensor) -> None:
    torch.abs(x, out=out)


def sqrt(x: torch.Tensor, *, out: torch.Tensor) -> None:
    torch.sqrt(x, out=out)


def axpy(x: torch.Tensor, y: torch.Tensor, c: float, *, out: torch.Tensor) -> None:
    r""":math:`x + c\,y`."""
    torch.add(x, y, alpha=c, out=out)


def addcmul(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, c: float, *, out: torch.Tensor) -> None:
    r""":math:`x + c\,y z`."""
    torch.addcmul(x, y, z, value=c, out=out)


def addcdiv(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, c: float, *, out: torch.Tensor) -> None:
    r""":math:`x + c\,y / z`."""
    torch.addcdiv(x, y, z, value=c, out=out)


def maximum(x: torch.Tensor, y: Any, *, out: torch.Tensor) -> None:
    torch.maximum(x, y, out=out)


def clip(x: torch.Tensor, low: float, high: float, *, out: torch.Tensor) -> None:
    torch.clamp(x, low, high, out=out)


_TORCH = {np.add: add, np.subtract: subtract, np.multiply: multiply, np.true_divide: divide,
          np.negative: negative, np.absolute: absolute, np.sqrt: sqrt, np.maximum: maximum, np.clip: clip}
_COMMUTES = {np.add, np.multiply, np.maximum}


Op = tuple[Any, tuple[Any, ...]]


def fuse(ops: Sequence[Op], inputs: int, finals: Mapping[int, int],
         dtype: np.dtype) -> tuple[list[Op], dict[int, int]] | None:
    """The recorded operations ``ops`` (``(function, operands)``; an operand is a symbol's
    index, symbols ``0 .. inputs-1`` being the inputs, or a constant in a 1-tuple) rewritten
    into torch's operations (see the module), and ``finals`` (input -> the symbol of its new
    value) renumbered for them, for arrays of ``dtype``; ``None`` if an operation has no
    torch equivalent or a number does not fit the dtype. The functions take torch tensors
    and write into ``out``; the numbers are Python floats (torch rounds them to the dtype)."""
    ops, finals, exact = _without_sign(ops, inputs, finals, dtype)
    if any(function not in _TORCH for function, _ in ops):
        return None
    info = np.finfo(dtype)
    largest, tiny = float(info.max), float(info.tiny)  # (compared as Python floats: no casts)

    def fits(x: Any) -> bool:  # a number torch can convert to the dtype (NaN and inf too)
        try:
            x = float(x)
        except OverflowError:  # an int beyond float64
            return False
        return not math.isfinite(x) or abs(x) <= largest

    def normal(c: float) -> bool:  # a factor to fold: neither 0 nor subnormal nor beyond
        return tiny <= abs(c) <= largest

    if not all(fits(o[0]) for _, operands in ops for o in operands if type(o) is tuple):
        return None
    ops = [(function, tuple((float(o[0]),) if type(o) is tuple else o for o in operands)) for function, operands in ops]
    reads: dict[int, int] = {}
    for _, operands in ops:
        for o in operands:
            if type(o) is int:
                reads[o] = reads.get(o, 0) + 1
    kept = set(finals.values())  # new values are read at the end, whatever reads them before

    def single(s: Any) -> Op | None:
        """The operation computing ``s`` if it is an intermediate read only once."""
        if type(s) is not int or s < inputs or s in kept or reads.get(s) != 1:
            return None
        return ops[s - inputs]

    def scaled(s: int) -> tuple[int, float]:
        """``(y, c)`` with ``s = c * y``, through single-use products and quotients by numbers."""
        op = single(s)
        if op is not None and len(op[1]) == 2:
            function, (a, b) = op
            if function is np.multiply and type(a) is tuple and type(b) is int and normal(a[0]):
                y, c = scaled(b)
                if normal(a[0] * c):
                    return y, a[0] * c
            if function in (np.multiply, np.true_divide) and type(a) is int and type(b) is tuple and normal(b[0]):
                y, c = scaled(a)
                if function is np.multiply and normal(c * b[0]):
                    return y, c * b[0]
                if function is np.true_divide and normal(c / b[0]):
                    return y, c / b[0]
        return s, 1.0

    rewritten: list[tuple[Any, tuple[Any, ...], int]] = []
    for i, (function, operands) in enumerate(ops):
        symbol = inputs + i
        if function in (np.add, np.subtract) and all(type(o) is int for o in operands) and symbol not in exact:
            rewritten.append((*_sum(function, *operands, single, scaled, normal), symbol))
            continue
        if len(operands) == 2 and type(operands[0]) is tuple and function in _COMMUTES:
            operands = (operands[1], operands[0])  # the number second
        if len(operands) == 2 and (type(operands[0]) is tuple or function is np.maximum):
            # c - x, c / x, maximum(x, c): the number as a 0-d tensor, rounded to x's dtype
            # as NumPy does (torch's maximum takes no number)
            operands = tuple((torch.tensor(o[0], dtype=torch.float64),) if type(o) is tuple else o for o in operands)
        rewritten.append((_TORCH[function], operands, symbol))
    # Only what the new values need (the absorbed intermediates are gone), renumbered.
    needed = set(finals.values())
    for function, operands, symbol in reversed(rewritten):
        if symbol in needed:
            needed.update(o for o in operands if type(o) is int)
    kept = _root_of_quotient([op for op in rewritten if op[2] in needed], set(finals.values()), normal)
    number = {i: i for i in range(inputs)}
    out: list[Op] = []
    for function, operands, symbol in kept:
        out.append((function, tuple(number[o] if type(o) is int else o for o in operands)))
        number[symbol] = inputs + len(out) - 1
    return out, {target: number[source] for target, source in finals.items()}


def _root_of_quotient(ops: list[tuple[Any, tuple[Any, ...], int]], finals: set[int],
                      normal: Callable[[float], bool]) -> list[tuple[Any, tuple[Any, ...], int]]:
    r"""Adam's denominator :math:`\sqrt{v / c} + \epsilon` (``c`` the bias correction
    :math:`1 - \beta_2^t`), read only as the divisor of ``addcdiv`` operations, rewritten as
    :math:`(\sqrt{v} + \epsilon\sqrt{c}) / \sqrt{c}`, the last division folded into their
    factors: three passes over the slice become two. ``ops`` are ``(function, operands,
    symbol)``; the quotient, the root and the sum must each be read once (the sum by the
    ``addcdiv`` operations only, as their divisor) and be no new value (``finals``), and the
    new numbers normal ones of the dtype."""
    where = {symbol: i for i, (_, _, symbol) in enumerate(ops)}
    readers: dict[int, list[tuple[int, int]]] = {}
    for i, (_, operands, _) in enumerate(ops):
        for position, o in enumerate(operands):
            if type(o) is int:
                readers.setdefault(o, []).append((i, position))

    def only_reader(symbol: int) -> tuple[int, int] | None:
        found = readers.get(symbol, [])
        return found[0] if len(found) == 1 and symbol not in finals else None

    ops = list(ops)
    dropped: set[int] = set()
    for i, (function, operands, root) in enumerate(ops):
        quotient = operands[0] if function is sqrt else None
        if type(quotient) is not int or quotient not in where or only_reader(quotient) is None:
            continue
        divided, dividing, _ = ops[where[quotient]]
        if divided is not divide or type(dividing[0]) is not int or type(dividing[1]) is not tuple:
            continue
        (v, (c,)), reader = dividing, only_reader(root)
        if not c > 0 or reader is None or ops[reader[0]][0] is not add or type(ops[reader[0]][1][1]) is not tuple:
            continue
        _, (_, (eps,)), total = ops[reader[0]]
        divisions = readers.get(total, [])
        if total in finals or not divisions or not all(
                ops[j][0] is addcdiv and position == 2 and total not in ops[j][1][:2] for j, position in divisions):
            continue
        scale = math.sqrt(c)
        factors = [ops[j][1][3][0] * scale for j, _ in divisions]
        if not (normal(eps * scale) and all(normal(k) for k in factors)):
            continue
        ops[i] = (sqrt, (v,), root)
        ops[reader[0]] = (add, (root, (eps * scale,)), total)
        for (j, _), k in zip(divisions, factors):
            ops[j] = (addcdiv, (*ops[j][1][:3], (k,)), ops[j][2])
        dropped.add(where[quotient])
    return [op for i, op in enumerate(ops) if i not in dropped]


def _sum(function: Any, a: int, b: int, single: Callable[[Any], Op | None],
         scaled: Callable[[int], tuple[int, float]], normal: Callable[[float], bool]) -> tuple[Any, tuple[Any, ...]]:
    """``a + b`` or ``a - b`` as torch's fused operation where one term is a (scaled) product
    or quotient of arrays or a scaled array: ``(function, operands)``."""
    sign = 1.0 if function is np.add else -1.0
    candidates = [(a, b)] if function is np.subtract else [(a, b), (b, a)]
    for x, term in candidates:  # a product or quotient of two arrays, times a number
        y, c = scaled(term)
        op = single(y)
        if op is not None and op[0] in (np.multiply, np.true_divide) and all(type(o) is int for o in op[1]):
            u, cu = scaled(op[1][0])
            fused = addcmul if op[0] is np.multiply else addcdiv
            v, cv = scaled(op[1][1]) if op[0] is np.multiply else (op[1][1], 1.0)
            if normal(sign * c * cu * cv):
                return fused, (x, u, v, (sign * c * cu * cv,))
    for x, term in candidates:  # a scaled array
        y, c = scaled(term)
        if y != term:
            return axpy, (x, y, (sign * c,))
    return (add if function is np.add else subtract), (a, b)


def _without_sign(ops: Sequence[Op], inputs: int, finals: Mapping[int, int],
                  dtype: np.dtype) -> tuple[list[Op], dict[int, int], set[int]]:
    r"""``sign(x)`` (NumPy's: NaN for NaN, where torch's ``sign`` gives 0) rewritten into
    three operations that give its numbers exactly: :math:`y = 2^{k} x` with :math:`k` one
    more than the dtype's mantissa bits (so that any number but 0, a subnormal one too, is at
    least the smallest normal number :math:`\tau` in magnitude, or infinite), :math:`z =
    \operatorname{clip}(y, -\tau, \tau)` (:math:`\pm\tau`, 0, or NaN: torch's ``clamp``
    keeps NaN) and :math:`z / \tau`, a product by a power of two (:math:`\pm 1` exactly),
    which the rewrite folds into the sum that reads it, as any other. The operations and
    ``finals`` are renumbered for the longer list; the third value is the set of the symbols
    that ``sign`` reads, directly or through other operations, which are not rewritten
    (computed as the rule computes them): where the rule's operand of ``sign`` is exactly
    0, a sum rounded once instead of twice (Lion's :math:`\beta_1 m + (1-\beta_1) g`) may
    not be, and the step would move by the learning rate where the rule's does not move."""
    if not any(function is np.sign for function, _ in ops):
        return list(ops), dict(finals), set()
    info = np.finfo(dtype)
    up, tiny = 2.0 ** (info.nmant + 1), float(info.tiny)
    new: list[Op] = []
    number = {i: i for i in range(inputs)}
    for i, (function, operands) in enumerate(ops):
        operands = tuple(number[o] if type(o) is int else o for o in operands)
        if function is np.sign:
            new.append((np.multiply, (*operands, (up,))))
            new.append((np.clip, (inputs + len(new) - 1, (-tiny,), (tiny,))))
            new.append((np.multiply, (inputs + len(new) - 1, (1.0 / tiny,))))
        else:
            new.append((function, operands))
        number[inputs + i] = inputs + len(new) - 1
    # what the signs read, back to the inputs
    exact = {number[o] for function, operands in ops if function is np.sign for o in operands if type(o) is int}
    for i in range(len(new) - 1, -1, -1):
        if inputs + i in exact:
            exact.update(o for o in new[i][1] if type(o) is int and o >= inputs)
    return new, {target: number[source] for target, source in finals.items()}, exact
