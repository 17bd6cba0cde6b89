"""What the figures and summaries say: the run's title, its one-line summary and the
message for a run that blew up or left the plot. Shared by the kernel's figures and the
website's live explorers, so both say the same thing."""

from __future__ import annotations

import math
import numbers
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

TITLE_WIDTH = 72
MESSAGE_WIDTH = 48


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Real):
        return f"{value:.4g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return str(value)


def describe_run(optimizer: str, hyperparameters: Mapping[str, Any]) -> str:
    """``"Adam: lr=0.1, betas=(0.9, 0.999)"``: the optimizer and the hyperparameters it
    was given (``"Adam (defaults)"`` when none)."""
    if not hyperparameters:
        return f"{optimizer} (defaults)"
    settings = ", ".join(f"{name}={format_value(value)}" for name, value in hyperparameters.items())
    return f"{optimizer}: {settings}"


def loss_title(optimizer: str, hyperparameters: Mapping[str, Any], batch_size: int) -> str:
    """A loss curve's title: the run, and the batch size."""
    return f"{describe_run(optimizer, hyperparameters)}; batch size {batch_size}"


def baseline_label(optimizer: str, hyperparameters: Mapping[str, Any]) -> str:
    return f"baseline {describe_run(optimizer, hyperparameters)}"


def wrap_title(text: str) -> str:
    return "\n".join(textwrap.wrap(text, TITLE_WIDTH)) or text


def wrap_message(text: str) -> str:
    return "\n".join("\n".join(textwrap.wrap(line, MESSAGE_WIDTH)) or line for line in text.splitlines())


def with_baseline_message(message: str, baseline_message: str) -> str:
    lines = [message] if message else []
    if baseline_message:
        lines.append(f"baseline {baseline_message}")
    return "\n".join(lines)


# --- Trajectories ----------------------------------------------------------------------------


def trajectory_summary(final: Sequence[float], steps: int, diverged_at: int | None) -> str:
    """The final point the way Dive into Deep Learning prints it."""
    x1, x2 = final
    text = f"epoch {steps}, x1 {x1:f}, x2 {x2:f}"
    if diverged_at is not None:
        text += f" (diverged at step {diverged_at})"
    return text


def left_box_at(points: Sequence[Sequence[float]], x1_range: Sequence[float],
                x2_range: Sequence[float]) -> int | None:
    """The first step whose point lies outside the plot box, if any."""
    for step, (x1, x2) in enumerate(points):
        if not (x1_range[0] <= x1 <= x1_range[1] and x2_range[0] <= x2 <= x2_range[1]):
            return step
    return None


def trajectory_message(points: Sequence[Sequence[float]], diverged_at: int | None,
                       x1_range: Sequence[float], x2_range: Sequence[float]) -> str:
    """``"diverged at step 7"``, ``"left the plot at step 3"``, or ``""``."""
    if diverged_at is not None:
        return f"diverged at step {diverged_at}"
    step = left_box_at(points, x1_range, x2_range)
    return "" if step is None else f"left the plot at step {step}"


# --- Loss curves -----------------------------------------------------------------------------


def loss_summary(epochs: Sequence[float], losses: Sequence[float], seconds: float,
                 diverged_at: float | None) -> str:
    """Dive into Deep Learning's one-line summary."""
    if diverged_at is not None:
        return f"diverged at epoch {diverged_at:.2f}"
    trained = float(epochs[-1])  # the last step is always recorded
    if trained == 0:
        return f"loss: {float(losses[-1]):.3f} (no training)"
    return f"loss: {float(losses[-1]):.3f}, {seconds / trained:.3f} sec/epoch"


def loss_curve_message(epochs: Sequence[float], losses: Sequence[float], diverged_at: float | None,
                       top: float = math.inf) -> str:
    """``"diverged at epoch 0.13"``; else ``"left the plot at epoch 0.27"`` if a loss went
    above ``top`` (the plot's upper limit); else ``""``."""
    if diverged_at is not None:
        return f"diverged at epoch {diverged_at:.2f}"
    for epoch, loss in zip(epochs, losses):
        if loss > top:
            return f"left the plot at epoch {float(epoch):.2f}"
    return ""
