"""What one optimizer step costs: the bytes it must move and the state it must keep, the
machine's memory bandwidth, measured step times, and optimizer-state memory at scale.

An optimizer step is elementwise arithmetic on a few arrays as long as the parameters: a
handful of operations per number against 12 to 36 bytes (float32) read and written. On a CPU or GPU that
makes the step **memory-bound**: its time is set by how fast memory delivers the bytes, not by
the arithmetic. This module holds the numbers that argument needs:

- :data:`STEP_COSTS`: for each optimizer of the course, the full-size tensors one step reads
  and writes (the parameter ``p``, its gradient ``g``, the state) and the state it keeps,
  as :class:`StepCost`; its bytes per parameter are the **floor** of any implementation
  that reads each tensor it needs once and writes each tensor it changes once.
- :func:`measure_bandwidth`: a STREAM-like measurement (McCalpin's copy and triad, with
  torch, on arrays much larger than the caches), in bytes per second.
- :func:`time_steps`: median step times of several optimizers on the same parameter shapes,
  interleaved, so that all of them see the same machine load.
- :func:`state_memory` and :func:`zero_memory_per_process`: optimizer-state memory of a
  large model, and how ZeRO (Rajbhandari et al., 2020) shares it across processes.

The state bytes of the model are checked (tests/test_cost.py) against the state dicts that
torch.optim's classes really keep, read with :func:`optim_lib.compare.state_bytes_per_parameter`.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .compare import state_bytes_per_parameter
from .rules._checks import check_whole

Shape = tuple[int, ...]


@dataclass(frozen=True)
class StepCost:
    """The memory traffic and the state of one optimizer's step, per parameter.

    ``reads`` and ``writes`` name the full-size tensors (as long as the parameter) that one
    step must read and write, each as often as the algorithm needs to pass over it; ``state``
    names the full-size tensors it keeps between steps. Adafactor (``factored``) keeps, for a
    parameter of two or more dimensions, a row and a column factor instead of a full-size
    second moment (a vector keeps a full one). ``note`` says what the count leaves out.

    The counts are the floor of an implementation that touches each tensor as often as
    listed and allocates no full-size temporary: torch's fused kernel comes close; an
    implementation that writes its intermediate results to memory (torch's for-loop and
    foreach paths, the readable rule on whole tensors) moves more.
    """

    optimizer: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    state: tuple[str, ...]
    factored: bool = False
    note: str = ""

    def bytes_moved_per_parameter(self, itemsize: int = 4) -> int:
        """Bytes read plus bytes written per parameter in one step, for numbers of
        ``itemsize`` bytes (4: float32)."""
        check_whole("itemsize", itemsize, 1)
        return (len(self.reads) + len(self.writes)) * itemsize

    def state_numbers(self, shape: Shape) -> int:
        """Numbers of state kept for one parameter of ``shape``."""
        size = math.prod(shape)
        if not self.factored:
            return len(self.state) * size
        if len(shape) >= 2:  # a row factor (..., n, 1) and a column factor (..., 1, m)
            return math.prod(shape[:-1]) + math.prod(shape[:-2]) * shape[-1]
        return size  # a vector (or a number) keeps its full second moment

    def state_bytes(self, shapes: Sequence[Shape], itemsize: int = 4) -> int:
        """Bytes of state for parameters of ``shapes``, in numbers of ``itemsize`` bytes."""
        check_whole("itemsize", itemsize, 1)
        return itemsize * sum(self.state_numbers(tuple(shape)) for shape in shapes)

    def state_bytes_per_parameter(self, shapes: Sequence[Shape], itemsize: int = 4) -> float:
        """:meth:`state_bytes` divided by the number of parameters."""
        count = sum(math.prod(shape) for shape in shapes)
        if count == 0:
            raise ValueError(f"shapes must hold at least one entry; got {list(shapes)!r}")
        return self.state_bytes(shapes, itemsize) / count


_ADAM = (("p", "g", "m", "v"), ("p", "m", "v"), ("m", "v"))

STEP_COSTS: dict[str, StepCost] = {
    cost.optimizer: cost
    for cost in (
        StepCost("SGD", ("p", "g"), ("p",), ()),
        StepCost("SGD with momentum", ("p", "g", "b"), ("p", "b"), ("b",)),
        StepCost("Adagrad", ("p", "g", "s"), ("p", "s"), ("s",)),
        StepCost("RMSprop", ("p", "g", "s"), ("p", "s"), ("s",)),
        StepCost("RMSprop (centered)", ("p", "g", "s", "g_bar"), ("p", "s", "g_bar"), ("s", "g_bar")),
        StepCost("Adadelta", ("p", "g", "s", "delta"), ("p", "s", "delta"), ("s", "delta")),
        StepCost("Adam", *_ADAM),
        StepCost("AdamW", *_ADAM),
        StepCost("AdamW (amsgrad)", ("p", "g", "m", "v", "v_max"), ("p", "m", "v", "v_max"), ("m", "v", "v_max")),
        StepCost("NAdam", *_ADAM),
        StepCost("RAdam", *_ADAM),
        StepCost("Adamax", ("p", "g", "m", "u"), ("p", "m", "u"), ("m", "u")),
        StepCost("Lion", ("p", "g", "m"), ("p", "m"), ("m",)),
        StepCost(
            "Adafactor", ("g", "p", "g", "g", "p"), ("p",), (), factored=True,
            note=("three passes: the factored second moment (from g) and RMS(p) must be known before "
                  "the update U, and RMS(U) before p is written; R and C are not counted"),
        ),
        StepCost(
            "Muon", ("p", "g", "B"), ("p", "B"), ("B",),
            note=("plus Newton-Schulz on each matrix: matrix products, about 5 (4n + 2n^2/m) "
                  "operations per number of an n x m matrix (n <= m), compute-bound; not counted"),
        ),
    )
}
"""The cost model of every optimizer of the course (torch.optim's defaults, float32 unless
another ``itemsize`` is given), in the order of the chapters. Symbols as in the chapters:
``b`` momentum's buffer, ``s`` a running sum or average of squares, ``g_bar`` centered
RMSprop's average gradient, ``delta`` Adadelta's average of squared steps, ``m``/``v``
Adam's moments, ``u`` Adamax's infinity norm, ``B`` Muon's momentum."""


# --- The state the real implementations keep --------------------------------------------------


def _torch_class(label: str) -> tuple[Any, dict[str, Any]] | None:
    """torch.optim's class (lion-pytorch's for Lion) and hyperparameters for a label of
    :data:`STEP_COSTS`; ``None`` if that package is not installed."""
    table: dict[str, tuple[Any, dict[str, Any]]] = {
        "SGD": (torch.optim.SGD, {"lr": 0.1}),
        "SGD with momentum": (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
        "Adagrad": (torch.optim.Adagrad, {}),
        "RMSprop": (torch.optim.RMSprop, {}),
        "RMSprop (centered)": (torch.optim.RMSprop, {"centered": True}),
        "Adadelta": (torch.optim.Adadelta, {}),
        "Adam": (torch.optim.Adam, {}),
        "AdamW": (torch.optim.AdamW, {}),
        "AdamW (amsgrad)": (torch.optim.AdamW, {"amsgrad": True}),
        "NAdam": (torch.optim.NAdam, {}),
        "RAdam": (torch.optim.RAdam, {}),
        "Adamax": (torch.optim.Adamax, {}),
        "Adafactor": (torch.optim.Adafactor, {}),
        "Muon": (torch.optim.Muon, {}),
    }
    if label == "Lion":
        try:
            import lion_pytorch
        except ImportError:
            return None
        return lion_pytorch.Lion, {}
    return table[label]


def _optim_lib_class(label: str) -> tuple[Any, dict[str, Any]]:
    from . import optimizers as ours

    name, hyperparameters = {
        "SGD with momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
        "SGD": ("SGD", {"lr": 0.1}),
        "RMSprop (centered)": ("RMSprop", {"centered": True}),
        "AdamW (amsgrad)": ("AdamW", {"amsgrad": True}),
    }.get(label, (label, {}))
    return getattr(ours, name), hyperparameters


def cost_table(shapes: Sequence[Shape], itemsize: int = 4) -> list[dict[str, Any]]:
    """The cost model next to the state the implementations really keep, on parameters of
    ``shapes`` (zeros of torch's default dtype, one step taken: see
    :func:`~optim_lib.compare.state_bytes_per_parameter`): one dict per optimizer of
    :data:`STEP_COSTS` with ``"optimizer"``, ``"bytes moved"`` (per parameter and step, the
    model), ``"state"`` (bytes per parameter, the model), ``"torch state"`` (torch.optim's
    class; lion-pytorch's for Lion; ``None`` if not installed) and ``"optim_lib state"``.
    Muon's rows take the matrices of ``shapes`` only (it steps matrices)."""
    if not shapes:
        raise ValueError("shapes must name at least one parameter shape; got none")
    rows = []
    for label, cost in STEP_COSTS.items():
        own = [tuple(s) for s in shapes if label != "Muon" or len(s) == 2]
        if not own:
            raise ValueError(f"shapes must include a matrix for Muon's row; got {list(shapes)!r}")
        params = [torch.zeros(shape) for shape in own]
        theirs = _torch_class(label)
        ours, hyperparameters = _optim_lib_class(label)
        rows.append({
            "optimizer": label,
            "bytes moved": cost.bytes_moved_per_parameter(itemsize),
            "state": cost.state_bytes_per_parameter(own, itemsize),
            "torch state": None if theirs is None else state_bytes_per_parameter(theirs[0], theirs[1], params),
            "optim_lib state": state_bytes_per_parameter(ours, hyperparameters, params),
        })
    return rows


def format_cost_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """:func:`cost_table`'s rows as a text table (bytes per parameter; "—" where there is
    no torch class)."""
    columns = ["bytes moved", "state", "torch state", "optim_lib state"]
    width = max(len("per parameter (bytes)"), *(len(row["optimizer"]) for row in rows))
    lines = [f"{'per parameter (bytes)':{width}s}  " + "  ".join(f"{c:>15s}" for c in columns)]
    for row in rows:
        cells = ["—" if row[c] is None else f"{row[c]:.3g}" for c in columns]
        lines.append(f"{row['optimizer']:{width}s}  " + "  ".join(f"{cell:>15s}" for cell in cells))
    return "\n".join(lines)


# --- The machine: memory bandwidth ------------------------------------------------------------


@dataclass(frozen=True)
class Bandwidth:
    """A STREAM-like measurement in bytes per second, the best of ``repeats`` passes over
    arrays of ``elements`` numbers of ``itemsize`` bytes (as STREAM reports its "best rate":
    on a shared machine other processes only ever slow a pass down, so the fastest pass is
    the steadiest estimate of what memory can deliver, and the right one for a floor):

    - ``copy``: ``b = a`` (2 arrays' bytes counted per pass), STREAM's copy;
    - ``triad``: ``a = b + q c`` (3 arrays), STREAM's triad;
    - ``update``: ``a = a + q b`` in place (3 arrays: ``a`` and ``b`` read, ``a`` written),
      the access pattern of an optimizer step, which writes back where it read.

    As in STREAM, the bytes counted are those the kernel must read and write. A CPU that
    writes to memory it has not read first reads the line anyway ("write allocate"), so
    copy and triad move more than they count and report less than ``update`` does; an
    optimizer step, which writes only where it has read, is limited by ``update``."""

    copy: float
    triad: float
    update: float
    elements: int
    itemsize: int
    repeats: int

    def __str__(self) -> str:
        return (f"copy {self.copy / 1e9:.1f} GB/s, triad {self.triad / 1e9:.1f} GB/s, in-place update "
                f"{self.update / 1e9:.1f} GB/s (arrays of {self.elements * self.itemsize / 2**20:.0f} MiB, "
                f"best of {self.repeats})")


def measure_bandwidth(elements: int = 2**25, repeats: int = 5, dtype: torch.dtype = torch.float32) -> Bandwidth:
    """Memory bandwidth, STREAM-like (McCalpin, 1995): the shortest time of ``repeats``
    copies ``b.copy_(a)``, triads ``torch.add(b, c, alpha=3, out=a)`` and in-place updates
    ``a.add_(b, alpha=1e-3)``, interleaved, on arrays of ``elements`` numbers of ``dtype`` (the default,
    2**25 float32, is 128 MiB per array: larger than the caches of most CPUs; choose it
    several times the last-level cache). Runs with torch's current thread count; changes no
    setting. See :class:`Bandwidth` for what each counts.

    Raises:
        ValueError: ``elements`` or ``repeats`` is not a whole number of at least 1.
    """
    check_whole("elements", elements, 1)
    check_whole("repeats", repeats, 1)
    a = torch.full((elements,), 1.0, dtype=dtype)
    b = torch.full((elements,), 2.0, dtype=dtype)
    c = torch.full((elements,), 0.5, dtype=dtype)
    itemsize = a.element_size()
    kernels = {
        "copy": (2, lambda: b.copy_(a)),
        "triad": (3, lambda: torch.add(b, c, alpha=3.0, out=a)),
        "update": (3, lambda: a.add_(b, alpha=1e-3)),
    }
    times: dict[str, list[float]] = {name: [] for name in kernels}
    for _, kernel in kernels.values():  # first touch: the pages exist before timing
        kernel()
    for _ in range(repeats):
        for name, (_, kernel) in kernels.items():
            tic = time.perf_counter()
            kernel()
            times[name].append(time.perf_counter() - tic)
    rates = {name: arrays * elements * itemsize / min(times[name])
             for name, (arrays, _) in kernels.items()}
    return Bandwidth(**rates, elements=elements, itemsize=itemsize, repeats=repeats)


# --- Step times --------------------------------------------------------------------------------


def make_parameters(shapes: Sequence[Shape], *, seed: int = 0, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """Parameters of ``shapes`` with seeded random values and gradients (``.grad`` set)."""
    if not shapes:
        raise ValueError("shapes must name at least one parameter shape; got none")
    generator = torch.Generator().manual_seed(seed)
    params = []
    for shape in shapes:
        p = torch.randn(tuple(shape), generator=generator, dtype=dtype).requires_grad_(True)
        p.grad = torch.randn(tuple(shape), generator=generator, dtype=dtype) * 1e-3
        params.append(p)
    return params


def time_steps(
    optimizers: Mapping[str, Callable[[list[torch.Tensor]], torch.optim.Optimizer]],
    shapes: Sequence[Shape],
    *,
    repeats: int = 9,
    warmup: int = 2,
    seed: int = 0,
    flush: int = 0,
) -> dict[str, float]:
    """Median seconds of one ``step()`` for each named optimizer: each is built by its
    function on its own parameters of ``shapes`` (the same seeded values and gradients),
    takes ``warmup`` steps (the state is created, a compiled path compiles), then
    ``repeats`` rounds each time every optimizer once, in turn, so that all see the same
    machine load. The gradients stay as they are: every step is the same amount of work.

    ``flush``: bytes of a buffer written before each timed step, outside the timing, so that
    the step finds its tensors in memory, not in the caches, as it does in training, where
    the forward and backward passes run between two steps (0: no flush; choose several
    times the last-level cache).

    Raises:
        ValueError: ``optimizers`` is empty, ``repeats`` < 1, ``warmup`` < 0 or ``flush`` < 0.
    """
    if not optimizers:
        raise ValueError("optimizers must name at least one optimizer; got none")
    check_whole("repeats", repeats, 1)
    check_whole("warmup", warmup, 0)
    check_whole("flush", flush, 0)
    buffer = torch.empty(flush // 4, dtype=torch.float32) if flush else None
    built = {name: make(make_parameters(shapes, seed=seed)) for name, make in optimizers.items()}
    for optimizer in built.values():
        for _ in range(warmup):
            optimizer.step()
    samples: dict[str, list[float]] = {name: [] for name in built}
    for _ in range(repeats):
        for name, optimizer in built.items():
            if buffer is not None:
                buffer.fill_(1.0)
            tic = time.perf_counter()
            optimizer.step()
            samples[name].append(time.perf_counter() - tic)
    return {name: statistics.median(times) for name, times in samples.items()}


def time_rule(
    update: Callable[..., tuple[Any, Mapping[str, Any]]],
    init: Callable[[Any], Mapping[str, Any]],
    shapes: Sequence[Shape],
    hyperparameters: Mapping[str, Any],
    *,
    slice_size: int | None = None,
    repeats: int = 5,
    seed: int = 0,
) -> tuple[float, float | None]:
    """Median seconds of one step of a pure rule (``update``, with the state ``init`` makes)
    on float32 NumPy arrays of ``shapes``, the new values written back in place, as
    optim_lib's step loop does: on each whole array (``slice_size=None``: every intermediate
    of the rule is a fresh array as long as the parameter), or on consecutive slices of
    ``slice_size`` elements of each (the same memory; the intermediates are as long as a
    slice). An elementwise rule gives the same numbers either way; only the time differs.
    Returns the median seconds and the minor page faults per timed step
    (:func:`count_page_faults`; ``None`` where they cannot be counted).

    Raises:
        ValueError: ``slice_size`` or ``repeats`` not a whole number of at least 1.
    """
    import numpy as np

    if slice_size is not None:
        check_whole("slice_size", slice_size, 1)
    check_whole("repeats", repeats, 1)
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        p = rng.standard_normal(math.prod(shape), dtype=np.float32)
        g = rng.standard_normal(p.size, dtype=np.float32) * np.float32(1e-3)
        arrays.append((p, g, dict(init(p))))

    def step() -> None:
        for p, g, state in arrays:
            size = p.size if slice_size is None else slice_size
            plain = {}
            for start in range(0, p.size, size):
                pieces = {k: v[start:start + size] if isinstance(v, np.ndarray) else v for k, v in state.items()}
                new_p, new_state = update(p[start:start + size], g[start:start + size], pieces, **hyperparameters)
                p[start:start + size] = new_p
                for key, value in new_state.items():
                    if isinstance(pieces[key], np.ndarray):
                        pieces[key][...] = value
                    else:
                        plain[key] = value
            state.update(plain)

    step()  # the first step: the state's pages are touched

    def timed() -> list[float]:
        times = []
        for _ in range(repeats):
            tic = time.perf_counter()
            step()
            times.append(time.perf_counter() - tic)
        return times

    times, faults = count_page_faults(timed)
    return statistics.median(times), None if faults is None else faults / repeats


def count_page_faults(function: Callable[[], Any]) -> tuple[Any, int | None]:
    """``function()``'s result and the minor page faults this process took while it ran
    (a fault is the kernel mapping a fresh page of memory on its first touch), from
    ``getrusage``; ``None`` where the ``resource`` module does not exist (Windows)."""
    try:
        import resource
    except ImportError:
        return function(), None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    result = function()
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def torch_has_fused(label: str) -> bool:
    """Whether torch.optim's class for ``label`` (a key of :data:`STEP_COSTS`) steps a
    float32 CPU tensor with ``fused=True`` (tried on a one-element parameter)."""
    reference = _torch_class(label)
    if reference is None or reference[0].__module__.split(".")[0] != "torch":
        return False
    cls, hyperparameters = reference
    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.ones(1)
    try:
        cls([p], **hyperparameters, fused=True).step()
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def step_paths(label: str) -> dict[str, Callable[[list[torch.Tensor]], torch.optim.Optimizer]]:
    """The implementations of one optimizer that a step can run, by name: ``"optim_lib"``
    (its default path), and torch.optim's ``"torch for-loop"`` (``foreach=False``),
    ``"torch foreach"`` (``foreach=True``) and, where torch has one on the CPU,
    ``"torch fused"`` (``fused=True``). For Lion there is only optim_lib's (torch has none;
    lion-pytorch has a single path).

    Raises:
        ValueError: ``label`` is not in :data:`STEP_COSTS`.
    """
    if label not in STEP_COSTS:
        raise ValueError(f"label must be one of {sorted(STEP_COSTS)}; got {label!r}")
    ours, our_hyperparameters = _optim_lib_class(label)
    paths: dict[str, Callable[[list[torch.Tensor]], torch.optim.Optimizer]] = {
        "optim_lib": lambda params: ours(params, **our_hyperparameters)}
    reference = _torch_class(label)
    if reference is not None and reference[0].__module__.split(".")[0] == "torch":
        cls, hyperparameters = reference
        paths["torch for-loop"] = lambda params: cls(params, **hyperparameters, foreach=False)
        paths["torch foreach"] = lambda params: cls(params, **hyperparameters, foreach=True)
        if torch_has_fused(label):
            paths["torch fused"] = lambda params: cls(params, **hyperparameters, fused=True)
    return paths


def step_timings(
    runs: Mapping[str, Mapping[str, Callable[[list[torch.Tensor]], torch.optim.Optimizer]]],
    shapes: Sequence[Shape],
    *,
    repeats: int = 5,
    warmup: int = 2,
    flush: int = 0,
    itemsize: int = 4,
) -> list[dict[str, Any]]:
    """Measured step times next to the bytes the cost model says each step must move: for
    each optimizer label of ``runs`` (keys of :data:`STEP_COSTS`) its paths (as
    :func:`step_paths` gives them) are timed together (:func:`time_steps`). One dict per
    optimizer and path (``flush`` as in :func:`time_steps`): ``"optimizer"``, ``"path"``, ``"bytes"`` (bytes moved per
    parameter times the parameters of ``shapes``) and ``"seconds"`` (the median), the
    input of :func:`optim_lib.plotting.plot_step_roofline`.

    Raises:
        ValueError: a label not in :data:`STEP_COSTS`.
    """
    count = sum(math.prod(shape) for shape in shapes)
    rows = []
    for label, paths in runs.items():
        if label not in STEP_COSTS:
            raise ValueError(f"each optimizer must be one of {sorted(STEP_COSTS)}; got {label!r}")
        moved = STEP_COSTS[label].bytes_moved_per_parameter(itemsize) * count
        for path, seconds in time_steps(paths, shapes, repeats=repeats, warmup=warmup, flush=flush).items():
            rows.append({"optimizer": label, "path": path, "bytes": moved, "seconds": seconds})
    return rows


# --- Optimizer-state memory at scale -----------------------------------------------------------


def llama_7b_shapes() -> list[Shape]:
    """The parameter shapes of LLaMA-7B (Touvron et al., 2023: 32 layers of width 4096, an
    MLP of width 11008 with three matrices, RMSNorm weights, a vocabulary of 32000 with
    separate input and output embeddings): 6 738 415 616 parameters."""
    d, hidden, vocab, layers = 4096, 11008, 32000, 32
    layer = [(d, d)] * 4 + [(hidden, d), (hidden, d), (d, hidden)] + [(d,), (d,)]
    return [(vocab, d)] + layer * layers + [(d,), (vocab, d)]


def state_memory(optimizer: str, shapes: Sequence[Shape], itemsize: int = 4) -> int:
    """Bytes of optimizer state for a model with parameters of ``shapes`` (the cost model
    :data:`STEP_COSTS`; state in numbers of ``itemsize`` bytes, 4 for float32).

    Raises:
        ValueError: ``optimizer`` is not in :data:`STEP_COSTS`.
    """
    if optimizer not in STEP_COSTS:
        raise ValueError(f"optimizer must be one of {sorted(STEP_COSTS)}; got {optimizer!r}")
    return STEP_COSTS[optimizer].state_bytes(shapes, itemsize)


def zero_memory_per_process(
    parameters: float,
    processes: int,
    *,
    stage: int = 1,
    parameter_bytes: float = 2,
    gradient_bytes: float = 2,
    state_bytes: float = 12,
) -> float:
    """Bytes of model states per process in data-parallel training with ZeRO (Rajbhandari et
    al., 2020), for ``parameters`` parameters on ``processes`` processes: each keeps its
    parameters (``parameter_bytes`` each), gradients (``gradient_bytes``) and optimizer
    state (``state_bytes``), and stage 1 shards the optimizer state (``state / N``), stage 2
    the gradients too, stage 3 the parameters too; stage 0 is plain data parallelism. The
    defaults are the paper's mixed-precision Adam: float16 parameters and gradients, and a
    float32 copy of the parameters plus ``m`` and ``v`` (K = 12 bytes) as the state.

    Raises:
        ValueError: ``processes`` < 1, ``stage`` not 0 to 3, or a byte count or
            ``parameters`` negative.
    """
    check_whole("processes", processes, 1)
    if stage not in (0, 1, 2, 3):
        raise ValueError(f"stage must be 0, 1, 2 or 3; got {stage!r}")
    for name, value in (("parameters", parameters), ("parameter_bytes", parameter_bytes),
                        ("gradient_bytes", gradient_bytes), ("state_bytes", state_bytes)):
        if not 0 <= value < math.inf:
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    shards = [1, 1, 1]  # parameters, gradients, state: 1 = a full copy on every process
    for level in range(stage):
        shards[2 - level] = processes
    return parameters * (parameter_bytes / shards[0] + gradient_bytes / shards[1] + state_bytes / shards[2])
