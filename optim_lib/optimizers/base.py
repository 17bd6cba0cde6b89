"""The one step loop that every optim_lib optimizer shares: a pure rule behind ``torch.optim``.

An optimizer here is a :class:`~optim_lib.rules.base.Rule` (the state a parameter starts
with, one step of the algorithm written next to its equations, the checks, and which
hyperparameters of a ``param_group`` the step takes, under the names of the math). This
class turns a rule into a drop-in ``torch.optim.Optimizer``: param groups, lazily created
per-parameter state, ``state_dict`` / ``load_state_dict``, closures and hooks all come from
torch. It also takes torch 2.13's implementation flags (``foreach``, ``fused``,
``capturable``, ``differentiable``) with torch's defaults, so a training script can swap
classes without editing its arguments.

The rules are elementwise, so the step loop may run a rule on a whole param group at once:
the parameters laid end to end in one array give the same numbers, bit for bit, as each
parameter alone (on the same path: see the large ones below), and for a network of small
layers the step is faster (see :class:`_FlatGroup`); every other case steps one parameter
at a time.

Three paths, one rule (each tested to give the rule's numbers: tests/test_fast_paths.py):

- small parameters and groups (the sliders, the trainers): the rule once on the group, as
  one NumPy array;
- large ones (more than :data:`SLICE` numbers): the same rule on cache-sized slices of the
  same memory, each slice's results written back in place, so that its temporaries never
  leave the cache (on ResNet-18's shapes this brought Adam's step from 2-4 times slower
  than torch.optim's for-loop and foreach steps to about their speed:
  benchmarks/bench_scale.py measures every optimizer). The rule is recorded once per
  step (:mod:`.replay`), the recording rewritten into torch's fused operations
  (:mod:`.fusion`: Adam's fourteen NumPy operations become seven, ``addcmul`` and
  ``addcdiv`` among them, as torch.optim's for-loop does it) and replayed on every slice,
  the results written straight into the parameter's and the state's memory and a few
  scratch buffers kept between steps: no new arrays, and no copies but where the rule
  gives an old array back as a new value (SGD's first velocity is the gradient). The
  numbers are the rule's up to rounding (float64 to 1e-12; tests/test_replay.py), the same
  on any slicing. torch's operations use torch's intra-op threads
  (``torch.get_num_threads()``), so the slices run one after another on the calling thread.
  Where a step cannot be rewritten (another dtype than float32 and float64, an operation
  torch lacks), and in a child made by ``fork``, where torch's threads do not survive
  (:data:`_FORKED`), the NumPy recording is replayed, the same numbers as the rule bit for
  bit; where it cannot be recorded at all, each slice evaluates the rule. Both run on as
  many threads as torch's intra-op setting (:class:`_SlicePool`: daemon threads made at the
  first step that needs them, beside the calling thread; NumPy releases the GIL inside its
  loops); each number is computed from its own inputs whichever thread takes its slice, so
  the results are the same, bit for bit, as on one thread. Adafactor and Muon look at whole
  matrices (their rules are not elementwise) and always step whole tensors; in a group of
  more than ``SLICE`` numbers, Muon's rule runs on torch tensors whose sums of matrix
  products become ``addmm`` (:mod:`.deferred`, :func:`_deferred_step`: the rule's numbers up
  to rounding), where Adafactor's stays on NumPy;
- ``fused=True``: the same rule compiled by ``torch.compile`` (:func:`compiled_step`), for
  the elementwise rules. SGD, Adagrad, Adam and AdamW take it as a keyword, as torch's
  classes do; the other elementwise classes, whose torch signatures have no ``fused``,
  take it as a param-group entry (``RMSprop([{"params": ps, "fused": True}])``). It is
  refused with a ``ValueError`` naming the flag on complex parameters, sparse gradients,
  rules that are not elementwise (Adafactor, Muon) and together with ``foreach=True``. Like
  torch's flags it is part of the param group, so ``load_state_dict`` restores it; set
  ``group["fused"]`` after loading to change paths (the state is the same on all paths).

None of the paths changes a process-wide setting (thread counts, allocators, torch's
compiler configuration): the slice threads read torch's thread count, never set it, and
the small path (the first bullet) never starts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
import os
import queue
import threading
import types
from itertools import accumulate, count
from typing import Any, ClassVar

import numpy as np
import torch
from torch.autograd.graph import increment_version

from ..rules.base import Rule, State
from .deferred import Deferred, evaluate, write
from .replay import NotRecordable, Recording, record


def _layout(p: torch.Tensor) -> tuple[int, torch.Size, tuple[int, ...]]:
    """Where a tensor's data starts, and its shape and strides: a NumPy view made of it
    shows its elements in the same places for as long as these are unchanged."""
    return p.data_ptr(), p.shape, p.stride()


def _tensors(state: State) -> dict[str, torch.Tensor]:
    """The state entries that are tensors (the rest, like ``t``, are plain numbers)."""
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


class _Views:
    """Zero-copy NumPy views of one parameter and of its state tensors, kept between steps.

    Making a NumPy view of a tensor costs about a microsecond, as much as the whole update of
    a small parameter, so the views are made once and reused for as long as they still show
    what torch holds: the same state tensors, and the parameter's data at the same address
    with the same shape and strides (``load_state_dict``, replacing a state tensor, or
    assigning ``p.data``, even a transpose of the same memory, all make new views).
    """

    __slots__ = ("tensors", "layout", "p", "arrays", "sliceable", "flat", "flat_arrays")

    def __init__(self, p: torch.Tensor, state: State) -> None:
        self.tensors = _tensors(state)
        self.layout = _layout(p)
        self.p = p.detach().numpy()
        self.arrays = {k: v.numpy() for k, v in self.tensors.items()}
        # A large parameter whose state is all of its shape, all contiguous, is stepped in
        # slices (as a large group is: see SLICE) through flat views of the same memory.
        self.sliceable = self.p.size > SLICE and all(
            a.flags.c_contiguous and a.shape == self.p.shape for a in (self.p, *self.arrays.values()))
        self.flat = self.p.reshape(-1) if self.sliceable else None
        self.flat_arrays = {k: a.reshape(-1) for k, a in self.arrays.items()} if self.sliceable else None

    @classmethod
    def of(cls, p: torch.Tensor, state: State) -> _Views | None:
        """The views, or ``None`` where NumPy cannot see the memory (GPU, bfloat16)."""
        try:
            return cls(p, state)
        except (RuntimeError, TypeError):
            return None

    def still_show(self, p: torch.Tensor, state: State) -> bool:
        """Whether ``p`` and ``state`` still hold the memory these views were made of."""
        return _layout(p) == self.layout and all(state.get(k) is v for k, v in self.tensors.items())


def _write_state(states: Sequence[State], targets: dict[str, Any], new_state: State, old_state: State) -> None:
    """Copy the rule's new state into the state tensors in place, so they stay the objects
    torch knows (and a state tensor never aliases the gradient); plain values such as ``t``
    are stored in each of ``states``. Unchanged state is skipped (e.g. AMSGrad's maximum
    when amsgrad is off)."""
    for key, value in new_state.items():
        if value is old_state[key]:
            continue
        if key in targets:
            targets[key][...] = value
        else:
            for state in states:
                state[key] = value


def _numpy_or_none(g: torch.Tensor) -> Any:
    """A zero-copy NumPy view of the gradient, or ``None`` where NumPy cannot see it (a
    gradient that needs grad, a lazy negation, another device)."""
    try:
        return g.numpy()
    except (RuntimeError, TypeError):
        return None


SLICE = 1 << 17
"""Elements per slice when an elementwise rule runs on a large array (128 K: half a
megabyte of float32 per array, so a rule's temporaries stay in the cache). On ResNet-18's
parameter shapes (11.7 M floats) Adam's step on whole arrays took 78 ms, most of it
page faults and cache misses of its 47 MB temporaries; the same rule run on 128 K-element
slices took 32 ms, torch.optim's foreach step 36 ms (benchmarks/bench_scale.py measures
every optimizer). An elementwise rule gives the same numbers on any slicing, so the slice
size changes the speed of a large parameter's step, never its result. It also decides
which parameters are large: one of at most ``SLICE`` numbers (or a small group) is
stepped by the rule itself, with NumPy, a larger one by its recording rewritten into
torch's operations (:mod:`.fusion`), whose numbers are the rule's to rounding."""


class _SlicePool:
    """Daemon threads that run slices of an elementwise step beside the calling thread.

    NumPy releases the GIL inside its loops over an array, so the slices of a large step
    (see :data:`SLICE`) run in parallel on as many threads as torch's intra-op setting
    (``torch.get_num_threads()``, read at every step and never changed): the calling thread
    and ``torch.get_num_threads() - 1`` workers, as torch's own loops use that many. The pool
    is made at the first step that has several slices to run, its threads are daemons (they
    never keep the interpreter alive), and a child process made by ``fork`` makes its own.
    Each thread takes the next slice from a shared counter, so a thread slowed by another
    process's load takes fewer. An elementwise rule gives each number from that number's
    own inputs, so the results are the same, bit for bit, whichever thread computed them.
    """

    def __init__(self, workers: int) -> None:
        self.lock = threading.Lock()  # one step at a time; a second caller runs its slices alone
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        self.inboxes: list[queue.SimpleQueue] = []
        for index in range(1, workers + 1):
            inbox: queue.SimpleQueue = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox, index), daemon=True,
                             name=f"optim_lib-slices-{index}").start()
            self.inboxes.append(inbox)

    def _serve(self, inbox: queue.SimpleQueue, index: int) -> None:
        while True:
            drain = inbox.get()
            try:
                drain(index)
                self.done.put(None)
            except BaseException as error:  # handed to the caller, which raises it
                self.done.put(error)

    def run(self, tasks: Sequence[Any], work: Callable[[Any, int], None], threads: int) -> bool:
        """``work(task, thread_index)`` for every task, on up to ``threads`` threads (this one
        included, index 0); ``False`` (nothing run) if another step holds the pool."""
        if not self.lock.acquire(blocking=False):
            return False
        try:
            taken = count()
            size = len(tasks)

            def drain(index: int) -> None:
                i = next(taken)
                while i < size:  # (past the end, each thread stops at its own next number)
                    work(tasks[i], index)
                    i = next(taken)

            helpers = self.inboxes[:min(threads, size) - 1]
            for inbox in helpers:
                inbox.put(drain)
            error = None
            try:
                drain(0)
            except BaseException as raised:
                error = raised
            for _ in helpers:  # wait for every helper, even after an error: none still writes
                raised = self.done.get()
                error = error or raised
            if error is not None:
                raise error
            return True
        finally:
            self.lock.release()


_POOL: _SlicePool | None = None
_FORKED = False
"""Whether this process is a child made by ``fork``. torch's own threads do not survive a
fork: in a child forked after its parent ran a parallel torch operation, the same operation
never returns (measured here with torch.optim's own for-loop ``Adam.step()``, as with the
fused replay). A forked child therefore replays the NumPy recording on slice threads of
its own: it keeps working, with the rule's numbers bit for bit instead of to rounding."""


def _forget_pool() -> None:
    global _POOL, _FORKED
    _POOL = None  # a forked child has none of the parent's threads
    _FORKED = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _threads() -> int:
    """How many threads a large step may use: torch's intra-op setting, read, never set."""
    return torch.get_num_threads()


def _run_tasks(tasks: Sequence[Any], work: Callable[[Any, int], None], here: bool = False) -> None:
    """``work(task, thread_index)`` for every task: on the slice threads (:class:`_SlicePool`)
    when there are several tasks and torch may use several threads, else, or with ``here``
    (the work is torch's operations, which use torch's threads), here, in order."""
    global _POOL
    threads = _threads()
    if len(tasks) > 1 and threads > 1 and not here:
        if _POOL is None or len(_POOL.inboxes) < threads - 1:
            _POOL = _SlicePool(threads - 1)
        if _POOL.run(tasks, work, threads):
            return
    for task in tasks:
        work(task, 0)


def _slices(size: int, start: int = 0) -> list[tuple[int, int]]:
    """``(start, end)`` of the ``SLICE``-element slices of ``size`` elements from ``start``."""
    return [(a, min(a + SLICE, start + size)) for a in range(start, start + size, SLICE)]


def _step_slice(rule: Rule, p: Any, g: Any, arrays: Mapping[str, Any], old_state: State,
                arguments: Mapping[str, Any], plain: dict[str, Any]) -> None:
    """Run an elementwise ``rule`` on one slice: ``p``, ``g`` and ``arrays`` (the state
    entries of the same elements), writing its new values back in place. Its new plain
    state (the step count: every slice computes the same) is put in ``plain``."""
    old = {**old_state, **arrays}
    new_p, new_state = rule.update(p, g, old, **arguments)
    _write_back(p, new_p, [plain], arrays, new_state, old)


def _write_back(p: Any, new_p: Any, states: Sequence[State], arrays: Mapping[str, Any], new_state: State,
                old: State) -> None:
    """The rule's new values written into the NumPy arrays ``p`` and ``arrays`` (the state
    entries) in place, and its plain ones into ``states`` (:func:`_write_state`). A new value
    that is an old array itself or a view of one (a rule keeping the old parameter, or its
    transpose, in its state) is copied before anything is written over: written in place,
    it would change under us."""
    inputs = (p, *arrays.values())

    def aliased(value: Any, own: Any) -> bool:  # shares memory with an input other than its own
        return isinstance(value, np.ndarray) and any(x is not own and np.may_share_memory(value, x) for x in inputs)

    if aliased(new_p, p):
        new_p = new_p.copy()
    new_state = {k: v.copy() if aliased(v, arrays.get(k)) else v for k, v in new_state.items()}
    p[...] = new_p
    _write_state(states, arrays, new_state, old)


def _recorded(rule: Rule, old_state: State, arrays: Mapping[str, Any], arguments: Mapping[str, Any],
              dtype: Any) -> Recording | None:
    """This step of ``rule`` recorded for replay on each slice (:mod:`.replay`), in torch's
    fused operations where it has them (:attr:`~.replay.Recording.fast`: float32 and
    float64; not in a forked child, see :data:`_FORKED`), or ``None`` where it cannot be
    recorded: then each slice evaluates the rule (:func:`_step_slice`)."""
    try:
        recording = record(rule, old_state, arrays, arguments, dtype)
    except (NotRecordable, AttributeError, TypeError):
        # (a stand-in lacks what the rule asked for, such as a reduction: evaluated directly,
        # the rule gives its numbers, or raises its own error there)
        return None
    return recording if _FORKED or recording.fast is None else recording.fast


def _replay_or_step(recording: Recording | None, rule: Rule, p: Any, g: Any, arrays: Mapping[str, Any],
                    old_state: State, arguments: Mapping[str, Any], plain: dict[str, Any]) -> None:
    """One slice of a step: the step's recording replayed on it, or, where there is none,
    the rule evaluated on it (:func:`_step_slice`, which puts the new plain state in
    ``plain``; a recording holds it in ``recording.plain``)."""
    if recording is not None:
        recording.replay(p, g, arrays)
    else:
        _step_slice(rule, p, g, arrays, old_state, arguments, plain)


_NOT_DEFERRED: set[Callable[..., Any]] = set()
"""The update functions of the rules that asked :class:`~.deferred.Deferred` for what it
lacks: stepped on NumPy arrays from then on, in this process (see :func:`_deferred_step`)."""


def _deferred_step(rule: Rule, p: torch.Tensor, g: torch.Tensor, state: State, arguments: Mapping[str, Any]) -> bool:
    """A parameter of a rule that is not elementwise (Muon's matrices), in a group of more
    than :data:`SLICE` numbers, stepped by the rule run on :class:`~.deferred.Deferred`
    tensors: its sums of matrix products become ``addmm``, on torch's threads, where NumPy
    would make a new array per operation. The new values are computed from the old ones
    (:func:`~.deferred.write`). ``False`` (nothing done) where the rule asks for an
    operation that type lacks (Adafactor's means and square roots, a comparison: remembered,
    so that the next steps go straight to NumPy), for other dtypes than float32 and
    float64, and in a forked child (:data:`_FORKED`).

    A whole group, not each large matrix, because NumPy's matrix products (OpenBLAS, on
    threads of its own) and torch's slow each other down when they alternate: Newton–Schulz
    on a 128 x 576 matrix took 2.1 ms with NumPy and 1.4 ms with torch, each alone, and 4.5
    and 3.6 ms when the two alternated (alternating with ``OPENBLAS_NUM_THREADS=1``: 1.9
    and 1.3 ms);
    Muon's step on ResNet-18's 21 matrices took 540-770 ms with the smaller ones on NumPy
    and 440-450 ms with all on torch (this project's 2-core machine). A small group keeps
    NumPy, faster on small matrices alone (a 64 x 64 matrix's step: 0.19 ms, 0.26 ms on
    torch) and on the sliders' networks."""
    if _FORKED or rule.update in _NOT_DEFERRED or p.dtype not in (torch.float32, torch.float64):
        return False
    tensors = _tensors(state)
    old = {**state, **{k: Deferred.of(v) for k, v in tensors.items()}}
    target = p.detach()
    try:
        with torch.no_grad():
            new_p, new_state = rule.update(Deferred.of(target), Deferred.of(g), old, **arguments)
            new_state = {k: v for k, v in new_state.items() if v is not old[k]}
    except (AttributeError, TypeError, NotImplementedError):
        _NOT_DEFERRED.add(rule.update)
        return False
    with torch.no_grad():
        write([(new_p, target), *((v, tensors[k]) for k, v in new_state.items() if k in tensors)])
    state.update({k: evaluate(v) for k, v in new_state.items() if k not in tensors})
    return True


def _on_torch(recording: Recording | None) -> bool:
    """Whether a recording's slices run here, one after another: torch's operations use
    torch's own threads (``torch.get_num_threads()``), and more Python threads calling them
    would run more threads than that."""
    return recording is not None and recording.on_torch


def _step_in_slices(rule: Rule, p: Any, g: Any, arrays: Mapping[str, Any], old_state: State,
                    arguments: Mapping[str, Any], plain: dict[str, Any]) -> None:
    """Run an elementwise ``rule`` on ``SLICE``-element slices of the flat NumPy arrays
    ``p``, ``g`` and ``arrays`` (the state entries, of ``p``'s size), writing each slice's
    new values back in place, the slices on the slice threads (:func:`_run_tasks`). Every
    slice sees the same plain state (the step count); its new value is put in ``plain``.
    The rule is recorded once for the step and replayed on each slice (:func:`_recorded`)."""
    recording = _recorded(rule, old_state, arrays, arguments, p.dtype)

    def work(bounds: tuple[int, int], thread: int) -> None:
        a, b = bounds
        sliced = {k: v[a:b] for k, v in arrays.items()}
        _replay_or_step(recording, rule, p[a:b], g[a:b], sliced, old_state, arguments, plain)

    _run_tasks(_slices(p.shape[0]), work, here=_on_torch(recording))
    if recording is not None:
        plain.update(recording.plain)


class _FlatGroup:
    """A param group stepped as one array: its parameters and gradients gathered end to end
    into two NumPy buffers, the rule run once on them, the new values written back.

    Each NumPy operation costs about a microsecond however small its array, and a rule is
    five (SGD with momentum) to a dozen (Adam) of them. One evaluation for the group instead
    of one per parameter made a step 1.1 (SGD with momentum) to 1.7 (Adadelta) times faster
    on the digits network's four parameters (64 × 64 weights down to 10 biases), and 1.6 to
    2.7 times on a network of seven 16-wide layers (medians of interleaved runs on a busy
    2-core machine). The rule is elementwise, so the numbers are the same, bit for bit (a
    group of more than :data:`SLICE` numbers is stepped in slices, replaying the fused
    recording: the rule's numbers up to rounding, as for a large parameter alone).

    The group's state is created flat, one buffer per entry (``m``, ``v``, ...), and each
    parameter's state holds views of its piece, so ``state_dict``, schedulers and readers
    of ``optimizer.state[p]`` see per-parameter state, as in torch. A group steps this way
    from its first step while every parameter has a gradient, on the CPU, contiguous, all
    of one dtype, and nothing has replaced the parameters' memory, a state tensor, or the
    step count of one parameter; otherwise (a frozen parameter, a state loaded from a
    ``state_dict``, a copied optimizer) it steps one parameter at a time, with the same
    numbers.
    """

    __slots__ = ("params", "layouts", "entries", "tensors", "plain", "views", "bounds", "arrays", "p", "g", "plan",
                 "state_tensors", "flat_params", "buffers", "scratch", "_scatter")

    def __init__(self, params: list[torch.Tensor], state: Mapping[torch.Tensor, State],
                 flat_state: State) -> None:
        self.params = params
        self.layouts = [_layout(p) for p in params]
        self.entries = [state[p] for p in params]
        self.tensors = [(entry, key, value) for entry in self.entries for key, value in _tensors(entry).items()]
        self.views = [p.detach().numpy().reshape(-1) for p in params]  # contiguous: views
        ends = list(accumulate(view.size for view in self.views))
        self.bounds = list(zip([0, *ends[:-1]], ends))
        self.arrays = {k: v.numpy() for k, v in _tensors(flat_state).items()}
        self.plain = [k for k in flat_state if k not in self.arrays]  # the step count t
        self.plan = None if ends[-1] <= SLICE else _plan(self.views)
        self.state_tensors = _tensors(flat_state)  # what fused=True steps, through torch
        self.flat_params = [p.detach().view(-1) for p in params]
        self.buffers: tuple[Any, ...] | None = None  # what fused=True passes (_fused_pieces)
        self.p = np.empty(min(ends[-1], SLICE), dtype=self.views[0].dtype)
        self.g = np.empty_like(self.p)
        # Gather buffers of the slice threads other than the caller's (self.p, self.g): one
        # pair per thread, made when the thread first gathers a run of small parameters.
        self.scratch: dict[int, tuple[Any, Any]] = {}

    @classmethod
    def start(cls, params: list[torch.Tensor], state: dict[torch.Tensor, State], rule: Rule,
              group: Mapping[str, Any]) -> _FlatGroup | None:
        """At a group's first step: create its state flat and return the group, or return
        ``None`` (creating nothing) where it cannot step as one array."""
        if not rule.elementwise or len(params) < 2:
            return None
        for p in params:
            g = p.grad
            if state.get(p) or g is None or g.is_sparse or _numpy_or_none(g) is None:
                return None
            if p.device.type != "cpu" or p.is_complex() or p.dtype != params[0].dtype or not p.is_contiguous():
                return None
        if len({id(p) for p in params}) < len(params) or len({p.data_ptr() for p in params}) < len(params):
            return None  # a parameter listed twice, or two sharing memory: step them one by one
        try:
            gathered = torch.cat([p.detach().reshape(-1) for p in params])
            gathered.numpy()
        except (RuntimeError, TypeError):  # a dtype NumPy does not have (bfloat16)
            return None
        flat_state = rule.initial_state(gathered, group)
        start = 0
        for p in params:
            end = start + p.numel()
            state[p].update({k: v[start:end].view_as(p) if isinstance(v, torch.Tensor) else v
                             for k, v in flat_state.items()})
            start = end
        return cls(params, state, flat_state)

    def still_fits(self, params: list[torch.Tensor], state: Mapping[torch.Tensor, State]) -> bool:
        """Whether the parameters, their memory, their state and its tensors are still the
        ones this group was made of, and every parameter has taken as many steps."""
        if len(params) != len(self.params):
            return False
        for p, mine, layout, entry in zip(params, self.params, self.layouts, self.entries):
            if p is not mine or _layout(p) != layout or state.get(p) is not entry:
                return False
        for entry, key, value in self.tensors:
            if entry.get(key) is not value:
                return False
        first = self.entries[0]
        return all(entry.get(k) == first.get(k) for k in self.plain for entry in self.entries)

    def step(self, rule: Rule, arguments: Mapping[str, Any]) -> bool:
        """One step of ``rule`` on the whole group; ``False`` (nothing changed) if a parameter
        has no gradient NumPy can see this time."""
        try:
            grads = [p.grad.numpy() for p in self.params]
        except (AttributeError, RuntimeError, TypeError):  # None, needs grad, sparse, not on the CPU
            return False
        if self.plan is None:  # a small group: one evaluation of the rule
            np.concatenate(self.views, out=self.p)
            np.concatenate(grads, axis=None, out=self.g)
            arrays = {**self.entries[0], **self.arrays}
            new_p, new_state = rule.update(self.p, self.g, arrays, **arguments)
            for view, (start, end) in zip(self.views, self.bounds):
                view[...] = new_p[start:end]
            _write_state(self.entries, self.arrays, new_state, arrays)
        else:
            self._step_in_slices(rule, grads, arguments)
        increment_version(self.params)  # as in the per-parameter step below
        return True

    def fused_step(self, rule: Rule, arguments: dict[str, Any], flags: tuple[Any, ...]) -> bool:
        """``fused=True`` on the group: the compiled rule on each large parameter and on each run
        of small ones gathered into a buffer (the runs of :func:`_plan`; a small group is one
        run), on the group's flat state, all of them in one call of one compiled function
        (:func:`compiled_step` of :func:`_fused_group_step`); ``False`` (nothing changed) if a
        parameter has no dense gradient this time.

        One call for the group, not one per piece: a call of a compiled function costs tens
        of microseconds before its kernel runs (its guards, its wrappers), and ResNet-18's
        62 parameters are 28 pieces."""
        grads = [p.grad for p in self.params]
        if any(g is None or g.is_sparse for g in grads):
            return False
        first = self.entries[0]
        plain = {k: first[k] for k in self.plain}
        if self.buffers is None:
            self.buffers = self._fused_pieces()
        ps, gs, tensors, runs, sizes = self.buffers
        gs = [g if lo is None else grads[lo].reshape(-1) for lo, g in gs]
        for lo, hi, _, p, g in runs:
            torch.cat(self.flat_params[lo:hi], out=p)
            torch.cat([grad.reshape(-1) for grad in grads[lo:hi]], out=g)
        # The pieces' sizes are part of the key: a function for each layout of a group, so that
        # another model's group compiles a graph of its own rather than replacing this one.
        step = compiled_step(rule, (tuple(self.state_tensors), flags, sizes), _fused_group_step)
        new_plain = step(ps, gs, tensors, plain, arguments)
        if runs:  # the gathered parameters back in place: one call for all (torch's multi-tensor copy)
            torch._foreach_copy_(*self._scatter)
        for entry in self.entries:
            entry.update(new_plain)
        return True

    def _fused_pieces(self) -> tuple[list[Any], list[Any], list[dict[str, torch.Tensor]], list[Any], tuple[int, ...]]:
        """The pieces the fused step passes, made once: each large parameter's flat view and
        each run's region of two gather buffers (``ps``); where each gradient comes from
        (``(index, None)`` for a large parameter's, ``(None, region)`` for a run's); the
        pieces' state views; the runs, to gather and scatter at every step; the pieces' sizes."""
        plan = self.plan or [(0, len(self.params))]
        size = sum(self.bounds[hi - 1][1] - self.bounds[lo][0] for lo, hi in plan if hi - lo > 1)
        like = self.flat_params[0]
        p_buffer, g_buffer = like.new_empty(size), like.new_empty(size)
        ps, gs, tensors, runs, offset = [], [], [], [], 0
        for lo, hi in plan:
            start, end = self.bounds[lo][0], self.bounds[hi - 1][1]
            tensors.append({k: v[start:end] for k, v in self.state_tensors.items()})
            if hi - lo == 1:
                ps.append(self.flat_params[lo])
                gs.append((lo, None))
                continue
            p, g = p_buffer[offset:offset + end - start], g_buffer[offset:offset + end - start]
            offset += end - start
            ps.append(p)
            gs.append((None, g))
            runs.append((lo, hi, start, p, g))
        # where each gathered parameter's new values are, made once: (parameters, pieces of buffers)
        self._scatter = ([view for lo, hi, _, _, _ in runs for view in self.flat_params[lo:hi]],
                         [p[a - start:b - start] for lo, hi, start, p, _ in runs for a, b in self.bounds[lo:hi]])
        return ps, gs, tensors, runs, tuple(p.numel() for p in ps)

    def _step_in_slices(self, rule: Rule, grads: list[Any], arguments: Mapping[str, Any]) -> None:
        """A large group: each large parameter in slices of its own memory, runs of small
        ones gathered into one buffer of at most ``SLICE`` elements (see :func:`_plan`); the
        slices and the runs on the slice threads (:func:`_run_tasks`), each thread gathering
        into buffers of its own."""
        first, plain = self.entries[0], {}
        recording = _recorded(rule, first, self.arrays, arguments, self.p.dtype)
        tasks = []
        for lo, hi in self.plan:
            start, end = self.bounds[lo][0], self.bounds[hi - 1][1]
            if hi - lo == 1:
                tasks += [(lo, a, b) for a, b in _slices(end - start, start)]
            else:
                tasks.append((lo, hi, start, end))

        def work(task: tuple[int, ...], thread: int) -> None:
            arrays = {k: v[task[-2]:task[-1]] for k, v in self.arrays.items()}
            if len(task) == 3:  # a slice of one large parameter, in place
                lo, a, b = task
                offset = self.bounds[lo][0]
                p, g = self.views[lo][a - offset:b - offset], grads[lo].reshape(-1)[a - offset:b - offset]
                _replay_or_step(recording, rule, p, g, arrays, first, arguments, plain)
                return
            lo, hi, start, end = task  # a run of small parameters, gathered
            buffers = (self.p, self.g) if thread == 0 else self.scratch.get(thread)
            if buffers is None:
                buffers = self.scratch[thread] = (np.empty_like(self.p), np.empty_like(self.g))
            p, g = buffers[0][:end - start], buffers[1][:end - start]
            np.concatenate(self.views[lo:hi], out=p)
            np.concatenate(grads[lo:hi], axis=None, out=g)
            _replay_or_step(recording, rule, p, g, arrays, first, arguments, plain)
            for view, (a, b) in zip(self.views[lo:hi], self.bounds[lo:hi]):
                view[...] = p[a - start:b - start]

        _run_tasks(tasks, work, here=_on_torch(recording))
        if recording is not None:
            plain.update(recording.plain)
        for entry in self.entries:
            entry.update(plain)


def _plan(views: Sequence[Any]) -> list[tuple[int, int]]:
    """How a large group is stepped: ``(lo, hi)`` ranges of parameter indices, each either one
    parameter (stepped in ``SLICE``-element slices of its own memory, no copy) or a run of
    consecutive small parameters of at most ``SLICE`` elements in all (gathered into one
    buffer, as a small group is, so that a network's biases cost one evaluation, not one
    each)."""
    plan, lo, size = [], 0, 0
    for i, view in enumerate(views):
        if view.size >= SLICE or size + view.size > SLICE:
            if i > lo:
                plan.append((lo, i))
            lo, size = i, 0
        size += view.size
        if view.size >= SLICE:
            plan.append((i, i + 1))
            lo, size = i + 1, 0
    if lo < len(views):
        plan.append((lo, len(views)))
    return plan


_COMPILED: dict[tuple[Any, ...], Callable[..., dict[str, Any]]] = {}
# Inductor options for the compiled step, for its compilation alone (``torch.compile``'s
# ``options`` change no process-wide setting). Left to itself, inductor inlines the rule's
# scalar arithmetic (Adam's bias corrections 1 - beta**t) into the loop over the elements,
# where it is evaluated again for every vector of 16 numbers: measured here, a pow() per
# vector made the compiled Adam 6 times slower than torch's fused one on 2 M numbers.
# Materializing every intermediate node lets the scheduler compute the scalars once, in a
# kernel of their own, and fuse the elementwise nodes back into one loop (which then ran
# at torch's fused speed).
COMPILE_OPTIONS = {"realize_opcount_threshold": 0}


def _fused_parameter_step(p: torch.Tensor, g: torch.Tensor, tensors: dict[str, torch.Tensor],
                          plain: dict[str, Any], arguments: dict[str, Any], rule: Rule) -> dict[str, Any]:
    """What ``fused=True`` compiles: ``rule.update`` on one parameter, the new values written
    into the parameter and its state tensors in place; returns the new plain state (the
    step count)."""
    new_p, new_state = rule.update(p, g, {**plain, **tensors}, **arguments)
    p.copy_(new_p)
    for key, value in tensors.items():
        if new_state[key] is not value:
            value.copy_(new_state[key])
    return {key: new_state[key] for key in plain}


def _fused_group_step(ps: list[torch.Tensor], gs: list[torch.Tensor], tensors: list[dict[str, torch.Tensor]],
                      plain: dict[str, Any], arguments: dict[str, Any], rule: Rule) -> dict[str, Any]:
    """What ``fused=True`` compiles for a group (:meth:`_FlatGroup.fused_step`):
    :func:`_fused_parameter_step` on each of the pieces ``ps`` (their gradients ``gs``, their
    state tensors ``tensors``), all with the same plain state; returns its new value (the
    same for every piece)."""
    new_plain = plain
    for p, g, state_tensors in zip(ps, gs, tensors):
        new_plain = _fused_parameter_step(p, g, state_tensors, plain, arguments, rule)
    return new_plain


def compiled_step(rule: Rule, key: tuple[Any, ...] = (),
                  function: Callable[..., dict[str, Any]] | None = None) -> Callable[..., dict[str, Any]]:
    """The ``fused=True`` step of one parameter: :func:`_fused_parameter_step` for ``rule``,
    compiled.

    ``step(p, g, tensors, plain, arguments)`` runs ``rule``'s own update on the tensor ``p``,
    its gradient ``g`` and its state (``tensors``, the state tensors; ``plain``, the numbers
    such as the step count ``t``), writes the new values into ``p`` and ``tensors`` in place
    and returns the new plain values. It is compiled by ``torch.compile`` with
    ``dynamic=True``: the parameter's size is a symbol, so that one graph serves parameters
    of every size (they are passed as flat views), and the step count and the float
    hyperparameters are inputs of the graph, not constants, so that neither the steps nor a
    learning-rate schedule recompile it. The graph becomes one loop that reads each number
    once and writes it once: no temporaries.

    With ``function=_fused_group_step`` (a flat group's step, :meth:`_FlatGroup.fused_step`),
    ``p``, ``g`` and ``tensors`` are lists, one entry per piece of the group, and one call
    steps them all: the graph has one such loop per piece.

    One compiled function is made per ``(rule, function, key)``, each with a code object of
    its own and so its own cache of graphs (torch keeps a few graphs per code object); the
    optimizer's key is the parameter's state entries and its flag-like arguments (and, for a
    group, the sizes of its pieces). The first
    call compiles (tens of seconds on a 2-core machine; ``benchmarks/bench_scale.py``
    reports it); torch's on-disk compile cache makes a later process's first call cheaper.
    The numbers equal the eager rule's to float32 rounding (the compiler may fuse and
    reorder the arithmetic).
    """
    function = function or _fused_parameter_step
    cache_key = (rule, function, *key)
    step = _COMPILED.get(cache_key)
    if step is None:
        # A copy of the function with a code object of its own, and the rule as the default
        # of its last argument (torch.compile would wrap a functools.partial in one shared
        # function, and all rules would then share one cache).
        code = function.__code__.replace(co_name=f"{function.__name__.lstrip('_')}_{rule.name}_{len(_COMPILED)}")
        copied = types.FunctionType(code, function.__globals__, code.co_name, (rule,))
        compiled = torch.compile(copied, dynamic=True, options=COMPILE_OPTIONS)

        def step(p: Any, g: Any, tensors: Any, plain: dict[str, Any],
                 arguments: dict[str, Any]) -> dict[str, Any]:
            # Float state (NAdam's product of momentum coefficients) enters as a float64 0-d
            # tensor: torch.compile would make a returned float a constant of the graph and
            # compile again at every step. It comes back a float.
            inputs = {k: torch.tensor(v, dtype=torch.float64) if type(v) is float else v for k, v in plain.items()}
            new_plain = compiled(p, g, tensors, inputs, arguments)
            return {k: float(v) if type(plain[k]) is float else v for k, v in new_plain.items()}

        _COMPILED[cache_key] = step
    return step


def check_fused(name: str, rule: Rule, group: Mapping[str, Any], params: Iterable[torch.Tensor]) -> None:
    """Refuse ``fused=True`` where the compiled step does not apply (at construction): a
    rule that is not elementwise, ``foreach=True`` with it (as torch), complex parameters."""
    if not group.get("fused"):
        return
    if not rule.elementwise:
        raise ValueError(f"fused=True is not supported by optim_lib.{name}: its rule looks at whole "
                         "matrices (not elementwise); leave fused unset")
    if group.get("foreach"):
        raise ValueError(f"fused=True and foreach=True cannot be set together (optim_lib.{name}, as torch.optim)")
    for p in params:
        if p.is_complex():
            raise ValueError(f"fused=True does not support complex parameters (optim_lib.{name} got a "
                             f"{p.dtype} parameter of shape {tuple(p.shape)}); leave fused unset")


# What each flag asks for that optim_lib does not do, and what to use instead. ``foreach``
# changes nothing in the numbers (torch's multi-tensor path computes the same update), so
# it is accepted and ignored; ``fused=True`` compiles the rule (:func:`compiled_step`).
_UNSUPPORTED_FLAGS = {
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


def _floats_as_inputs() -> Any:
    """A context in which ``torch.compile`` treats Python floats (the learning rate) as inputs
    of the graph: torch's default; only if the user set ``torch._dynamo.config.specialize_float``
    is it switched off, for the optimizer's step alone."""
    import contextlib

    if torch._dynamo.config.specialize_float:
        return torch._dynamo.config.patch(specialize_float=False)
    return contextlib.nullcontext()


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
        check_fused(type(self).__name__, self.rule_for(merged), merged, ())
        self.rule_for(merged).check(plain_hyperparameters(merged))
        super().add_param_group(param_group)
        try:  # the parameters as torch has listed them
            check_fused(type(self).__name__, self.rule_for(merged), merged, self.param_groups[-1]["params"])
        except ValueError:
            self.param_groups.pop()
            raise

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss, as in torch."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        views_of = self.__dict__.setdefault("_views", {})  # not pickled: rebuilt after loading
        flat_groups = self.__dict__.setdefault("_flat_groups", {})  # the same
        for index, group in enumerate(self.param_groups):
            rule = self.rule_for(group)
            arguments = rule.arguments(plain_hyperparameters(group))
            flat = self._flat_group(index, group, rule, flat_groups)
            if group.get("fused"):
                self._fused_step(group, rule, arguments, flat)
                continue
            if flat is not None and flat.step(rule, arguments):
                continue
            # A rule that is not elementwise runs on torch's operations (Deferred) for every
            # parameter of a group of more than SLICE numbers: see _deferred_step
            deferred = not rule.elementwise and sum(p.numel() for p in group["params"]) > SLICE
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
                        p[...] = new_p
                        _write_state([state], _tensors(state), new_state, state)
                else:
                    # The same rule on NumPy views of the same memory: on small CPU tensors
                    # NumPy's per-operation cost is a fifth of torch's.
                    if rule.elementwise and views.sliceable:
                        plain = {}
                        _step_in_slices(rule, views.flat, g_array.reshape(-1), views.flat_arrays, state,
                                        arguments, plain)
                        state.update(plain)
                    elif deferred and _deferred_step(rule, p, g, state, arguments):
                        pass
                    else:
                        arrays = {**state, **views.arrays}
                        new_p, new_state = rule.update(views.p, g_array, arrays, **arguments)
                        _write_back(views.p, new_p, [state], views.arrays, new_state, arrays)
                    # Writes through NumPy bypass autograd's bookkeeping: bump the version, so
                    # a graph that saved ``p`` refuses to backpropagate through stale values,
                    # exactly as after torch.optim's in-place update.
                    increment_version(p)
        return loss

    def _fused_step(self, group: Mapping[str, Any], rule: Rule, arguments: Mapping[str, Any],
                    flat: _FlatGroup | None) -> None:
        """``fused=True``: the group stepped by the compiled rule (:func:`compiled_step`), as
        one array where it can be (:meth:`_FlatGroup.fused_step`), else one parameter at a
        time."""
        flags = tuple(sorted((k, v) for k, v in arguments.items() if isinstance(v, (bool, str, type(None)))))
        arguments = dict(arguments)
        with torch.no_grad(), _floats_as_inputs():
            if flat is not None and flat.fused_step(rule, arguments, flags):
                return
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.is_sparse or p.is_complex():
                    kind = "sparse gradients" if g.is_sparse else "complex parameters"
                    raise ValueError(f"fused=True does not support {kind} ({type(self).__name__}); leave fused unset")
                state = self.state[p]
                if not state:
                    state.update(rule.initial_state(p, group))
                tensors = _tensors(state)
                plain = {k: v for k, v in state.items() if k not in tensors}
                p_, g_ = p.detach(), g
                if all(x.is_contiguous() for x in (p_, g_, *tensors.values())):
                    # flat views of the same memory, so that one graph serves every shape
                    p_, g_, tensors = p_.view(-1), g_.view(-1), {k: v.view(-1) for k, v in tensors.items()}
                step = compiled_step(rule, (tuple(tensors), flags))
                state.update(step(p_, g_, tensors, plain, arguments))

    def _flat_group(self, index: int, group: Mapping[str, Any], rule: Rule,
                    flat_groups: dict[int, _FlatGroup]) -> _FlatGroup | None:
        """The group as one array (:class:`_FlatGroup`), made at its first step; ``None``
        once it must step one parameter at a time."""
        params = group["params"]
        flat = flat_groups.get(index)
        if flat is not None and not flat.still_fits(params, self.state):
            del flat_groups[index]  # for good: its state is no longer laid out as one array
            return None
        if flat is None and params and not self.state.get(params[0]):  # the group's first step
            flat = _FlatGroup.start(params, self.state, rule, group)
            if flat is not None:
                flat_groups[index] = flat
        return flat
