r"""A rule that is not elementwise (Muon's) run on torch tensors whose sums wait to be read.

Muon's Newton–Schulz step is written as the paper writes it, :math:`X \leftarrow aX + (bA
+ cA^2)X` with :math:`A = XX^\top`. Run on NumPy arrays or on torch tensors, every
operation makes a new array: :math:`cA^2`, :math:`bA`, their sum, :math:`aX`, the product
and the last sum are six operations and six fresh arrays, where torch's Muon makes two calls
to ``torch.addmm`` (:math:`\beta C + \alpha AB` in one pass, the matrix product's own).

:class:`Deferred` is the same rule run on another type: a linear combination
:math:`\sum_i c_i T_i` of tensors and of matrix products :math:`T_i = A_i B_i`, whose
arithmetic by numbers, sums and differences only rewrite the list of terms. It is computed
when something reads it (a matrix product, a norm, a transpose, or the end of the step),
with ``addmm`` for a product and a tensor term together and ``add(alpha=)`` for the other
terms, so the rule is still the only place the algorithm is written. At the end of the
step, a new value that is a sum with the array it replaces as a term (the momentum
:math:`\mu B + (1-\mu) G`, the weights :math:`(1-\eta\lambda) W - \eta' O`) is computed
in place in that array (:func:`write`).

On Newton–Schulz for a 512 x 4608 matrix this took 92 ms, torch's own iteration in float32
90-96 ms and the rule on plain tensors 101-113 ms (this project's 2-core machine). The
numbers are the rule's up to rounding: a sum is rounded in another order, a division by a
number is a product by its reciprocal, and the matrix products are torch's, not NumPy's
(tests/test_deferred.py compares Muon on large matrices with the rule on NumPy arrays).
What the type does not have (a mean, a square root, a comparison) raises
``AttributeError`` or ``TypeError``, and the step loop runs the rule on NumPy instead.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["Deferred", "evaluate", "write"]


class _Product:
    """The matrix product ``a @ b``. Where it is read alone first, it is computed and kept,
    and the sums that read it afterwards take it as a tensor; where a sum reads it first, the
    sum's ``addmm`` computes it (so two sums that both read it before it is read alone
    compute it twice: Muon's rule has none)."""

    __slots__ = ("a", "b", "value")

    def __init__(self, a: torch.Tensor, b: torch.Tensor) -> None:
        self.a, self.b = a, b
        self.value: torch.Tensor | None = None


Term = tuple[float, Any]  # (coefficient, a tensor or a _Product)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class _Library:
    """What :mod:`optim_lib.rules._arrays` asks of an array's library, for :class:`Deferred`."""

    class linalg:  # noqa: N801 - the name the helpers look up
        @staticmethod
        def norm(x: Deferred) -> float:
            return float(torch.linalg.vector_norm(x.value()))


class Deferred:
    """:math:`\\sum_i c_i T_i`, each :math:`T_i` a tensor or a product of two matrices,
    computed (once) when it is read: :meth:`value`."""

    __slots__ = ("terms", "_value")
    array_library = _Library

    def __init__(self, terms: list[Term]) -> None:
        self.terms = terms
        self._value: torch.Tensor | None = None

    @classmethod
    def of(cls, tensor: torch.Tensor) -> Deferred:
        d = cls([(1.0, tensor)])
        d._value = tensor
        return d

    # what the rule reads without computing
    @property
    def shape(self) -> torch.Size:
        t = self.terms[0][1]
        return torch.Size((t.a.shape[0], t.b.shape[1])) if type(t) is _Product else t.shape

    @property
    def dtype(self) -> torch.dtype:
        t = self.terms[0][1]
        return t.a.dtype if type(t) is _Product else t.dtype

    @property
    def T(self) -> Deferred:  # noqa: N802 - NumPy's and torch's name
        return Deferred.of(self.value().T)

    # arithmetic that only rewrites the terms
    def __mul__(self, other: Any) -> Deferred:
        if _is_number(other):
            return Deferred([(float(other) * c, t) for c, t in self.terms])
        return Deferred.of(self.value() * _tensor(other))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Deferred:
        if _is_number(other) and other != 0:
            reciprocal = 1.0 / float(other)
            info = torch.finfo(self.dtype)
            if info.tiny <= abs(reciprocal) <= info.max:  # (else divided, as the rule does: 0, inf, NaN)
                return self * reciprocal
        return Deferred.of(self.value() / _tensor(other))

    def __neg__(self) -> Deferred:
        return self * -1.0

    def __add__(self, other: Any) -> Deferred:
        if isinstance(other, Deferred):
            return Deferred(self.terms + other.terms)
        return Deferred.of(self.value() + other)

    def __radd__(self, other: Any) -> Deferred:
        return Deferred.of(other + self.value())

    def __sub__(self, other: Any) -> Deferred:
        if isinstance(other, Deferred):
            return Deferred(self.terms + [(-c, t) for c, t in other.terms])
        return Deferred.of(self.value() - other)

    def __rsub__(self, other: Any) -> Deferred:
        return Deferred.of(other - self.value())

    def __matmul__(self, other: Deferred) -> Deferred:
        a, b = self.value(), _tensor(other)
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:  # before anything is written
            raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not match")
        return Deferred([(1.0, _Product(a, b))])

    def __bool__(self) -> bool:
        raise TypeError("a Deferred array has no truth value")

    def _compare(self, other: Any) -> Any:
        raise TypeError("Deferred arrays are not compared (the step runs on NumPy instead)")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _compare
    __hash__ = None  # type: ignore[assignment]

    def value(self) -> torch.Tensor:
        """The combination computed (kept: it is computed once)."""
        if self._value is None:
            self._value = _combine(self.terms)
            self.terms = [(1.0, self._value)]
        return self._value


def _tensor(x: Any) -> torch.Tensor:
    return x.value() if isinstance(x, Deferred) else x


def _merged(terms: list[Term]) -> list[Term]:
    """The terms with the coefficients of one tensor added up (:math:`0.05g + 0.9025B +
    0.0475g` is two passes, not three)."""
    merged: dict[int, list[Any]] = {}
    for c, t in terms:
        key = id(t)
        if key in merged:
            merged[key][0] += c
        else:
            merged[key] = [c, t]
    return [(c, t) for c, t in merged.values()]


def _combine(terms: list[Term], into: torch.Tensor | None = None) -> torch.Tensor:
    """:math:`\\sum_i c_i T_i` in a new tensor (or a term itself, where it is the only one,
    times 1), or in ``into``, one of the terms, in place: ``addmm`` for a product not yet
    computed with a tensor term, ``add(alpha=)`` or ``addmm_`` for each further term."""
    terms = _merged(terms)
    products = [(c, t) for c, t in terms if type(t) is _Product and t.value is None]
    tensors = [(c, t.value if type(t) is _Product else t) for c, t in terms
               if not (type(t) is _Product and t.value is None)]
    if into is not None:
        index = next(i for i, (_, t) in enumerate(tensors) if t is into)
        tensors.insert(0, tensors.pop(index))
    # (addmm ignores its input where beta is 0, NaN and infinities too, where the rule's
    # 0 * x keeps them NaN: such a term is multiplied, or added with alpha 0)
    if products and tensors and tensors[0][0] != 0.0:
        (c0, t0), (c1, product) = tensors.pop(0), products.pop(0)
        if into is not None:
            out = into.addmm_(product.a, product.b, beta=c0, alpha=c1)
        else:
            out = torch.addmm(t0, product.a, product.b, beta=c0, alpha=c1)
    elif products and into is not None:
        c0, _ = tensors.pop(0)
        out = into.mul_(c0)
    elif products:
        c1, product = products.pop(0)
        out = torch.mm(product.a, product.b)
        if c1 == 1.0 and len(terms) == 1:
            product.value = out  # read alone: kept for the sums that read it later
        elif c1 != 1.0:
            out = out.mul_(c1)
    else:
        c0, t0 = tensors.pop(0)
        if into is not None:
            out = into.mul_(c0) if c0 != 1.0 else into
        else:
            out = torch.mul(t0, c0) if tensors or c0 != 1.0 else t0  # (a fresh tensor where more is added)
    for c, product in products:
        out.addmm_(product.a, product.b, alpha=c)
    for c, t in tensors:
        out.add_(t, alpha=c)
    return out


def _memory(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


def _reads(x: Deferred, target: torch.Tensor, *, but_itself: bool = False) -> bool:
    """Whether computing ``x`` reads ``target``'s memory (``but_itself``: other than as the
    term ``target`` itself)."""
    memory = _memory(target)
    for _, t in x.terms:
        if but_itself and t is target:
            continue
        operands = (t,) if type(t) is not _Product else (t.value,) if t.value is not None else (t.a, t.b)
        if any(_memory(o) == memory for o in operands):
            return True
    return False


def write(values: list[tuple[Any, torch.Tensor]]) -> None:
    """Each ``(value, target)``: the value (a :class:`Deferred`, a tensor) written into the
    tensor ``target``, all of them computed from the targets' old contents. A value that
    is a sum with its own target as a term (:math:`\\beta B + (1-\\beta) g` into
    :math:`B`), given for that target only, is computed in place, no copy, where nothing
    else it or another value reads is that target's memory; the others are computed first,
    then copied (a copy of a target's old memory is made before any target is written)."""
    pending = [(i, x, target) for i, (x, target) in enumerate(values) if isinstance(x, Deferred) and x._value is None]
    once = [sum(x is y for y, _ in values) == 1 for x, _ in values]
    in_place = [(i, x, target) for i, x, target in pending
                if once[i] and any(t is target for _, t in x.terms) and not _reads(x, target, but_itself=True)
                and not any(_reads(y, target) for j, y, _ in pending if j != i)]
    chosen = {i for i, _, _ in in_place}
    fresh = [(evaluate(x), target) for i, (x, target) in enumerate(values) if i not in chosen]
    targets = {_memory(target) for _, target in values}
    fresh = [(v.clone() if isinstance(v, torch.Tensor) and v is not target and _memory(v) in targets else v, target)
             for v, target in fresh]
    for _, x, target in in_place:
        x._value = _combine(x.terms, into=target)
        x.terms = [(1.0, x._value)]
    for value, target in fresh:
        if isinstance(value, torch.Tensor):
            if value is not target:
                target.copy_(value)
        else:
            target.fill_(value)


def evaluate(x: Any) -> Any:
    """A tensor for a :class:`Deferred`, anything else as it is."""
    return x.value() if isinstance(x, Deferred) else x
