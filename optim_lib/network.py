r"""Train a small neural network on the handwritten digits and return what happened.

The network experiment: a multilayer perceptron, ``torch.nn.Sequential`` of ``Linear``
layers with a ReLU between each two (64 pixels → the hidden widths → 10 logits, one per
digit; 64–64–10 by default), trained on minibatches with the softmax cross-entropy

.. math::
    \ell(z, y) = \log \sum_{k} e^{z_k} - z_y ,

averaged over the minibatch, by any ``torch.optim.Optimizer`` class.

How it is trained, and why:

* The network is built with ``torch.nn`` and its parameters are what the optimizer steps
  (``optimizer_class(network.parameters(), ...)``), as in any PyTorch script.
* The initial weights are PyTorch's default for ``Linear`` (below), drawn from a seeded
  ``torch.Generator``, so the run depends on ``seed`` and on nothing global.
* The gradient is backpropagation written out in NumPy (:func:`loss_and_gradients`, a
  dozen lines; a test checks it against autograd on the same ``torch.nn`` network) and
  handed to the optimizer through ``.grad``. On a 32-image minibatch of the default
  network, a forward and backward pass through autograd took 2.4 to 2.9 times as long as
  this one (165 to 265 against 65 to 92 microseconds, on a busy 2-core machine): each of
  its operations pays autograd's and torch's fixed costs on arrays this small. The
  written-out pass is what makes a re-train short enough for a slider.
* Minibatches are slices of the training set shuffled once per epoch (no ``DataLoader``);
  the loss on all training images is recorded at the end of every epoch (or every
  ``record_every`` examples), the test loss and accuracy at the end of every epoch, each
  in one pass over the whole set.
* An optimizer with a ``train()``/``eval()`` pair (schedule-free AdamW, optim_lib's or the
  schedulefree package's) takes its steps in train mode, where the gradient is taken at
  :math:`y`, and every loss and accuracy is recorded in eval mode, at the average
  :math:`x` one evaluates, as the package's documentation asks; the run ends in eval mode.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .digits import N_CLASSES, N_PIXELS, DigitsData
from .live import text
from .optimizers.base import has_modes
from .rules._checks import check_whole

__all__ = ["LOSS_LIMIT", "NetworkRun", "build_network", "layer_gradient_scales", "loss_and_gradients", "train_network"]

LOSS_LIMIT = 1e4
"""A loss above this (or not finite) counts as diverged, and training stops there.

Guessing uniformly costs ``log 10 ≈ 2.3``. Cross-entropy rarely overflows (even SGD at
``lr=300`` kept every loss finite in float32, peaking near 5e7), so "huge" needs a number,
and a transient spike is not the end of a run: Adagrad at ``lr=3`` passes 3e3 at its
second step and, trained on, ends at 78 % test accuracy. Measured on the default network
(all six optimizers, learning rates up to 300, two seeds, trained to the end without a
limit): no run whose minibatch loss passed 1e4 ended above 47 % test accuracy, and half
of them ended at chance (10 %)."""

Scheduler = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]
Layers = list[tuple[np.ndarray, np.ndarray]]


def _check_hidden(hidden: Any) -> tuple[int, ...]:
    widths = tuple(hidden) if isinstance(hidden, (tuple, list)) else None
    if widths is None or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths):
        raise ValueError(
            "hidden must be a tuple of whole numbers >= 1, the widths of the hidden layers "
            f"(e.g. (64,), or () for none); got {hidden!r}"
        )
    return widths


def _initialize(layer: torch.nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's default initialization of ``Linear``, with ``generator``: weights and
    biases uniform in ``±1/sqrt(fan_in)`` (``nn.Linear.reset_parameters``: Kaiming-uniform
    with ``a = sqrt(5)``, the weights drawn first)."""
    bound = 1 / math.sqrt(layer.in_features)
    with torch.no_grad():
        torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def build_network(hidden: Sequence[int] = (64,), *, generator: torch.Generator | None = None,
                  seed: int = 0) -> torch.nn.Sequential:
    """The 64 → ``hidden`` → 10 perceptron with ReLUs, initialized from ``generator``
    (or a fresh one seeded with ``seed``), never from torch's global random state.

    Initialization: PyTorch's own default for ``Linear`` (a ``torch.nn.Linear(64, 64)``
    built after ``torch.manual_seed(s)`` has the same weights as this with ``seed=s``), so
    that the network is the one a reader gets from ``torch.nn`` and the optimizers are
    compared on the usual starting point. Its weights have variance ``1 / (3 fan_in)``, a
    sixth of He et al.'s ``2 / fan_in`` for ReLU networks, so backpropagation shrinks the
    gradient at every layer it passes: at the start, on 256 training images (median of
    seeds 0 to 2), the first layer's weight gradient is 2 times smaller (RMS) than the
    last's in the default network, about 100 times with ``hidden=(16,) * 8`` and about
    5000 times with ``(16,) * 12``.
    """
    widths = _check_hidden(hidden)
    if generator is None:
        check_whole("seed", seed, 0)
        generator = torch.Generator().manual_seed(seed)
    sizes = (N_PIXELS, *widths, N_CLASSES)
    modules: list[torch.nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        # skip_init: built without drawing from the global generator, then initialized here.
        layer = torch.nn.utils.skip_init(torch.nn.Linear, fan_in, fan_out)
        _initialize(layer, generator)
        modules += [layer, torch.nn.ReLU()]
    return torch.nn.Sequential(*modules[:-1])  # no ReLU on the logits


def _layers(parameters: Sequence[torch.Tensor]) -> Layers:
    """Zero-copy NumPy views ``(W, b)`` of each ``Linear``."""
    arrays = [p.detach().numpy() for p in parameters]
    return list(zip(arrays[0::2], arrays[1::2]))


class _LayerViews:
    """:func:`_layers` of the network, made again only when an optimizer has given a
    parameter new memory (making the views costs a few microseconds a step)."""

    def __init__(self, parameters: list[torch.Tensor]) -> None:
        self.parameters = parameters
        self.addresses: list[int] = []
        self.layers: Layers = []

    def __call__(self) -> Layers:
        addresses = [p.data_ptr() for p in self.parameters]
        if addresses != self.addresses:
            self.addresses, self.layers = addresses, _layers(self.parameters)
        return self.layers


def _forward(layers: Layers, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The logits, and the input of every layer (the pixels, then each ReLU's output)."""
    inputs = [X]
    for W, b in layers[:-1]:
        X = np.maximum(X @ W.T + b, 0)
        inputs.append(X)
    W, b = layers[-1]
    return X @ W.T + b, inputs


def _cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean cross-entropy, and the softmax probabilities. The logits are shifted by
    their row's maximum first, which changes neither and keeps ``exp`` from overflowing."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = float((np.log(total[:, 0]) - shifted[np.arange(len(y)), y]).sum()) / len(y)
    return loss, exp / total


def loss_and_gradients(layers: Layers, X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """The minibatch's mean cross-entropy and its gradient for every weight and bias
    (``[dW1, db1, dW2, db2, ...]``, the order of ``network.parameters()``), by
    backpropagation.

    With ``z`` the logits and ``p = softmax(z)``, the loss's gradient is
    ``(p - onehot(y)) / n``; through ``z = a W^T + b`` it gives ``dW = dz^T a``,
    ``db = sum(dz)``, ``da = dz W``, and through ``a = relu(u)``, ``du = da`` where
    ``u > 0`` (equivalently ``a > 0``), else 0.
    """
    logits, inputs = _forward(layers, X)
    loss, dz = _cross_entropy(logits, y)
    dz[np.arange(len(y)), y] -= 1
    dz /= len(y)
    gradients: list[np.ndarray] = []
    for i in reversed(range(len(layers))):
        W, a = layers[i][0], inputs[i]
        gradients[:0] = [dz.T @ a, dz.sum(axis=0)]  # dW, db
        if i > 0:
            dz = dz @ W
            dz *= a > 0
    return loss, gradients


def layer_gradient_scales(network: torch.nn.Sequential, data: DigitsData, *, examples: int | None = None) -> np.ndarray:
    """The size of each layer's weight gradient: the root mean square of the entries of
    ``dW`` for every ``Linear`` of ``network`` (first layer first), for the mean
    cross-entropy on the first ``examples`` training images (default: all of them).

    How far apart these are says how far apart the step sizes of plain (stochastic)
    gradient descent are from layer to layer, one learning rate for all; an optimizer that
    divides by a per-coordinate gradient scale (Adam, RMSProp, ...) or that normalizes each
    matrix's update (Muon) takes steps of about the same size in every layer.
    """
    if not isinstance(network, torch.nn.Sequential) or not any(isinstance(m, torch.nn.Linear) for m in network):
        raise TypeError(f"network must be a torch.nn.Sequential of Linear layers (build_network's); got {network!r}")
    if not isinstance(data, DigitsData):
        raise TypeError(f"data must be the DigitsData that load_digits returns; got {type(data).__name__}")
    if examples is not None:
        check_whole("examples", examples, 1, data.n_train)
    rows = slice(None, examples)
    X, y = data.X_train.numpy()[rows], data.y_train.numpy()[rows]
    with torch.no_grad():
        layers = _layers(list(network.parameters()))
        with np.errstate(all="ignore"):
            _, gradients = loss_and_gradients(layers, X, y)
    return np.array([float(np.sqrt(np.mean(np.square(dW, dtype=np.float64)))) for dW in gradients[0::2]])


BLAS_SINGLE_THREAD_MACS = 2**18
"""OpenBLAS (NumPy's) runs an ``m × k`` by ``k × n`` product on one thread when
``m n k <= 65536 * GEMM_MULTITHREAD_THRESHOLD`` (4 unless built otherwise; OpenBLAS's
``interface/gemm.c``), and on every core above."""


def _rows_per_pass(layers: Layers) -> int:
    """How many rows of a data set to push through the network at once so that every
    product stays on one thread: see :func:`_loss_and_accuracy`."""
    return max(1, BLAS_SINGLE_THREAD_MACS // max(W.size for W, _ in layers))


def _loss_and_accuracy(layers: Layers, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The mean cross-entropy and the accuracy on all of ``X``, a block of rows at a time.

    One product over all 1500 training rows would run on every core, and a product that
    needs both cores waits whenever the other one is busy. On this course's shared 2-core
    machine, under load, default runs whose passes were one product each took a median
    of 1074 ms, against 473 ms with blocks of rows that each stay on one thread, as here
    (7 interleaved runs). On an idle machine the blocks cost about 5 ms a run more (the
    first layer's product over 1500 rows timed alone: 88 µs at once, 320 µs in blocks).
    """
    rows = _rows_per_pass(layers)
    logits = np.concatenate([_forward(layers, X[start : start + rows])[0] for start in range(0, len(X), rows)])
    loss, _ = _cross_entropy(logits, y)
    return loss, float((logits.argmax(axis=1) == y).sum()) / len(y)


def _is_diverged(loss: float) -> bool:
    return not (math.isfinite(loss) and loss <= LOSS_LIMIT)


@dataclass(frozen=True)
class NetworkRun:
    """What a training run did: loss curves, test accuracy, time, divergence."""

    train_epochs: np.ndarray
    """Where the training loss was recorded, in epochs (0 is before training)."""
    train_losses: np.ndarray
    """The mean cross-entropy on all training examples there."""
    test_epochs: np.ndarray
    """0 (before training), then the end of each epoch completed."""
    test_losses: np.ndarray
    test_accuracies: np.ndarray
    """The fraction of test images whose largest logit is the right digit."""
    learning_rates: np.ndarray
    """The learning rate of each step (the first param group's ``lr``, as the step used it)."""
    seconds: float
    """Wall time of the whole run: the steps and all the recording."""
    optimizer: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    batch_size: int = 32
    epochs: int = 20
    hidden: tuple[int, ...] = (64,)
    seed: int = 0
    diverged_at_step: int | None = None
    """How many steps had been taken when a loss first was not finite or above
    :data:`LOSS_LIMIT` (training stopped there)."""
    diverged_at: float | None = None
    """The same moment in epochs."""
    network: torch.nn.Sequential | None = field(default=None, repr=False, compare=False)
    """The trained network (its parameters as the last step left them; for an optimizer
    with ``train()``/``eval()``, in eval mode: schedule-free AdamW's average :math:`x`)."""

    @property
    def steps(self) -> int:
        return len(self.learning_rates)

    @property
    def final_test_accuracy(self) -> float:
        """After the last completed epoch (NaN if training diverged in the first)."""
        return float(self.test_accuracies[-1]) if len(self.test_epochs) > 1 else math.nan

    @property
    def final_test_loss(self) -> float:
        return float(self.test_losses[-1]) if len(self.test_epochs) > 1 else math.nan

    @property
    def weight_norm(self) -> float:
        """The Euclidean norm of all the trained network's parameters, weights and biases,
        taken as one vector (NaN if the run kept no network)."""
        if self.network is None:
            return math.nan
        with torch.no_grad():
            return float(torch.sqrt(sum((p.double() ** 2).sum() for p in self.network.parameters())))

    def summary(self) -> str:
        """One line: the test accuracy and losses at the end, or where it diverged."""
        if self.diverged_at is not None:
            return f"diverged at step {self.diverged_at_step} (epoch {self.diverged_at:.2f})"
        trained = int(self.test_epochs[-1])
        return (
            f"test accuracy {self.final_test_accuracy:.1%}, test loss {self.final_test_loss:.3f}, "
            f"train loss {float(self.train_losses[-1]):.3f} after {trained} epochs, "
            f"{self.seconds / trained:.3f} sec/epoch"
        )

    def title(self) -> str:
        """The run and its batch size, as the other experiments' figures name a run."""
        return text.loss_title(self.optimizer, self.hyperparameters, self.batch_size)


def _check_arguments(optimizer_class: Any, data: Any, batch_size: Any, epochs: Any, seed: Any,
                     record_every: Any, scheduler: Any) -> None:
    if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)):
        raise TypeError(f"optimizer_class must be a torch.optim.Optimizer subclass; got {optimizer_class!r}")
    if not isinstance(data, DigitsData):
        raise TypeError(f"data must be the DigitsData that load_digits returns; got {type(data).__name__}")
    check_whole("batch_size", batch_size, 1, data.n_train)
    check_whole("epochs", epochs, 1)
    check_whole("seed", seed, 0)
    if record_every is not None:
        check_whole("record_every", record_every, 1)
    if scheduler is not None and not callable(scheduler):
        raise TypeError(f"scheduler must be a function optimizer -> LRScheduler, or None; got {scheduler!r}")


def _make_scheduler(scheduler: Scheduler, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    made = scheduler(optimizer)
    if not isinstance(made, torch.optim.lr_scheduler.LRScheduler):
        raise TypeError(f"scheduler(optimizer) must return a torch.optim.lr_scheduler.LRScheduler; got {made!r}")
    if isinstance(made, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise ValueError("scheduler: ReduceLROnPlateau steps on a metric; the trainer steps schedulers "
                         "once per optimizer step without one")
    return made


def train_network(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    data: DigitsData,
    *,
    batch_size: int = 32,
    epochs: int = 20,
    seed: int = 0,
    hidden: Sequence[int] = (64,),
    scheduler: Scheduler | None = None,
    record_every: int | None = None,
) -> NetworkRun:
    """Train the perceptron on ``data`` with minibatches and return what happened.

    Args:
        optimizer_class: an optim_lib class or any ``torch.optim.Optimizer`` subclass whose
            ``step()`` needs no closure.
        hyperparameters: its constructor arguments, e.g. ``{"lr": 0.01}``.
        data: from :func:`~optim_lib.digits.load_digits` (loaded once by the caller: a
            runner never reads files).
        batch_size: examples per step, from 1 to the number of training examples (the
            last minibatch of an epoch holds what is left: 28 of 1500 at 32).
        epochs: passes over the training examples.
        seed: seeds one ``torch.Generator`` that draws the initial weights, then each
            epoch's order of the examples. Same seed, same run, bit for bit; the global
            random state and thread settings are neither used nor changed.
        hidden: the widths of the hidden layers: ``(64,)`` is 64–64–10, ``(16,) * 6`` a
            deep, narrow network, ``()`` softmax regression.
        scheduler: ``None``, or a function that takes the optimizer and returns a
            ``torch.optim.lr_scheduler.LRScheduler`` on it, e.g.
            ``lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=470, gamma=0.5)``.
            It is called once, after the optimizer is made, and the scheduler is stepped
            once after every optimizer step, so its ``step_size``, ``T_max``,
            ``total_steps`` and the like count steps, not epochs (a default run takes 940).
        record_every: record the loss on all training examples every this many examples
            and after the last step; ``None`` (the default): at the end of every epoch, with
            the test loss. Each record is a forward pass over all 1500 training images:
            recording four times an epoch made a default run 1.2 times as long.

    Modes: if the optimizer has ``train()`` and ``eval()`` (schedule-free AdamW), each step's
    gradient is computed in train mode (at :math:`y`) and every recorded loss and accuracy
    in eval mode (at :math:`x`); the run ends in eval mode. The divergence check on the
    minibatch loss is made at :math:`y`, where that loss is computed.

    Divergence: a loss that is not finite or exceeds :data:`LOSS_LIMIT` stops training; the
    result says at which step and epoch (``diverged_at_step``, ``diverged_at``). Nothing is
    raised and nothing is printed or warned.
    """
    _check_arguments(optimizer_class, data, batch_size, epochs, seed, record_every, scheduler)
    hyperparameters = dict(hyperparameters or {})
    generator = torch.Generator().manual_seed(seed)
    network = build_network(hidden, generator=generator)
    parameters = list(network.parameters())
    optimizer = optimizer_class(parameters, **hyperparameters)  # checks the hyperparameters
    schedule = None if scheduler is None else _make_scheduler(scheduler, optimizer)
    group = optimizer.param_groups[0]
    modes = has_modes(optimizer)
    X, y = data.X_train.numpy(), data.y_train.numpy()
    X_test, y_test = data.X_test.numpy(), data.y_test.numpy()
    n = len(y)
    record_every = n if record_every is None else record_every

    train_epochs, train_losses = [0.0], []
    test_epochs, test_losses, test_accuracies = [], [], []
    learning_rates: list[float] = []
    diverged_at_step = None
    seen = 0

    layers = _LayerViews(parameters)

    def record_train() -> bool:
        """Record the full training loss (in eval mode); whether it diverged."""
        if modes:
            optimizer.eval()
        loss, _ = _loss_and_accuracy(layers(), X, y)
        train_losses.append(loss)
        return _is_diverged(loss)

    def record_test(epoch: int) -> bool:
        if modes:
            optimizer.eval()
        loss, accuracy = _loss_and_accuracy(layers(), X_test, y_test)
        test_epochs.append(epoch)
        test_losses.append(loss)
        test_accuracies.append(accuracy)
        return _is_diverged(loss)

    tic = time.perf_counter()
    # A diverging run overflows on the way (in the loss, in an optimizer's NumPy update):
    # that is reported in the result, not warned about.
    with np.errstate(all="ignore"):
        if modes:
            optimizer.train()
        record_train()
        record_test(0)
        for epoch in range(1, epochs + 1):
            order = torch.randperm(n, generator=generator).numpy()
            X_epoch, y_epoch = X[order], y[order]
            for start in range(0, n, batch_size):
                X_batch, y_batch = X_epoch[start : start + batch_size], y_epoch[start : start + batch_size]
                if modes:
                    optimizer.train()  # nothing to do unless a record switched to eval mode
                loss, gradients = loss_and_gradients(layers(), X_batch, y_batch)
                if _is_diverged(loss):
                    diverged_at_step = len(learning_rates)
                    break
                for p, g in zip(parameters, gradients):
                    p.grad = torch.from_numpy(g)
                learning_rates.append(float(group["lr"]))
                optimizer.step()
                if schedule is not None:
                    schedule.step()
                seen += len(y_batch)
                # Every record_every examples, and always after the last step.
                if seen // record_every > (seen - len(y_batch)) // record_every or seen == n * epochs:
                    train_epochs.append(seen / n)
                    if record_train():
                        diverged_at_step = len(learning_rates)
                        break
            if diverged_at_step is not None or record_test(epoch):
                diverged_at_step = len(learning_rates) if diverged_at_step is None else diverged_at_step
                break
        if diverged_at_step is not None and train_epochs[-1] != seen / n:
            train_epochs.append(seen / n)  # the training curve ends where training stopped
            record_train()
        if modes:
            optimizer.eval()  # the network returned holds the point one evaluates
    seconds = time.perf_counter() - tic
    return NetworkRun(
        train_epochs=np.array(train_epochs),
        train_losses=np.array(train_losses),
        test_epochs=np.array(test_epochs),
        test_losses=np.array(test_losses),
        test_accuracies=np.array(test_accuracies),
        learning_rates=np.array(learning_rates),
        seconds=seconds,
        optimizer=optimizer_class.__name__,
        hyperparameters=hyperparameters,
        batch_size=batch_size,
        epochs=epochs,
        hidden=tuple(hidden),
        seed=seed,
        diverged_at_step=diverged_at_step,
        diverged_at=None if diverged_at_step is None else seen / n,
        network=network,
    )
