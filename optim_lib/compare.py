"""Compare optimizers: an optim_lib class against its torch.optim twin (the gap between
their parameters), and optimizers against each other at their best learning rates."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .landscapes import Landscape
from .optimizers.base import has_modes
from .rules._checks import check_whole
from .trajectories import Trajectory, run_trajectory

LEARNING_RATE_GRID: tuple[float, ...] = tuple(10 ** (k / 20) for k in range(-60, 21))
"""81 learning rates from 0.001 to 10, evenly spaced in the logarithm: 20 per decade
(0.001, 0.00112, 0.00126, ..., 8.91, 10)."""


def largest_difference(
    ours: type[torch.optim.Optimizer],
    theirs: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None = None,
    *,
    steps: int = 100,
    shape: tuple[int, ...] = (4, 3),
    seed: int = 0,
) -> float:
    """Largest absolute difference between the two optimizers' parameters over ``steps``
    steps in float64, on ``f(x) = sum(x²/2 + sin(3x))`` from a seeded random start (a
    non-convex function, so errors are not washed out by converging to one minimum).

    An optimizer with a ``train()``/``eval()`` pair (schedule-free AdamW) is put in train mode
    first and compared there, at the points where it takes its gradients."""
    generator = torch.Generator().manual_seed(seed)
    start = torch.randn(shape, generator=generator, dtype=torch.float64)
    a = start.clone().requires_grad_(True)
    b = start.clone().requires_grad_(True)
    opt_a = ours([a], **dict(hyperparameters or {}))
    opt_b = theirs([b], **dict(hyperparameters or {}))
    for opt in (opt_a, opt_b):
        if has_modes(opt):
            opt.train()
    worst = 0.0
    for _ in range(steps):
        for x, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            (x * x / 2 + torch.sin(3 * x)).sum().backward()
            opt.step()
        worst = max(worst, float((a - b).detach().abs().max()))
    return worst


def best_learning_rate(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    landscape: Landscape,
    *,
    steps: int = 100,
    grid: Sequence[float] = LEARNING_RATE_GRID,
) -> Trajectory:
    """The run that ends lowest: ``optimizer_class`` with ``hyperparameters`` and each
    learning rate of ``grid`` in turn, ``steps`` steps on ``landscape`` from its start; the
    run whose final ``f`` is smallest is returned (its ``hyperparameters["lr"]`` says which
    rate won; on a tie, the smaller rate). Runs that diverge are left out.

    The rule is a stated one, so that a comparison "at each method's best learning rate"
    can be checked: the best of a fixed grid, for one budget of steps, from one start.

    Raises:
        ValueError: ``hyperparameters`` sets ``lr`` itself, ``grid`` is empty or holds a
            learning rate that is not a positive finite number, or every run diverges.
    """
    hyperparameters = dict(hyperparameters or {})
    if "lr" in hyperparameters:
        raise ValueError(f"hyperparameters must not set lr (the grid does); got lr={hyperparameters['lr']!r}")
    check_whole("steps", steps, 1)
    grid = list(grid)
    if not grid or not all(isinstance(lr, (int, float)) and 0 < lr < math.inf for lr in grid):
        raise ValueError(f"grid must be a non-empty sequence of positive finite learning rates; got {grid!r}")
    best: Trajectory | None = None
    for lr in sorted(grid):
        run = run_trajectory(optimizer_class, {**hyperparameters, "lr": lr}, landscape, steps=steps)
        final = float(run.losses[-1])
        if run.diverged_at is not None or not math.isfinite(final):
            continue
        if best is None or final < float(best.losses[-1]):
            best = run
    if best is None:
        raise ValueError(f"every learning rate in grid diverged on {landscape.name!r} within {steps} steps")
    return best


# --- What an optimizer keeps: the bytes of its state ------------------------------------------


def state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """The bytes held in the tensors of ``optimizer.state_dict()["state"]``: every
    per-parameter buffer (``exp_avg``, ``row_var``, ``momentum_buffer``, ...) and torch's
    one-element ``step`` tensors, however deeply nested in lists or dicts. Plain Python
    numbers in the state (optim_lib keeps its step count ``t`` as an ``int``) are not
    tensors and are not counted: a handful of bytes per parameter tensor, not per entry."""

    def size(value: Any) -> int:
        if isinstance(value, torch.Tensor):
            return value.numel() * value.element_size()
        if isinstance(value, Mapping):
            return sum(size(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return sum(size(v) for v in value)
        return 0

    return size(optimizer.state_dict()["state"])


def state_bytes_per_parameter(
    optimizer_class: Any,
    hyperparameters: Mapping[str, Any] | None,
    parameters: Sequence[torch.Tensor] | torch.nn.Module,
    *,
    seed: int = 0,
) -> float:
    """Bytes of optimizer state per trained number: :func:`state_bytes` after one step,
    divided by the number of entries of ``parameters``.

    The optimizer is built on copies of ``parameters`` (the caller's tensors, or a module's
    ``parameters()``, are left as they are), each given a seeded random gradient, and takes
    one step, since torch creates most state at the first step. Optimizers with a
    ``train()``/``eval()`` pair step in train mode. ``optimizer_class`` may also be any
    function of the parameters (and the hyperparameters) that returns a tuple of
    optimizers stepping them together (torch's Muon on the matrices and AdamW on the rest):
    their bytes are added up.

    Raises:
        ValueError: ``parameters`` holds no tensor, or no entry.
    """
    tensors = list(parameters.parameters() if isinstance(parameters, torch.nn.Module) else parameters)
    if not tensors or not all(isinstance(p, torch.Tensor) for p in tensors):
        raise ValueError(f"parameters must be tensors or a torch.nn.Module; got {parameters!r}"[:200])
    count = sum(p.numel() for p in tensors)
    if count == 0:
        raise ValueError("parameters must hold at least one entry; got only empty tensors")
    generator = torch.Generator().manual_seed(seed)
    copies = [p.detach().clone().requires_grad_(True) for p in tensors]
    for p in copies:
        p.grad = torch.randn(p.shape, generator=generator, dtype=p.dtype)
    made = optimizer_class(copies, **dict(hyperparameters or {}))
    optimizers = made if isinstance(made, tuple) else (made,)
    for optimizer in optimizers:
        if has_modes(optimizer):
            optimizer.train()
        optimizer.step()
    return sum(state_bytes(optimizer) for optimizer in optimizers) / count


def _torch_muon_and_adamw(params: Sequence[torch.Tensor]) -> tuple[torch.optim.Optimizer, ...]:
    """torch's Muon on every matrix, torch's AdamW on the rest (if there is a rest)."""
    from .optimizers.muon_adamw import split_for_muon

    matrices, rest = split_for_muon(params, "all")
    return (torch.optim.Muon(matrices),) + ((torch.optim.AdamW(rest),) if rest else ())


def _optim_lib_muon_and_adamw(params: Sequence[torch.Tensor]) -> torch.optim.Optimizer:
    from .optimizers import MuonWithAdamW

    return MuonWithAdamW(params, muon_for="all")


def _memory_rows() -> tuple[tuple[str, Any, Any, dict[str, Any]], ...]:
    """(label, torch.optim's class or None, optim_lib's class, hyperparameters): the course's
    optimizers, in the order of the chapters."""
    from . import optimizers as ours

    return (
        ("SGD", torch.optim.SGD, ours.SGD, {"lr": 0.1}),
        ("SGD with momentum", torch.optim.SGD, ours.SGD, {"lr": 0.1, "momentum": 0.9}),
        ("Adagrad", torch.optim.Adagrad, ours.Adagrad, {}),
        ("RMSprop", torch.optim.RMSprop, ours.RMSprop, {}),
        ("Adadelta", torch.optim.Adadelta, ours.Adadelta, {}),
        ("Adam", torch.optim.Adam, ours.Adam, {}),
        ("AdamW", torch.optim.AdamW, ours.AdamW, {}),
        ("AMSGrad", torch.optim.Adam, ours.Adam, {"amsgrad": True}),
        ("NAdam", torch.optim.NAdam, ours.NAdam, {}),
        ("RAdam", torch.optim.RAdam, ours.RAdam, {}),
        ("Adamax", torch.optim.Adamax, ours.Adamax, {}),
        ("Adafactor", torch.optim.Adafactor, ours.Adafactor, {}),
        ("Lion", None, ours.Lion, {}),
        ("Muon (matrices) + AdamW (vectors)", _torch_muon_and_adamw, _optim_lib_muon_and_adamw, {}),
        ("schedule-free AdamW", None, ours.AdamWScheduleFree, {}),
    )


def memory_table(parameter_sets: Mapping[str, Sequence[torch.Tensor] | torch.nn.Module]) -> list[dict[str, Any]]:
    """Bytes of optimizer state per parameter (:func:`state_bytes_per_parameter`) for every
    optimizer of the course, on each named set of parameters: one dict per optimizer, with
    ``"optimizer"`` and, for each set ``name``, ``"name: torch"`` (torch.optim's class;
    ``None`` where torch has none: Lion, schedule-free AdamW) and ``"name: optim_lib"``.
    Muon takes matrices only: its row puts every matrix on Muon and the vectors on AdamW."""
    rows = []
    for label, theirs, ours, hyperparameters in _memory_rows():
        row: dict[str, Any] = {"optimizer": label}
        for name, parameters in parameter_sets.items():
            row[f"{name}: torch"] = (None if theirs is None
                                     else state_bytes_per_parameter(theirs, hyperparameters, parameters))
            row[f"{name}: optim_lib"] = state_bytes_per_parameter(ours, hyperparameters, parameters)
        rows.append(row)
    return rows


def format_memory_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """:func:`memory_table`'s rows as a text table, bytes per parameter to 3 digits
    ("—" where torch has no such class)."""
    columns = [key for key in rows[0] if key != "optimizer"]
    header = "bytes of state per parameter"
    width = max(len(header), *(len(row["optimizer"]) for row in rows))
    widths = [max(len(c), 6) for c in columns]
    lines = [f"{header:{width}s}  " + "  ".join(f"{c:>{w}s}" for c, w in zip(columns, widths))]
    for row in rows:
        cells = ["—" if row[c] is None else f"{row[c]:.3g}" for c in columns]
        lines.append(f"{row['optimizer']:{width}s}  " + "  ".join(f"{cell:>{w}s}" for cell, w in zip(cells, widths)))
    return "\n".join(lines)
