r"""Learning-rate schedules, built on ``torch.optim.lr_scheduler``, and the learning-rate range test.

PyTorch already has the classic schedules, and the course uses them as they are:
constant (``ConstantLR``), step (``StepLR``), exponential (``ExponentialLR``), cosine
(``CosineAnnealingLR``, Loshchilov and Hutter 2017), linear warm-up then cosine
(``SequentialLR`` of ``LinearLR`` and ``CosineAnnealingLR``; Goyal et al. 2017) and 1cycle
(``OneCycleLR``; Smith and Topin 2019). This module adds what torch lacks:

* :class:`WSD`, the warm-up–stable–decay factor (Hu et al. 2024; Hägele et al. 2024) for
  ``LambdaLR``: linear warm-up to the peak, a long stretch at the peak, then a short decay (written
  in :mod:`optim_lib.live.schedule`, in plain Python, for the website's explorer too);
* :class:`Schedule`, one named schedule with its lengths, which builds the torch scheduler
  for an optimizer: ``train_network(..., scheduler=Schedule("cosine", total_steps=940))``
  (a :data:`~optim_lib.network.Scheduler`: a function optimizer → ``LRScheduler``);
* :func:`lr_range_test` and :func:`network_range_test`, the learning-rate range test of Smith
  (2017) in the form the fastai library's ``lr_find`` made common: one pass in which the
  learning rate grows exponentially, step by step, with the loss recorded after every step
  (Smith let it grow linearly over a few epochs and watched the accuracy).

Steps are counted as the trainers count them: the scheduler is stepped once after every
optimizer step, so step :math:`t = 1, 2, \dots, T` uses the factor that ``LambdaLR`` computes
for ``last_epoch = t - 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.optim import lr_scheduler

from .live.schedule import DECAY_SHAPES, EXPLORER_DECAYS, WSD, WSD_DECAY_FRACTION, check_fraction as _check_fraction
from .live.schedule import label as _label
from .live.schedule import plan as _plan
from .rules._checks import check_whole

__all__ = ["DECAY_SHAPES", "EXPLORER_DECAYS", "SCHEDULE_NAMES", "RangeTest", "Schedule", "WSD", "lr_range_test",
           "network_range_test", "schedule_factors"]

SCHEDULE_NAMES = ("constant", "step", "exponential", "cosine", "warmup_cosine", "one_cycle", "wsd")
"""The schedules :class:`Schedule` builds."""


@dataclass(frozen=True)
class Schedule:
    r"""A named learning-rate schedule of ``total_steps`` steps; calling it on an optimizer
    returns torch's scheduler for it (so it is a :data:`~optim_lib.network.Scheduler`).

    The optimizer's learning rate :math:`\eta` is the peak; each schedule multiplies it by a
    factor :math:`f_t` at step :math:`t` (``η_t = η f_t``):

    ``"constant"``
        ``ConstantLR(factor=1, total_iters=0)``: :math:`f_t = 1`.
    ``"step"``
        ``StepLR(step_size, gamma)``: :math:`f_t = \gamma^{\lfloor (t-1)/\text{step\_size} \rfloor}`.
    ``"exponential"``
        ``ExponentialLR(gamma)``: :math:`f_t = \gamma^{t-1}`.
    ``"cosine"``
        ``CosineAnnealingLR(T_max=total_steps, eta_min=final_factor * lr)``:
        :math:`f_t = \phi + (1-\phi)(1 + \cos(\pi (t-1)/T))/2`.
    ``"warmup_cosine"``
        ``SequentialLR`` of ``LinearLR(start_factor=1/W, total_iters=W-1)`` for the first
        :math:`W` steps (:math:`f_t = t/W`), then ``CosineAnnealingLR`` over the remaining
        :math:`T - W` steps (from :math:`f = 1`). Needs ``warmup_steps >= 1``.
    ``"one_cycle"``
        ``OneCycleLR(max_lr=lr, total_steps, pct_start=W/T)`` with torch's ``div_factor=25``
        and ``final_div_factor=1e4``: cosine up from :math:`\eta/25` to :math:`\eta` over the
        first :math:`W` steps, then cosine down to :math:`\eta/(25 \cdot 10^4)`. Momentum (or
        Adam's :math:`\beta_1`) is cycled only if ``cycle_momentum=True`` (torch's default is
        True; here the default is False, so that only the learning rate changes).
    ``"wsd"``
        ``LambdaLR(WSD(total_steps, warmup_steps, decay_steps, ...))``: see :class:`WSD`.

    ``cosine``'s ``eta_min`` is absolute in torch: it is computed from the first param
    group's learning rate when the scheduler is made.
    """

    name: str
    total_steps: int
    warmup_steps: int = 0
    """warmup_cosine, one_cycle, wsd."""
    decay_steps: int = 0
    """wsd only."""
    decay: str = "linear"
    """wsd only: one of :data:`DECAY_SHAPES`."""
    final_factor: float = 0.0
    """cosine, warmup_cosine, wsd: the last learning rate (about) ``final_factor * lr``."""
    step_size: int = 1
    """step only: steps between two drops."""
    gamma: float = 0.1
    """step, exponential: the factor per drop or per step, in (0, 1]."""
    cycle_momentum: bool = False
    """one_cycle only."""

    def __post_init__(self) -> None:
        if self.name not in SCHEDULE_NAMES:
            raise ValueError(f"name must be one of {SCHEDULE_NAMES}; got {self.name!r}")
        check_whole("total_steps", self.total_steps, 1)
        check_whole("warmup_steps", self.warmup_steps, 0, self.total_steps)
        check_whole("step_size", self.step_size, 1)
        _check_fraction("gamma", self.gamma, low_open=True)
        _check_fraction("final_factor", self.final_factor)
        if not isinstance(self.cycle_momentum, bool):
            raise ValueError(f"cycle_momentum must be True or False; got {self.cycle_momentum!r}")
        if self.name == "warmup_cosine" and not 1 <= self.warmup_steps < self.total_steps:
            raise ValueError(f"warmup_steps must be a whole number in [1, total_steps - 1] = "
                             f"[1, {self.total_steps - 1}] for warmup_cosine; got {self.warmup_steps!r}")
        if self.name == "one_cycle" and not 2 <= self.warmup_steps < self.total_steps:
            # OneCycleLR's warm-up phase ends at step pct_start * total_steps - 1: at least 1.
            raise ValueError(f"warmup_steps must be a whole number in [2, total_steps - 1] = "
                             f"[2, {self.total_steps - 1}] for one_cycle; got {self.warmup_steps!r}")
        if self.name == "wsd":
            WSD(self.total_steps, self.warmup_steps, self.decay_steps, decay=self.decay,
                final_factor=self.final_factor)  # checks decay_steps and decay

    def __call__(self, optimizer: torch.optim.Optimizer) -> lr_scheduler.LRScheduler:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ValueError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
        T, W = self.total_steps, self.warmup_steps
        if self.name == "constant":
            return lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
        if self.name == "step":
            return lr_scheduler.StepLR(optimizer, step_size=self.step_size, gamma=self.gamma)
        if self.name == "exponential":
            return lr_scheduler.ExponentialLR(optimizer, gamma=self.gamma)
        if self.name == "cosine":
            eta_min = self.final_factor * float(optimizer.param_groups[0]["lr"])
            return lr_scheduler.CosineAnnealingLR(optimizer, T_max=T, eta_min=eta_min)
        if self.name == "warmup_cosine":
            eta_min = self.final_factor * float(optimizer.param_groups[0]["lr"])
            warmup = lr_scheduler.LinearLR(optimizer, start_factor=1.0 / W, end_factor=1.0, total_iters=max(W - 1, 1))
            cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=T - W, eta_min=eta_min)
            return lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[W])
        if self.name == "one_cycle":
            return lr_scheduler.OneCycleLR(optimizer, max_lr=[float(g["lr"]) for g in optimizer.param_groups],
                                           total_steps=T, pct_start=W / T, cycle_momentum=self.cycle_momentum)
        return lr_scheduler.LambdaLR(optimizer, WSD(T, W, self.decay_steps, decay=self.decay,
                                                    final_factor=self.final_factor))

    def label(self) -> str:
        """A short name for legends: ``"warmup_cosine (W=47)"``, ``"wsd 1-sqrt (W=0, D=188)"``."""
        if self.name == "step":
            return f"step (every {self.step_size}, ×{self.gamma:g})"
        if self.name == "exponential":
            return f"exponential (×{self.gamma:g})"
        return _label(self.name, self.warmup_steps, self.decay_steps, self.decay)


def shaped_schedule(decay: str, total_steps: int, warmup_fraction: float) -> Schedule:
    """A linear warm-up over ``warmup_fraction`` of ``total_steps`` (rounded to whole
    steps), then ``decay``: ``"constant"`` (stay at the peak), ``"linear"`` (down to 0 at the
    last step), ``"cosine"`` (torch's ``CosineAnnealingLR`` over the remaining steps) or
    ``"wsd"`` (stable, then ``"1-sqrt"`` over the last :data:`WSD_DECAY_FRACTION`). The
    schedules of the explorer's sliders, as :class:`Schedule` objects."""
    explorer = _plan(decay, total_steps, warmup_fraction)
    return Schedule(explorer.name, total_steps, explorer.warmup_steps, decay_steps=explorer.decay_steps,
                    decay=explorer.decay)


def schedule_factors(scheduler: Callable[[torch.optim.Optimizer], lr_scheduler.LRScheduler], steps: int) -> np.ndarray:
    """The factor :math:`f_t = \\eta_t / \\eta` of each of ``steps`` steps that ``scheduler``
    gives (a :class:`Schedule` or any function optimizer → ``LRScheduler``), read off torch's
    scheduler on a one-parameter SGD with ``lr = 1`` and momentum 0.9 (for a schedule that
    cycles momentum), stepped as the trainers step it."""
    check_whole("steps", steps, 1)
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=1.0, momentum=0.9)
    schedule = scheduler(optimizer)
    factors = []
    for _ in range(steps):
        factors.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()  # no gradient: moves nothing, but lets torch see the order of calls
        schedule.step()
    return np.array(factors)


# --- The learning-rate range test ---------------------------------------------------------------


@dataclass(frozen=True)
class RangeTest:
    """What a learning-rate range test recorded: the loss after each step against the
    learning rate that step used."""

    learning_rates: np.ndarray
    """The learning rate of each step, growing by the same factor every step."""
    losses: np.ndarray
    """The loss after each step (the step taken at ``learning_rates[k]``)."""
    initial_loss: float
    """The loss before the first step."""
    optimizer: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    stopped_at_lr: float | None = None
    """The learning rate of the step after which the loss passed ``stop_factor`` times the
    smallest loss so far (or stopped being finite); the test ended there. ``None``: it ran
    to ``max_lr``."""

    @property
    def best_lr(self) -> float:
        """The learning rate whose step left the smallest loss."""
        finite = np.where(np.isfinite(self.losses), self.losses, np.inf)
        return float(self.learning_rates[int(np.argmin(finite))])

    def summary(self) -> str:
        stop = "ran to the end" if self.stopped_at_lr is None else f"loss blew up at lr {self.stopped_at_lr:.3g}"
        return (f"{self.optimizer}: {len(self.losses)} steps from lr {self.learning_rates[0]:.3g} to "
                f"{self.learning_rates[-1]:.3g}; smallest loss {np.nanmin(self.losses):.4g} at lr {self.best_lr:.3g}; "
                f"{stop}")


def _check_range(min_lr: Any, max_lr: Any, steps: Any, stop_factor: Any) -> None:
    for name, value in (("min_lr", min_lr), ("max_lr", max_lr)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) < math.inf:
            raise ValueError(f"{name} must be a number in (0, inf); got {value!r}")
    if not min_lr < max_lr:
        raise ValueError(f"max_lr must be larger than min_lr = {min_lr!r}; got {max_lr!r}")
    check_whole("steps", steps, 2)
    if isinstance(stop_factor, bool) or not isinstance(stop_factor, (int, float)) or not 1.0 < float(stop_factor):
        raise ValueError(f"stop_factor must be a number in (1, inf]; got {stop_factor!r}")


def lr_range_test(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    parameters: Sequence[torch.Tensor],
    loss: Callable[[int], float],
    *,
    min_lr: float = 1e-5,
    max_lr: float = 10.0,
    steps: int = 100,
    stop_factor: float = 4.0,
) -> RangeTest:
    r"""The learning-rate range test (Smith 2017; here in its exponential form, as fastai's
    ``lr_find`` runs it): ``steps`` steps whose learning rate grows exponentially from
    ``min_lr`` to ``max_lr``, :math:`\eta_k = \eta_{\min}
    (\eta_{\max}/\eta_{\min})^{k/(K-1)}` for :math:`k = 0, \dots, K-1`, recording the loss
    after every step.

    Args:
        optimizer_class: any ``torch.optim.Optimizer`` class; made once on ``parameters``.
        hyperparameters: its other constructor arguments (``lr`` is set by the test).
        parameters: the tensors to train (changed in place).
        loss: ``loss(k)`` returns the loss at the parameters as they are and sets each
            parameter's ``.grad`` for step ``k`` (e.g. on the k-th minibatch). It is called
            before the first step (``k = 0``) and after each step ``k - 1``, so
            ``loss(steps)`` gives the last step's loss (its gradient is not used).
        min_lr, max_lr: the first and the last learning rate.
        steps: :math:`K`.
        stop_factor: stop once a loss exceeds this many times the smallest loss so far, or
            is not finite (fastai's choice is 4).

    Returns:
        A :class:`RangeTest`. Its loss is the one ``loss`` returns: on minibatches, noisy; a
        loss on fixed data (the full training set) gives a smooth curve.
    """
    _check_range(min_lr, max_lr, steps, stop_factor)
    hyperparameters = {**dict(hyperparameters or {}), "lr": float(min_lr)}
    optimizer = optimizer_class(list(parameters), **hyperparameters)
    ratio = float(max_lr) / float(min_lr)
    learning_rates, losses = [], []
    stopped_at = None
    with np.errstate(all="ignore"):
        initial = float(loss(0))
        best = initial
        for k in range(steps):
            lr = float(min_lr) * ratio ** (k / (steps - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.step()
            after = float(loss(k + 1))  # also the gradient for the next step
            learning_rates.append(lr)
            losses.append(after)
            if not math.isfinite(after) or after > stop_factor * best:
                stopped_at = lr
                break
            best = min(best, after)
    return RangeTest(np.array(learning_rates), np.array(losses), initial, optimizer_class.__name__,
                     {key: value for key, value in hyperparameters.items() if key != "lr"}, stopped_at)


def network_range_test(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    data: Any,
    *,
    min_lr: float = 1e-5,
    max_lr: float = 10.0,
    batch_size: int = 16,
    seed: int = 0,
    hidden: Sequence[int] = (64,),
    stop_factor: float = 4.0,
) -> RangeTest:
    """:func:`lr_range_test` on the digits network: one pass over the training images in
    minibatches of ``batch_size`` (shuffled as :func:`~optim_lib.network.train_network`
    shuffles its first epoch), one step per minibatch, from the network that
    ``train_network`` starts from with the same ``seed``; the loss recorded after each step
    is the mean cross-entropy on all training images (a smooth curve, where the minibatch's
    own loss would be noisy)."""
    from .digits import DigitsData
    from .network import _LayerViews, _loss_and_accuracy, build_network, loss_and_gradients

    if not isinstance(data, DigitsData):
        raise ValueError(f"data must be the DigitsData that load_digits returns; got {type(data).__name__}")
    check_whole("batch_size", batch_size, 1, data.n_train)
    check_whole("seed", seed, 0)
    generator = torch.Generator().manual_seed(seed)
    network = build_network(hidden, generator=generator)
    parameters = list(network.parameters())
    X, y = data.X_train.numpy(), data.y_train.numpy()
    order = torch.randperm(len(y), generator=generator).numpy()
    X_epoch, y_epoch = X[order], y[order]
    starts = list(range(0, len(y), batch_size))
    layers = _LayerViews(parameters)

    def loss(k: int) -> float:
        if k < len(starts):
            batch = slice(starts[k], starts[k] + batch_size)
            _, gradients = loss_and_gradients(layers(), X_epoch[batch], y_epoch[batch])
            for p, g in zip(parameters, gradients):
                p.grad = torch.from_numpy(g)
        return _loss_and_accuracy(layers(), X, y)[0]

    return lr_range_test(optimizer_class, hyperparameters, parameters, loss, min_lr=min_lr, max_lr=max_lr,
                         steps=len(starts), stop_factor=stop_factor)
