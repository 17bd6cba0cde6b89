r"""The schedule explorer's learning-rate schedules in plain Python, computed as torch computes them.

The kernel's schedule explorer drives the optimizer with ``torch.optim.lr_scheduler`` itself
(:func:`optim_lib.schedules.shaped_schedule`); the website's copy of it runs in the reader's
browser, where torch does not exist. This module gives the browser the same learning rate at
every step: :meth:`Plan.learning_rates` repeats the arithmetic of torch 2.13's schedulers
(``ConstantLR``, ``CosineAnnealingLR``'s recursive form, ``SequentialLR`` of ``LinearLR``
and ``CosineAnnealingLR``, and ``LambdaLR`` with :class:`WSD`) operation for operation, so
that in CPython it equals what torch's scheduler sets, bit for bit (tests/test_schedules.py
checks every setting of the explorer's sliders against torch). :class:`WSD`, the factor torch
lacks, lives here for the same reason; :mod:`optim_lib.schedules` builds torch's schedulers
from it.

Steps are counted from 1: step :math:`t` runs at the learning rate torch's scheduler holds
after :math:`t - 1` calls of ``scheduler.step()`` (one after every optimizer step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..rules._checks import check_whole

DECAY_SHAPES = ("linear", "cosine", "1-sqrt")
r"""How :class:`WSD` decays, as a function of the fraction :math:`s \in (0, 1]` of the decay
done: ``"linear"`` :math:`1 - s`; ``"cosine"`` :math:`(1 + \cos \pi s)/2`; ``"1-sqrt"``
:math:`1 - \sqrt{s}` (Hägele et al. 2024's best cool-down)."""

EXPLORER_DECAYS = ("constant", "linear", "cosine", "wsd")
"""The schedule explorer's decay shapes (after the warm-up): see :func:`plan`."""

WSD_DECAY_FRACTION = 0.2
"""The explorer's WSD decays over the last 20 % of the steps, with the ``"1-sqrt"`` shape
(Hägele et al. 2024's recommendation)."""


def check_fraction(name: str, value: object, *, low_open: bool = False) -> float:
    """``value`` as a float in [0, 1] (or (0, 1] with ``low_open``), or a ``ValueError``
    naming ``name``, the range and the value."""
    interval = f"{'(0' if low_open else '[0'}, 1]"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number in {interval}; got {value!r}")
    x = float(value)
    if not ((0.0 < x <= 1.0) if low_open else (0.0 <= x <= 1.0)):
        raise ValueError(f"{name} must be a number in {interval}; got {value!r}")
    return x


class WSD:
    r"""The warm-up–stable–decay factor, for ``torch.optim.lr_scheduler.LambdaLR``.

    With :math:`W` warm-up steps, :math:`D` decay steps out of :math:`T`, and a final factor
    :math:`\phi`, step :math:`t = 1, \dots, T` runs at :math:`\eta_t = \eta\, f_t` with

    .. math::
        f_t = \begin{cases}
            t / W & 1 \le t \le W \quad\text{(warm-up)}\\
            1 & W < t \le T - D \quad\text{(stable)}\\
            \phi + (1 - \phi)\, d\big((t - T + D) / D\big) & T - D < t \le T \quad\text{(decay)}
        \end{cases}

    where :math:`d` is the decay shape (:data:`DECAY_SHAPES`): it goes from 1 towards 0, and
    the last step runs at exactly :math:`\phi\,\eta`. ``LambdaLR`` calls the factor with its
    ``last_epoch``, which is :math:`t - 1` at step :math:`t`: ``WSD(...)(k)`` is
    :math:`f_{k+1}`. Past the last step the factor stays at :math:`\phi`.

    Args:
        total_steps: :math:`T`, the optimizer steps of the whole run.
        warmup_steps: :math:`W`, in ``[0, total_steps - decay_steps]``; 0 starts at the peak.
        decay_steps: :math:`D`, in ``[0, total_steps - warmup_steps]``; 0 never decays.
        decay: the shape :math:`d`, one of :data:`DECAY_SHAPES`.
        final_factor: :math:`\phi \in [0, 1]`.

    Hu et al. (2024, MiniCPM) named the schedule and decayed over about 10 % of training;
    Hägele et al. (2024) found 20 % with the ``"1-sqrt"`` shape to match a cosine schedule.
    """

    def __init__(self, total_steps: int, warmup_steps: int = 0, decay_steps: int = 0, *,
                 decay: str = "linear", final_factor: float = 0.0) -> None:
        check_whole("total_steps", total_steps, 1)
        check_whole("warmup_steps", warmup_steps, 0, total_steps)
        check_whole("decay_steps", decay_steps, 0, total_steps - warmup_steps)
        if decay not in DECAY_SHAPES:
            raise ValueError(f"decay must be one of {DECAY_SHAPES}; got {decay!r}")
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.decay_steps = decay_steps
        self.decay = decay
        self.final_factor = check_fraction("final_factor", final_factor)

    def __repr__(self) -> str:
        return (f"WSD(total_steps={self.total_steps}, warmup_steps={self.warmup_steps}, "
                f"decay_steps={self.decay_steps}, decay={self.decay!r}, final_factor={self.final_factor})")

    def __call__(self, last_epoch: int) -> float:
        t = last_epoch + 1  # the step about to be taken, counted from 1
        if t <= self.warmup_steps:
            return t / self.warmup_steps
        decay_start = self.total_steps - self.decay_steps
        if t <= decay_start or self.decay_steps == 0:
            return 1.0
        s = min(1.0, (t - decay_start) / self.decay_steps)
        if self.decay == "linear":
            d = 1.0 - s
        elif self.decay == "cosine":
            d = (1.0 + math.cos(math.pi * s)) / 2.0
        else:
            d = 1.0 - math.sqrt(s)
        return self.final_factor + (1.0 - self.final_factor) * d


def label(name: str, warmup_steps: int = 0, decay_steps: int = 0, decay: str = "linear") -> str:
    """A schedule's short name for legends and summaries: ``"warmup_cosine (W=47)"``,
    ``"wsd 1-sqrt (W=0, D=188)"``, ``"cosine"``."""
    if name == "wsd":
        return f"wsd {decay} (W={warmup_steps}, D={decay_steps})"
    if name in ("warmup_cosine", "one_cycle"):
        return f"{name} (W={warmup_steps})"
    return name


@dataclass(frozen=True)
class Plan:
    """One of the explorer's schedules: a name of :class:`optim_lib.schedules.Schedule` and
    its lengths (the final factor is 0)."""

    name: str
    """``"constant"``, ``"cosine"``, ``"warmup_cosine"`` or ``"wsd"``."""
    total_steps: int
    warmup_steps: int = 0
    decay_steps: int = 0
    decay: str = "linear"

    def label(self) -> str:
        return label(self.name, self.warmup_steps, self.decay_steps, self.decay)

    def learning_rates(self, lr: float) -> list[float]:
        """The learning rate of each step ``t = 1, ..., total_steps`` for the peak ``lr``, as
        torch's scheduler for this schedule sets it (the same operations in the same order)."""
        T, W = self.total_steps, self.warmup_steps
        lr = float(lr)
        if self.name == "constant":
            return [lr * 1.0] * T  # ConstantLR(factor=1, total_iters=0): lr * factor, then unchanged
        if self.name == "wsd":
            factor = WSD(T, W, self.decay_steps, decay=self.decay)
            return [lr * factor(k) for k in range(T)]  # LambdaLR: base_lr * lambda(last_epoch)
        if self.name == "cosine":
            return _cosine(lr, lr, T, T, eta_min=0.0 * lr)
        if self.name == "warmup_cosine":
            # SequentialLR: LinearLR(start_factor=1/W, total_iters=max(W-1, 1)) for steps 1..W,
            # then CosineAnnealingLR(T_max=T-W) restarted in its closed form at the milestone.
            start, end, total_iters = 1.0 / W, 1.0, max(W - 1, 1)
            rates = [lr * start]
            for epoch in range(1, W):
                previous = rates[-1]
                if epoch > total_iters:
                    rates.append(previous)
                else:
                    rates.append(previous * (1.0 + (end - start) / (total_iters * start + (epoch - 1) * (end - start))))
            eta_min = 0.0 * lr
            first = eta_min + (lr - eta_min) * (1 + math.cos(math.pi * 0 / (T - W))) / 2
            return rates + _cosine(first, lr, T - W, T - W, eta_min)
        raise ValueError(f"no plain-Python learning rates for the schedule {self.name!r}")


def _cosine(first: float, base_lr: float, T_max: int, steps: int, eta_min: float) -> list[float]:
    """``CosineAnnealingLR``'s learning rates over ``steps`` steps from ``first``: torch's
    recursive form, ``lr_e = (1 + cos(pi e / T)) / (1 + cos(pi (e - 1) / T)) (lr_{e-1} - eta_min)
    + eta_min`` (and its other case, one period on, where the recursion would divide by 0)."""
    rates = [first]
    for epoch in range(1, steps):
        previous = rates[-1]
        if (epoch - 1 - T_max) % (2 * T_max) == 0:
            rates.append(previous + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2)
        else:
            rates.append((1 + math.cos(math.pi * epoch / T_max)) / (1 + math.cos(math.pi * (epoch - 1) / T_max))
                         * (previous - eta_min) + eta_min)
    return rates


def plan(decay: str, total_steps: int, warmup_fraction: float) -> Plan:
    """The explorer's schedule: a linear warm-up over ``warmup_fraction`` of ``total_steps``
    (rounded to whole steps), then ``decay``: ``"constant"`` (stay at the peak), ``"linear"``
    (down to 0 at the last step), ``"cosine"`` (torch's ``CosineAnnealingLR`` over the
    remaining steps) or ``"wsd"`` (stable, then ``"1-sqrt"`` over the last
    :data:`WSD_DECAY_FRACTION`)."""
    if decay not in EXPLORER_DECAYS:
        raise ValueError(f"decay must be one of {EXPLORER_DECAYS}; got {decay!r}")
    check_whole("total_steps", total_steps, 2)
    fraction = check_fraction("warmup_fraction", warmup_fraction)
    if fraction > 0.5:
        raise ValueError(f"warmup_fraction must be a number in [0, 0.5]; got {warmup_fraction!r}")
    W = round(fraction * total_steps)
    if decay == "constant":
        return Plan("constant", total_steps) if W == 0 else Plan("wsd", total_steps, W)
    if decay == "cosine":
        return Plan("cosine", total_steps) if W == 0 else Plan("warmup_cosine", total_steps, W)
    if decay == "linear":
        return Plan("wsd", total_steps, W, decay_steps=total_steps - W, decay="linear")
    D = min(round(WSD_DECAY_FRACTION * total_steps), total_steps - W)
    return Plan("wsd", total_steps, W, decay_steps=D, decay="1-sqrt")


def steps(examples: int, batch_size: int, epochs: int) -> int:
    """The optimizer steps of ``epochs`` epochs over ``examples`` in minibatches of
    ``batch_size`` (the last one of each epoch may be smaller)."""
    return -(-examples // batch_size) * epochs


def title(run_title: str, warmup: float, decay: str) -> str:
    """The schedule explorer's title: the run's, then the schedule's sliders."""
    return f"{run_title}; warm-up {warmup:.0%}, then {decay}"


def summary(schedule: Plan, run_summary: str) -> str:
    """The schedule explorer's summary: the schedule (a :class:`Plan`, or anything with its
    ``label()`` and ``total_steps``, like :class:`optim_lib.schedules.Schedule`), then the run's."""
    return f"{schedule.label()}, {schedule.total_steps} steps: {run_summary}"


def baseline_summary(optimizer: str, run_summary: str) -> str:
    """The summary's line for the baseline, which keeps a constant learning rate."""
    return f"\nbaseline {optimizer} (constant lr): {run_summary}"


# --- The learning-rate panel's axis -------------------------------------------------------------

LR_TICKS = 5
"""The learning-rate panel's tick intervals: ticks at 0, top/5, ..., top."""


def lr_axis_top(peak: float) -> float:
    """The learning-rate panel's top for runs whose largest learning rate is ``peak`` (> 0):
    the smallest of 1, 2, 5 times a power of ten that is at least ``1.05 * peak``, so the
    highest step shows below the top and the ticks fall on round numbers."""
    value = 1.05 * peak
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= value)


def lr_ticks(top: float) -> list[float]:
    """The learning-rate panel's ticks for ``top``."""
    return [top * k / LR_TICKS for k in range(LR_TICKS + 1)]


def tick_label(value: float) -> str:
    """A learning-rate tick's label: ``"0.3"`` for ``0.30000000000000004``."""
    return f"{value:g}"
