"""Measuring optimizers at scale: a real network's parameter shapes, interleaved medians,
and the machine's memory bandwidth (a STREAM-like copy and triad) to compare them with.

An optimizer's step on a large model does little arithmetic per number and must read and
write every parameter, gradient and state entry once: its floor is the time the memory takes
to move those bytes. These helpers are what ``benchmarks/bench_scale.py`` and the chapter
on making optimizers fast measure with:

- :func:`resnet18_shapes`: the 62 parameter shapes of torchvision's ResNet-18 (11.69 M
  numbers), written out so that torchvision is not needed;
- :func:`make_parameters`: parameters of given shapes with a gradient each;
- :func:`interleaved_medians`: each contestant timed in turn, round after round, so that
  all see the same machine load (the median per contestant);
- :func:`stream_bandwidth`: bytes per second of a copy (``b = a``) and a triad
  (``a = b + s c``) on arrays too large for the caches, as STREAM measures them;
  :func:`stream_kernels` gives the two as calls, to time interleaved with an optimizer's
  steps (on a shared machine the bandwidth changes with the load).

None of them changes a process-wide setting (thread counts, allocators).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence

import torch

__all__ = ["resnet18_shapes", "make_parameters", "interleaved_medians", "stream_bandwidth", "stream_kernels", "numel"]


def resnet18_shapes() -> list[tuple[int, ...]]:
    """The parameter shapes of ResNet-18 (He et al., 2016; torchvision's ``resnet18``, in
    ``model.parameters()`` order): a 7x7 stem convolution, four stages of two basic blocks
    (two 3x3 convolutions, each followed by batch norm's weight and bias; the first block of
    stages 2-4 also has a 1x1 downsampling convolution and its batch norm), and the 1000-way
    classifier. 62 tensors, 11 689 512 numbers."""
    shapes: list[tuple[int, ...]] = [(64, 3, 7, 7), (64,), (64,)]
    width_in = 64
    for width in (64, 128, 256, 512):
        for block in range(2):
            shapes += [(width, width_in, 3, 3), (width,), (width,), (width, width, 3, 3), (width,), (width,)]
            if block == 0 and width != width_in:
                shapes += [(width, width_in, 1, 1), (width,), (width,)]
            width_in = width
    return shapes + [(1000, 512), (1000,)]


def make_parameters(shapes: Sequence[Sequence[int]], *, seed: int = 0,
                    dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """Leaf tensors of ``shapes`` (standard normal, from ``seed``), each with a standard normal
    ``.grad``: the same numbers for the same seed, so that two optimizers given parameters of
    one seed can be compared step by step."""
    if not shapes:
        raise ValueError("shapes must hold at least one shape; got none")
    generator = torch.Generator().manual_seed(seed)
    params = []
    for shape in shapes:
        p = torch.randn(tuple(shape), generator=generator, dtype=dtype).requires_grad_()
        p.grad = torch.randn(tuple(shape), generator=generator, dtype=dtype)
        params.append(p)
    return params


def interleaved_medians(contestants: Mapping[str, Callable[[], object]], *, rounds: int,
                        calls: int = 1) -> dict[str, float]:
    """Median seconds per call of each contestant: every round calls each one ``calls`` times
    in turn (so a busy machine slows all alike), ``rounds`` rounds."""
    if rounds < 1 or calls < 1:
        raise ValueError(f"rounds and calls must be at least 1; got rounds={rounds!r}, calls={calls!r}")
    samples: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(rounds):
        for name, call in contestants.items():
            tic = time.perf_counter()
            for _ in range(calls):
                call()
            samples[name].append((time.perf_counter() - tic) / calls)
    return {name: statistics.median(times) for name, times in samples.items()}


def stream_kernels(megabytes: float = 200.0) -> tuple[dict[str, Callable[[], object]], dict[str, int]]:
    """STREAM's copy (``b = a``) and triad (``a = b + s c``) on float32 arrays of
    ``megabytes`` each, as calls to time alongside other contestants (see
    :func:`interleaved_medians`), and the bytes each call moves (2 and 3 arrays)."""
    if not megabytes > 0:
        raise ValueError(f"megabytes must be > 0; got {megabytes!r}")
    n = max(1, int(megabytes * 1e6 / 4))
    a, b, c = (torch.ones(n) for _ in range(3))
    a.copy_(b)  # touch every page once, outside the timing
    calls = {"copy": lambda: b.copy_(a), "triad": lambda: torch.add(b, c, alpha=3.0, out=a)}
    return calls, {"copy": 2 * 4 * n, "triad": 3 * 4 * n}


def stream_bandwidth(megabytes: float = 200.0, *, rounds: int = 7) -> dict[str, float]:
    """Bytes per second of STREAM's copy (``b = a``: 2 arrays moved) and triad
    (``a = b + s c``: 3 arrays) on float32 arrays of ``megabytes`` each, done by torch's own
    ops in the current thread settings; medians of ``rounds`` interleaved runs.

    These are what the memory delivers to torch's elementwise loops on this machine, the
    floor an optimizer step that moves the same bytes can approach. (STREAM itself counts
    the same bytes; it also adds a write-allocate caveat: a store may read its line first.)
    """
    calls, moved = stream_kernels(megabytes)
    times = interleaved_medians(calls, rounds=rounds)
    return {name: moved[name] / times[name] for name in calls}


def numel(shapes: Sequence[Sequence[int]]) -> int:
    """How many numbers parameters of ``shapes`` hold."""
    return sum(math.prod(shape) for shape in shapes)
