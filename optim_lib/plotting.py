"""Draw trajectories on their landscape and loss curves, for the book and for sliders.

Two ways to draw, the same pictures:

- :func:`plot_trajectory` and :func:`plot_loss_curves` draw once on a Matplotlib ``Axes``
  (a new figure if none is given) and return it: the figures of the chapters.
- :class:`TrajectoryFigure` and :class:`LossCurveFigure` build their figure once and redraw
  only what changes (the path, the curve, the title and the message) over a cached
  background, then encode a PNG: the figures behind the sliders of
  :mod:`optim_lib.widgets`. A redraw takes a few milliseconds, where a full re-plot with
  the contour takes almost a hundred.

Nothing here changes Matplotlib's global settings; the figure classes do not use pyplot.
A run that blows up or leaves the plot keeps the plot's limits and says so in the axes.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text
from PIL import Image

from .landscapes import Landscape
from .live import schedule as live_schedule
from .live import text
from .network import NetworkRun
from .training import LossCurve
from .trajectories import Trajectory

PATH_COLOR = "#ff7f0e"
"""The optimizer's path and loss curve (Dive into Deep Learning's orange)."""
BASELINE_COLOR = "#7f7f7f"
"""A baseline drawn for comparison, lighter than the main run."""
CONTOUR_COLOR = "#1f77b4"
MESSAGE_COLOR = "#c0392b"

LOSS_YLIM = (0.22, 0.52)
"""Fixed loss-axis limits for the airfoil curves: from just above the initial loss (about
0.50) down to below the best the course's optimizers reach (about 0.24). Fixed, so that the
curves of different settings can be compared by eye and the axis never jumps."""

NETWORK_LOSS_YLIM = (0.003, 5.0)
"""The network's training-loss axis (log scale): from above the untrained loss (log 10 ≈ 2.3)
down to below what the course's runs reach in 20 epochs (about 0.005); fixed, like
:data:`LOSS_YLIM`."""
ACCURACY_YLIM = (0.0, 1.0)

TRAJECTORY_FIGSIZE = (6.0, 4.2)
LOSS_FIGSIZE = (6.0, 3.6)
NETWORK_FIGSIZE = (7.5, 3.4)
DPI = 100

_CONTOUR_GRID = 200
_CONTOUR_LEVELS = 12


# --- Text shared by the one-off plots, the figure classes and the website -------------------
# (optim_lib.live.text: the browser's live explorers say exactly what these figures say)

describe_run = text.describe_run
loss_title = text.loss_title
_wrap_title = text.wrap_title
_wrap_message = text.wrap_message
_with_baseline_message = text.with_baseline_message
_baseline_label = text.baseline_label


def _loss_title(curve: LossCurve) -> str:
    return loss_title(curve.optimizer, curve.hyperparameters, curve.batch_size)


def left_plot_at(trajectory: Trajectory) -> int | None:
    """The first step whose point lies outside the landscape's plot box, if any."""
    landscape = trajectory.landscape
    return text.left_box_at(trajectory.path.tolist(), landscape.x1_range, landscape.x2_range)


def trajectory_message(trajectory: Trajectory) -> str:
    """``"diverged at step 7"``, ``"left the plot at step 3"``, or ``""`` for a run that
    stays in the plot."""
    landscape = trajectory.landscape
    return text.trajectory_message(trajectory.path.tolist(), trajectory.diverged_at, landscape.x1_range,
                                   landscape.x2_range)


def loss_curve_message(curve: LossCurve, top: float = math.inf) -> str:
    """``"diverged at epoch 0.13"``; else ``"left the plot at epoch 0.27"`` if a loss went
    above ``top`` (the plot's upper limit); else ``""``."""
    return text.loss_curve_message(curve.epochs.tolist(), curve.losses.tolist(), curve.diverged_at, top)


def network_message(run: NetworkRun, top: float = math.inf) -> str:
    """``"diverged at step 37 (epoch 0.79)"``; else ``"left the plot at epoch 3"`` if the
    training loss went above ``top``; else ``""``."""
    if run.diverged_at is not None:
        return f"diverged at step {run.diverged_at_step} (epoch {run.diverged_at:.2f})"
    return text.loss_curve_message(run.train_epochs.tolist(), run.train_losses.tolist(), None, top)


def _finite_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(y)
    return x[keep], y[keep]


def _finite_curve(curve: LossCurve) -> tuple[np.ndarray, np.ndarray]:
    """The recorded points with a finite loss (a diverged run ends with inf or NaN)."""
    keep = np.isfinite(curve.losses)
    return curve.epochs[keep], curve.losses[keep]


# --- Drawing helpers ------------------------------------------------------------------------


def _check_ylim(ylim: tuple[float, float]) -> tuple[float, float]:
    low, high = (float(v) for v in ylim)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"ylim must be two finite numbers (low, high) with low < high; got {ylim!r}")
    return low, high


def _draw_landscape(ax: Axes, landscape: Landscape) -> Line2D:
    """Contours, minima, the plot box as limits, and the axis labels; returns the minima's
    markers."""
    x1 = np.linspace(*landscape.x1_range, _CONTOUR_GRID)
    x2 = np.linspace(*landscape.x2_range, _CONTOUR_GRID)
    grid1, grid2 = np.meshgrid(x1, x2)
    values = landscape.f(grid1, grid2)
    # Levels at quantiles of f over the box: contours spread evenly over the picture, whether
    # f spans one order of magnitude (the quadratic) or five (Rosenbrock).
    levels = np.unique(np.quantile(values, np.linspace(0.0, 1.0, _CONTOUR_LEVELS + 2)[1:-1]))
    ax.contour(grid1, grid2, values, levels=levels, colors=CONTOUR_COLOR, linewidths=0.8, alpha=0.7,
               negative_linestyles="solid")
    minima = np.array(landscape.minima, dtype=float).reshape(-1, 2)
    (minima_markers,) = ax.plot(minima[:, 0], minima[:, 1], linestyle="none", marker="*",
                                markersize=11, color="black", zorder=4)
    ax.set_xlim(landscape.x1_range)
    ax.set_ylim(landscape.x2_range)
    ax.set_autoscale_on(False)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return minima_markers


def _path_line(ax: Axes, *, baseline: bool, animated: bool) -> Line2D:
    if baseline:
        style = dict(color=BASELINE_COLOR, alpha=0.55, markersize=3, linewidth=1.2, zorder=2)
    else:
        style = dict(color=PATH_COLOR, markersize=4, linewidth=1.5, zorder=3)
    (line,) = ax.plot([], [], marker="o", animated=animated, **style)
    return line


def _loss_line(ax: Axes, *, baseline: bool, animated: bool) -> Line2D:
    if baseline:
        style = dict(color=BASELINE_COLOR, alpha=0.7, linewidth=1.5, linestyle="--", zorder=2)
    else:
        style = dict(color=PATH_COLOR, linewidth=2.0, zorder=3)
    (line,) = ax.plot([], [], animated=animated, **style)
    return line


def _message_text(ax: Axes, x: float, y: float, ha: str, va: str, *, animated: bool) -> Text:
    return ax.text(
        x, y, "", transform=ax.transAxes, ha=ha, va=va, color=MESSAGE_COLOR, fontsize=11,
        fontweight="bold", zorder=6, animated=animated,
        bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor=MESSAGE_COLOR, alpha=0.9),
    )


def _trajectory_message_text(ax: Axes, *, animated: bool) -> Text:
    # Bottom right: away from the start point and the minimum on all three landscapes.
    return _message_text(ax, 0.98, 0.03, "right", "bottom", animated=animated)


def _loss_message_text(ax: Axes, *, animated: bool) -> Text:
    # Above the middle: loss curves run along the bottom once they have converged.
    return _message_text(ax, 0.5, 0.62, "center", "center", animated=animated)


def _new_axes(figsize: tuple[float, float]) -> Axes:
    # Imported here so that the figure classes below never load pyplot: only a plot drawn
    # without an Axes needs a figure that the notebook shows.
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _check_trajectory(value: Any, name: str) -> Trajectory:
    if not isinstance(value, Trajectory):
        raise ValueError(f"{name} must be a Trajectory (from run_trajectory); got {type(value).__name__}")
    return value


def _check_curve(value: Any, name: str) -> LossCurve:
    if not isinstance(value, LossCurve):
        raise ValueError(f"{name} must be a LossCurve (from train_linear_regression); got {type(value).__name__}")
    return value


# --- One-off plots --------------------------------------------------------------------------


def plot_trajectory(trajectory: Trajectory, ax: Axes | None = None, *,
                    baseline: Trajectory | None = None) -> Axes:
    """Draw ``trajectory``'s path on the contours of its landscape.

    The axes always show the landscape's plot box; a run that diverges or leaves the box
    says so inside the axes ("diverged at step 7", "left the plot at step 3").

    Args:
        trajectory: from :func:`~optim_lib.run_trajectory`.
        ax: where to draw; default a new figure.
        baseline: another trajectory on the same landscape, drawn lighter, for comparison
            (a legend then names both).

    Returns:
        The Axes drawn on.
    """
    _check_trajectory(trajectory, "trajectory")
    if baseline is not None:
        _check_trajectory(baseline, "baseline")
        if baseline.landscape != trajectory.landscape:
            raise ValueError(
                f"baseline must be on the same landscape; got {baseline.landscape.name!r} "
                f"and {trajectory.landscape.name!r}"
            )
    if ax is None:
        ax = _new_axes(TRAJECTORY_FIGSIZE)
    _draw_landscape(ax, trajectory.landscape)
    line = _path_line(ax, baseline=False, animated=False)
    line.set_data(trajectory.path[:, 0], trajectory.path[:, 1])
    line.set_label(trajectory.optimizer)
    message = trajectory_message(trajectory)
    if baseline is not None:
        baseline_line = _path_line(ax, baseline=True, animated=False)
        baseline_line.set_data(baseline.path[:, 0], baseline.path[:, 1])
        baseline_line.set_label(_baseline_label(baseline.optimizer, baseline.hyperparameters))
        ax.legend(handles=[line, baseline_line], loc="best", fontsize="small")
        message = _with_baseline_message(message, trajectory_message(baseline))
    _trajectory_message_text(ax, animated=False).set_text(_wrap_message(message))
    ax.set_title(_wrap_title(describe_run(trajectory.optimizer, trajectory.hyperparameters)), fontsize="medium")
    return ax


def plot_loss_curves(curves: LossCurve | Sequence[LossCurve], ax: Axes | None = None,
                     labels: Sequence[str] | None = None, *,
                     ylim: tuple[float, float] = LOSS_YLIM) -> Axes:
    """Draw one or several loss curves on one Axes, with a legend.

    Args:
        curves: from :func:`~optim_lib.train_linear_regression`.
        ax: where to draw; default a new figure.
        labels: one legend entry per curve; default the optimizer and its hyperparameters.
        ylim: the loss axis's limits (default :data:`LOSS_YLIM`, fixed so plots compare).

    Returns:
        The Axes drawn on. A diverged curve stops where it blew up, and the axes say
        "diverged at epoch 0.13" (or "left the plot at epoch 0.67" for a loss above the
        plot), prefixed by the curve's label when there are several curves.
    """
    if isinstance(curves, LossCurve):
        curves = [curves]
    curves = [_check_curve(curve, "each curve") for curve in curves]
    if not curves:
        raise ValueError("curves must hold at least one LossCurve; got none")
    if labels is None:
        labels = [describe_run(c.optimizer, c.hyperparameters) for c in curves]
    elif isinstance(labels, str) or len(labels) != len(curves):
        raise ValueError(f"labels must be a list of {len(curves)} strings, one per curve; got {labels!r}")
    low, high = _check_ylim(ylim)
    if ax is None:
        ax = _new_axes(LOSS_FIGSIZE)
    messages = []
    for curve, label in zip(curves, labels):
        epochs, losses = _finite_curve(curve)
        ax.plot(epochs, losses, label=label, linewidth=2.0)
        message = loss_curve_message(curve, high)
        if message:
            messages.append(message if len(curves) == 1 else f"{label}: {message}")
    xmax = max(float(curve.epochs[-1]) for curve in curves)
    ax.set_xlim(0.0, xmax if xmax > 0 else 1.0)
    ax.set_ylim(low, high)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    _loss_message_text(ax, animated=False).set_text(_wrap_message("\n".join(messages)))
    return ax


def _check_run(value: Any, name: str) -> NetworkRun:
    if not isinstance(value, NetworkRun):
        raise ValueError(f"{name} must be a NetworkRun (from train_network); got {type(value).__name__}")
    return value


def _network_axes(loss_ax: Axes, accuracy_ax: Axes, epochs: float) -> None:
    """The two panels' limits and labels: training loss (log scale) and test accuracy."""
    loss_ax.set_yscale("log")
    loss_ax.set_ylim(*NETWORK_LOSS_YLIM)
    loss_ax.set_ylabel("training loss (cross-entropy)")
    accuracy_ax.set_ylim(*ACCURACY_YLIM)
    accuracy_ax.set_ylabel("test accuracy")
    accuracy_ax.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    for ax in (loss_ax, accuracy_ax):
        ax.set_xlim(0.0, epochs)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.set_autoscale_on(False)


def plot_network_runs(runs: NetworkRun | Sequence[NetworkRun], axes: Sequence[Axes] | None = None,
                      labels: Sequence[str] | None = None) -> tuple[Axes, Axes]:
    """Draw network runs: the training loss (left, log scale) and the test accuracy after
    each epoch (right), one line per run, with a legend.

    Args:
        runs: from :func:`~optim_lib.network.train_network`.
        axes: the two Axes to draw on; default a new figure.
        labels: one legend entry per run; default the optimizer and its hyperparameters.

    Returns:
        The two Axes. A diverged run stops where it blew up, and the left axes say
        "diverged at step 37 (epoch 0.79)", prefixed by the run's label when there are
        several.
    """
    if isinstance(runs, NetworkRun):
        runs = [runs]
    runs = [_check_run(run, "each run") for run in runs]
    if not runs:
        raise ValueError("runs must hold at least one NetworkRun; got none")
    if labels is None:
        labels = [describe_run(run.optimizer, run.hyperparameters) for run in runs]
    elif isinstance(labels, str) or len(labels) != len(runs):
        raise ValueError(f"labels must be a list of {len(runs)} strings, one per run; got {labels!r}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=NETWORK_FIGSIZE, layout="constrained")
    loss_ax, accuracy_ax = axes
    messages = []
    for run, label in zip(runs, labels):
        (line,) = loss_ax.plot(*_finite_points(run.train_epochs, run.train_losses), label=label, linewidth=2.0)
        accuracy_ax.plot(run.test_epochs, run.test_accuracies, marker="o", markersize=3, linewidth=2.0,
                         color=line.get_color(), label=label)
        message = network_message(run, NETWORK_LOSS_YLIM[1])
        if message:
            messages.append(message if len(runs) == 1 else f"{label}: {message}")
    _network_axes(loss_ax, accuracy_ax, float(max(run.epochs for run in runs)))
    accuracy_ax.legend(loc="lower right", fontsize="small")
    _loss_message_text(loss_ax, animated=False).set_text(_wrap_message("\n".join(messages)))
    return loss_ax, accuracy_ax


def plot_sweeps(results: Any, ax: Axes | None = None, *, log_metric: bool | None = None,
                labels: Sequence[str] | None = None, colors: Sequence[Any] | None = None,
                linestyles: Sequence[str] | None = None) -> Axes:
    """Draw learning-rate sweeps: the metric against the learning rate (log scale), one line
    per optimizer (the mean over seeds, with the spread over seeds shaded), the rate that
    :func:`~optim_lib.sweeps.choose` picks ringed, and a cross at the top (or bottom, for a
    metric where higher is better) where a run diverged.

    Args:
        results: one :class:`~optim_lib.sweeps.SweepResult` or several (same metric).
        ax: where to draw; default a new figure.
        log_metric: a log scale for the metric (default: for losses, not for accuracy).
        labels: the legend's name for each result (default: its optimizer and
            hyperparameters); a mapping of names to results is also accepted, and names them.
        colors: a matplotlib colour for each result (default: one of its own each), e.g.
            the same colour for one optimizer's two sweeps, with and without a schedule.
        linestyles: a line style for each result's mean curve (default: all solid), e.g.
            ``"--"`` for the scheduled ones.

    Returns:
        The Axes drawn on.
    """
    from matplotlib.transforms import blended_transform_factory

    from .sweeps import SweepResult, choose

    if isinstance(results, SweepResult):
        results = [results]
    if isinstance(results, Mapping):
        labels = list(results) if labels is None else labels
        results = list(results.values())
    results = list(results)
    if not results or not all(isinstance(r, SweepResult) for r in results):
        raise ValueError("results must be SweepResults (from optim_lib.sweeps); got " + repr(results)[:80])
    labels = [r.label for r in results] if labels is None else list(labels)
    if len(labels) != len(results):
        raise ValueError(f"labels must name each of the {len(results)} results; got {len(labels)} labels")
    if len({r.metric for r in results}) != 1:
        raise ValueError(f"results must share one metric; got {sorted({r.metric for r in results})}")
    metric, higher = results[0].metric, results[0].higher_is_better
    if ax is None:
        ax = _new_axes(LOSS_FIGSIZE)
    edge = blended_transform_factory(ax.transData, ax.transAxes)
    # One colour per result, set here: the shading and the markers would otherwise move
    # matplotlib's colour cycle on, and every second colour would be skipped.
    for name, given in (("colors", colors), ("linestyles", linestyles)):
        if given is not None and len(given) != len(results):
            raise ValueError(f"{name} must give one entry for each of the {len(results)} results; "
                             f"got {len(given)}")
    if colors is None:
        palette = [f"C{i}" for i in range(10)] if len(results) <= 10 else list(matplotlib.colormaps["tab20"].colors)
        colors = [palette[i % len(palette)] for i in range(len(results))]
    linestyles = ["-"] * len(results) if linestyles is None else list(linestyles)
    for i, (result, label) in enumerate(zip(results, labels)):
        values = result.values
        finite = ~np.isnan(values).any(axis=1)
        mean = np.where(finite, np.nanmean(np.where(np.isnan(values), 0, values), axis=1), np.nan)
        (line,) = ax.plot(result.learning_rates, mean, marker="o", markersize=3, linewidth=1.8, label=label,
                          color=colors[i], linestyle=linestyles[i])
        if values.shape[1] > 1:
            spread = np.where(finite[:, None], values, 0.0)  # shaded only where finite: no all-NaN rows
            ax.fill_between(result.learning_rates, spread.min(axis=1), spread.max(axis=1),
                            where=finite, color=line.get_color(), alpha=0.15, linewidth=0)
        diverged = result.learning_rates[~finite]
        if len(diverged):  # an empty unclipped line would stretch the layout's bounding box to the origin
            ax.plot(diverged, np.full(len(diverged), 0.02 if higher else 0.98), linestyle="none", marker="x",
                    color=line.get_color(), transform=edge, clip_on=False)
        chosen = choose(result)
        index = list(result.learning_rates).index(chosen)
        if finite[index]:
            ax.plot([chosen], [mean[index]], marker="o", markersize=9, markerfacecolor="none",
                    markeredgecolor=line.get_color(), linestyle="none")
    ax.set_xscale("log")
    if log_metric if log_metric is not None else not higher:
        ax.set_yscale("log")
    ax.set_xlabel("learning rate η")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="best", fontsize="small")
    return ax


# --- Figures for live updates ---------------------------------------------------------------


class _BlitFigure:
    """A figure drawn once, then updated by redrawing a few artists over a cached
    background; no pyplot, nothing global. Subclasses create the artists.

    The legend sits below the axes, outside them, so that it never hides a path and can be
    part of the background: it is redrawn (with the whole background) only when its labels
    change, which in an explorer happens once.
    """

    def __init__(self, figsize: tuple[float, float], dpi: float) -> None:
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_subplot()
        self._legend: Legend | None = None
        self._legend_labels: tuple[str, ...] = ()
        # Room for a two-line title from the start: the website's live figure keeps the
        # layout of this background, so a title that wraps must already fit.
        self._title = self.axes.set_title(" \n ", fontsize="medium", animated=True)
        self._title_lines = 2
        self._background: Any = None

    @property
    def title(self) -> str:
        """The title as wrapped (without the blank lines that keep its room)."""
        return self._title.get_text().rstrip("\n")

    def _set_title(self, text: str) -> None:
        """Set the title; a title that wraps onto more (or fewer) lines than the last one
        gets room for them by a new layout."""
        wrapped = _wrap_title(text)
        lines = wrapped.count("\n") + 1
        # The room only grows: a slider that moves a title between one and two lines must
        # not make the axes jump (and re-layout, 45 ms) on every crossing.
        wrapped += "\n" * (self._title_lines - lines) if lines < self._title_lines else ""
        self._title.set_text(wrapped)
        if lines > self._title_lines:
            self._title_lines = lines
            self._cache_background()

    def _animated_artists(self) -> list[Any]:
        raise NotImplementedError

    def _data_lines(self) -> list[Line2D]:
        """The lines that show a run (cleared when there is none)."""
        raise NotImplementedError

    @property
    def message(self) -> str:
        """The text shown in the axes ("diverged at step 7", "diverged at epoch 0.13"), ""
        when all is well."""
        return self._message.get_text()

    def show_message(self, text: str, title: str = "") -> None:
        """Clear the drawn runs and show only ``text`` (e.g. why a run could not start); the
        legend stays, so the layout does not jump."""
        for line in self._data_lines():
            line.set_data([], [])
        self._message.set_text(_wrap_message(text))
        self._set_title(title)
        self._redraw()

    def _cache_background(self, relayout: bool = True) -> None:
        """Draw everything that does not change from one update to the next (with a new
        layout, unless ``relayout`` is False: then the axes stay where they are)."""
        if relayout:
            self.figure.set_layout_engine("constrained")
        self.canvas.draw()
        # Fix the layout: the title and the message change, the axes must not move.
        self.figure.set_layout_engine("none")
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def _set_legend(self, lines: list[Line2D]) -> None:
        """A legend for ``lines`` (none for no lines), redrawn only when the labels change."""
        labels = tuple(line.get_label() for line in lines)
        if labels == self._legend_labels:
            return
        if self._legend is not None:
            self._legend.remove()
            self._legend = None
        if lines:
            self._legend = self.figure.legend(handles=lines, loc="outside lower center", ncols=len(lines),
                                              fontsize="small", frameon=False)
        self._legend_labels = labels
        self._cache_background()

    def _redraw(self) -> None:
        self.canvas.restore_region(self._background)
        for artist in self._animated_artists():
            self.figure.draw_artist(artist)

    def background_png(self) -> bytes:
        """The cached background alone (no run, title or message), as PNG bytes (fully
        compressed: it is drawn once, and travels inside the page)."""
        self.canvas.restore_region(self._background)
        background = self.png(compress_level=9)
        self._redraw()
        return background

    def web_geometry(self) -> dict[str, Any]:
        """Where things are in :meth:`background_png`, in its pixels (origin top left):
        what the website's live explorer needs to draw a run over it."""
        width, height = self.canvas.get_width_height()
        box = self.axes.get_window_extent()
        points = self.figure.dpi / 72  # pixels per point
        title_x, title_y = self._title.get_transform().transform(self._title.get_position())
        message_x, message_y = self._message.get_transform().transform(self._message.get_position())
        return {
            "width": width,
            "height": height,
            "axes": [float(box.x0), float(height - box.y1), float(box.width), float(box.height)],
            "xlim": [float(v) for v in self.axes.get_xlim()],
            "ylim": [float(v) for v in self.axes.get_ylim()],
            "title": {"x": float(title_x), "y": float(height - title_y), "lines": self._title_lines,
                      "size": float(self._title.get_fontsize() * points)},
            "message": {"x": float(message_x), "y": float(height - message_y),
                        "ha": self._message.get_horizontalalignment(), "va": self._message.get_verticalalignment(),
                        "size": float(self._message.get_fontsize() * points), "color": MESSAGE_COLOR},
            "lines": {role: _line_style(line, points) for role, line in self._web_lines().items()},
            "background": "data:image/png;base64," + base64.b64encode(self.background_png()).decode(),
        }

    def _web_lines(self) -> dict[str, Line2D]:
        """The lines the website draws, by role (``"path"``, ``"baseline"``)."""
        raise NotImplementedError

    def png(self, compress_level: int = 1) -> bytes:
        """The figure as it is now, as PNG bytes (fast, lightly compressed by default)."""
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        # RGB (the figure is opaque) and light compression: about 6 ms for a 600 × 420 figure,
        # against 10 ms at the default level, for a file only 5 % smaller.
        image.convert("RGB").save(buffer, format="PNG", compress_level=compress_level)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()


def _line_style(line: Line2D, points: float) -> dict[str, Any]:
    """A line's look in CSS terms, sizes in pixels."""
    dashes = line._dash_pattern[1] if line.get_linestyle() not in ("-", "solid") else None  # (offset, on-off)
    return {
        "color": line.get_color(),
        "alpha": 1.0 if line.get_alpha() is None else float(line.get_alpha()),
        "width": float(line.get_linewidth() * points),
        "dash": [float(d * points) for d in dashes] if dashes else [],
        "marker_radius": float(line.get_markersize() * points / 2) if line.get_marker() not in (None, "None", "") else 0.0,
    }


def _star(radius: float) -> list[list[float]]:
    """Matplotlib's '*' marker: a five-pointed star (inner radius 0.381966 of the outer), as
    pixel offsets from its centre, y down."""
    corners = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.381966
        angle = math.pi / 2 + k * math.pi / 5
        corners.append([r * math.cos(angle), -r * math.sin(angle)])
    return corners


class TrajectoryFigure(_BlitFigure):
    """A landscape's contour plot, drawn once, on which :meth:`update` redraws the path.

    Attributes for inspection: ``path_line`` and ``baseline_line`` (Matplotlib lines; read
    their ``get_xydata()``), ``axes``, :attr:`message` and :attr:`title`.
    """

    def __init__(self, landscape: Landscape, *, figsize: tuple[float, float] = TRAJECTORY_FIGSIZE,
                 dpi: float = DPI) -> None:
        if not isinstance(landscape, Landscape):
            raise ValueError(f"landscape must be a Landscape; got {type(landscape).__name__}")
        super().__init__(figsize, dpi)
        self.landscape = landscape
        # The minima are redrawn after the paths, so that a path never hides them.
        self._minima = _draw_landscape(self.axes, landscape)
        self._minima.set_animated(True)
        self.baseline_line = _path_line(self.axes, baseline=True, animated=True)
        self.path_line = _path_line(self.axes, baseline=False, animated=True)
        self._message = _trajectory_message_text(self.axes, animated=True)
        self._cache_background()

    def _animated_artists(self) -> list[Any]:
        return [self.baseline_line, self.path_line, self._minima, self._message, self._title]

    def _web_lines(self) -> dict[str, Line2D]:
        return {"path": self.path_line, "baseline": self.baseline_line}

    def web_geometry(self) -> dict[str, Any]:
        geometry = super().web_geometry()
        height = geometry["height"]
        minima = self.axes.transData.transform(np.array(self.landscape.minima, dtype=float).reshape(-1, 2))
        points = self.figure.dpi / 72
        geometry["minima"] = {"points": [[float(x), float(height - y)] for x, y in minima],
                              "star": _star(self._minima.get_markersize() * points / 2),
                              "color": self._minima.get_color()}
        return geometry

    def _data_lines(self) -> list[Line2D]:
        return [self.path_line, self.baseline_line]

    def update(self, trajectory: Trajectory, baseline: Trajectory | None = None) -> None:
        """Show ``trajectory`` (and ``baseline``, lighter) in place of the last paths."""
        for value, name in ((trajectory, "trajectory"), (baseline, "baseline")):
            if value is not None:
                _check_trajectory(value, name)
                if value.landscape != self.landscape:
                    raise ValueError(
                        f"{name} is on {value.landscape.name!r}, but this figure shows "
                        f"{self.landscape.name!r}"
                    )
        self.path_line.set_data(trajectory.path[:, 0], trajectory.path[:, 1])
        self.path_line.set_label(trajectory.optimizer)
        message = trajectory_message(trajectory)
        if baseline is None:
            self.baseline_line.set_data([], [])
            self._set_legend([])
        else:
            self.baseline_line.set_data(baseline.path[:, 0], baseline.path[:, 1])
            self.baseline_line.set_label(_baseline_label(baseline.optimizer, baseline.hyperparameters))
            self._set_legend([self.path_line, self.baseline_line])
            message = _with_baseline_message(message, trajectory_message(baseline))
        self._message.set_text(_wrap_message(message))
        self._set_title(describe_run(trajectory.optimizer, trajectory.hyperparameters))
        self._redraw()


class LossCurveFigure(_BlitFigure):
    """Loss-against-epoch axes, drawn once, on which :meth:`update` redraws the curves.

    Attributes for inspection: ``curve_line`` and ``baseline_line`` (read their
    ``get_xydata()``), ``axes``, :attr:`message` and :attr:`title`.
    """

    def __init__(self, *, epochs: float = 2.0, ylim: tuple[float, float] = LOSS_YLIM,
                 figsize: tuple[float, float] = LOSS_FIGSIZE, dpi: float = DPI) -> None:
        if not (isinstance(epochs, (int, float)) and 0 < epochs < float("inf")):
            raise ValueError(f"epochs must be a number in (0, inf); got {epochs!r}")
        super().__init__(figsize, dpi)
        self.axes.set_xlim(0.0, float(epochs))
        self.axes.set_ylim(*_check_ylim(ylim))
        self.axes.set_autoscale_on(False)
        self.axes.set_xlabel("epoch")
        self.axes.set_ylabel("loss")
        self.axes.grid(alpha=0.3)
        self.baseline_line = _loss_line(self.axes, baseline=True, animated=True)
        self.curve_line = _loss_line(self.axes, baseline=False, animated=True)
        self._message = _loss_message_text(self.axes, animated=True)
        self._cache_background()

    def _animated_artists(self) -> list[Any]:
        return [self.baseline_line, self.curve_line, self._message, self._title]

    def _web_lines(self) -> dict[str, Line2D]:
        return {"path": self.curve_line, "baseline": self.baseline_line}

    def _data_lines(self) -> list[Line2D]:
        return [self.curve_line, self.baseline_line]

    def _fit_epochs(self, curves: list[LossCurve]) -> None:
        """Widen the epoch axis (and redraw the background) if a curve runs past it."""
        needed = math.ceil(max(float(curve.epochs[-1]) for curve in curves))
        if needed > self.axes.get_xlim()[1]:
            self.axes.set_xlim(0.0, needed)
            self._cache_background()

    def update(self, curve: LossCurve, baseline: LossCurve | None = None) -> None:
        """Show ``curve`` (and ``baseline``, dashed) in place of the last curves."""
        _check_curve(curve, "curve")
        if baseline is not None:
            _check_curve(baseline, "baseline")
        self._fit_epochs([curve] if baseline is None else [curve, baseline])
        self.curve_line.set_data(*_finite_curve(curve))
        self.curve_line.set_label(curve.optimizer)
        top = self.axes.get_ylim()[1]
        message = loss_curve_message(curve, top)
        if baseline is None:
            self.baseline_line.set_data([], [])
            self._set_legend([self.curve_line])
        else:
            self.baseline_line.set_data(*_finite_curve(baseline))
            self.baseline_line.set_label(_baseline_label(baseline.optimizer, baseline.hyperparameters))
            self._set_legend([self.curve_line, self.baseline_line])
            message = _with_baseline_message(message, loss_curve_message(baseline, top))
        self._message.set_text(_wrap_message(message))
        self._set_title(_loss_title(curve))
        self._redraw()



class NetworkFigure(_BlitFigure):
    """The network's two panels (training loss, log scale; test accuracy), drawn once, on
    which :meth:`update` redraws the runs.

    Attributes for inspection: ``loss_line``, ``accuracy_line`` and their ``baseline_``
    twins (read their ``get_xydata()``), ``axes`` (the loss panel), ``accuracy_axes``,
    :attr:`message` and :attr:`title`.
    """

    def __init__(self, *, epochs: float = 10.0, figsize: tuple[float, float] = NETWORK_FIGSIZE,
                 dpi: float = DPI) -> None:
        if not (isinstance(epochs, (int, float)) and 0 < epochs < float("inf")):
            raise ValueError(f"epochs must be a number in (0, inf); got {epochs!r}")
        super().__init__(figsize, dpi)
        grid = self.figure.add_gridspec(1, 2)
        self.axes.set_subplotspec(grid[0])
        self.accuracy_axes = self.figure.add_subplot(grid[1])
        # One title over both panels.
        self._title.set_text("")
        self._title = self.figure.suptitle(" \n ", fontsize="medium", animated=True)
        _network_axes(self.axes, self.accuracy_axes, float(epochs))
        self.baseline_line = _loss_line(self.axes, baseline=True, animated=True)
        self.loss_line = _loss_line(self.axes, baseline=False, animated=True)
        self.baseline_accuracy_line = _loss_line(self.accuracy_axes, baseline=True, animated=True)
        self.accuracy_line = _loss_line(self.accuracy_axes, baseline=False, animated=True)
        for line in (self.accuracy_line, self.baseline_accuracy_line):
            line.set_marker("o")
            line.set_markersize(3)
        self._message = _loss_message_text(self.axes, animated=True)
        self._cache_background()

    def _animated_artists(self) -> list[Any]:
        return [self.baseline_line, self.loss_line, self.baseline_accuracy_line, self.accuracy_line,
                self._message, self._title]

    def _data_lines(self) -> list[Line2D]:
        return [self.loss_line, self.baseline_line, self.accuracy_line, self.baseline_accuracy_line]

    def _web_lines(self) -> dict[str, Line2D]:
        return {"path": self.loss_line, "baseline": self.baseline_line}

    def _fit_epochs(self, runs: list[NetworkRun]) -> None:
        needed = max(run.epochs for run in runs)
        if needed > self.axes.get_xlim()[1]:
            for ax in (self.axes, self.accuracy_axes):
                ax.set_xlim(0.0, needed)
            self._cache_background()

    def update(self, run: NetworkRun, baseline: NetworkRun | None = None) -> None:
        """Show ``run`` (and ``baseline``, dashed) in place of the last runs."""
        _check_run(run, "run")
        if baseline is not None:
            _check_run(baseline, "baseline")
        self._fit_epochs([run] if baseline is None else [run, baseline])
        self.loss_line.set_data(*_finite_points(run.train_epochs, run.train_losses))
        self.accuracy_line.set_data(run.test_epochs, run.test_accuracies)
        self.loss_line.set_label(run.optimizer)
        top = NETWORK_LOSS_YLIM[1]
        message = network_message(run, top)
        if baseline is None:
            self.baseline_line.set_data([], [])
            self.baseline_accuracy_line.set_data([], [])
            self._set_legend([self.loss_line])
        else:
            self.baseline_line.set_data(*_finite_points(baseline.train_epochs, baseline.train_losses))
            self.baseline_accuracy_line.set_data(baseline.test_epochs, baseline.test_accuracies)
            self.baseline_line.set_label(_baseline_label(baseline.optimizer, baseline.hyperparameters))
            self._set_legend([self.loss_line, self.baseline_line])
            message = _with_baseline_message(message, network_message(baseline, top))
        self._message.set_text(_wrap_message(message))
        self._set_title(run.title())
        self._redraw()


# --- The matrix experiment (Muon's chapter) ---------------------------------------------------
# Imported here, not at the top, so that this section can be read (and merged) on its own.

from .matrix import MatrixRun  # noqa: E402

MATRIX_LOSS_YLIM = (1e-7, 1e3)
"""The matrix experiment's loss axis (log scale): above the start (63 for the default
32 x 32 problem) down to below the best the course's runs reach in 200 steps."""
SINGULAR_VALUE_YLIM = (1e-5, 2.0)
"""The singular values of an update divided by its largest (log scale)."""
MATRIX_FIGSIZE = (8.0, 3.4)


def _check_matrix_run(value: Any, name: str) -> MatrixRun:
    if not isinstance(value, MatrixRun):
        raise ValueError(f"{name} must be a MatrixRun (from optim_lib.matrix.train_matrix); got {type(value).__name__}")
    return value


def shown_step(run: MatrixRun) -> int:
    """The step whose update the singular-value panel shows by default: the middle one."""
    return max(1, run.steps // 2)


def relative_singular_values(run: MatrixRun, step: int) -> np.ndarray:
    """The singular values of the update of ``step`` (1 to ``run.steps``), divided by the
    largest; empty where the run has no such step (it diverged before) or none recorded."""
    if not 1 <= step <= len(run.singular_values):
        return np.empty(0)
    values = run.singular_values[step - 1]
    return values / values[0] if len(values) and values[0] > 0 else np.empty(0)


def _matrix_axes(loss_ax: Axes, spectrum_ax: Axes, steps: int, size: int, step: int) -> None:
    loss_ax.set_yscale("log")
    loss_ax.set_ylim(*MATRIX_LOSS_YLIM)
    loss_ax.set_xlim(0, steps)
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("loss L(W)")
    spectrum_ax.set_yscale("log")
    spectrum_ax.set_ylim(*SINGULAR_VALUE_YLIM)
    spectrum_ax.set_xlim(0.5, size + 0.5)
    spectrum_ax.set_xlabel("singular value number (largest first)")
    spectrum_ax.set_ylabel(f"update at step {step}, ÷ largest")
    for ax in (loss_ax, spectrum_ax):
        ax.grid(alpha=0.3, which="both")
        ax.set_autoscale_on(False)


def plot_matrix_runs(runs: MatrixRun | Sequence[MatrixRun], axes: Sequence[Axes] | None = None,
                     labels: Sequence[str] | None = None, *, step: int | None = None) -> tuple[Axes, Axes]:
    """Draw matrix-experiment runs: the loss at every step (left, log scale) and the singular
    values of one step's update, each divided by the largest (right, log scale).

    Args:
        runs: from :func:`~optim_lib.matrix.train_matrix`.
        axes: the two Axes to draw on; default a new figure.
        labels: one legend entry per run; default the optimizer and its hyperparameters.
        step: whose update the right panel shows; default the middle step of the first run.

    Returns:
        The two Axes. A diverged run stops where it blew up, and the left axes say so.
    """
    if isinstance(runs, MatrixRun):
        runs = [runs]
    runs = [_check_matrix_run(run, "each run") for run in runs]
    if not runs:
        raise ValueError("runs must hold at least one MatrixRun; got none")
    if labels is None:
        labels = [describe_run(run.optimizer, run.hyperparameters) for run in runs]
    elif isinstance(labels, str) or len(labels) != len(runs):
        raise ValueError(f"labels must be a list of {len(runs)} strings, one per run; got {labels!r}")
    step = shown_step(runs[0]) if step is None else step
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=MATRIX_FIGSIZE, layout="constrained")
    loss_ax, spectrum_ax = axes
    messages = []
    for run, label in zip(runs, labels):
        steps = np.arange(len(run.losses))
        (line,) = loss_ax.plot(*_finite_points(steps, run.losses), label=label, linewidth=2.0)
        values = relative_singular_values(run, step)
        spectrum_ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, linewidth=1.5,
                         color=line.get_color(), label=label)
        if run.diverged_at is not None:
            messages.append(f"{label}: diverged at step {run.diverged_at}" if len(runs) > 1 else run.summary())
    size = max(min(run.weights.shape) if run.weights is not None else 1 for run in runs)
    _matrix_axes(loss_ax, spectrum_ax, max(run.steps for run in runs), size, step)
    spectrum_ax.legend(loc="lower left", fontsize="small")
    _loss_message_text(loss_ax, animated=False).set_text(_wrap_message("\n".join(messages)))
    return loss_ax, spectrum_ax


def newton_schulz_map(sigma: np.ndarray, coefficients: tuple[float, float, float], steps: int) -> np.ndarray:
    """:math:`\\phi^{k}(\\sigma)`: ``steps`` applications of :math:`\\phi(\\sigma) = a\\sigma +
    b\\sigma^3 + c\\sigma^5` to each singular value, which is what ``steps`` Newton–Schulz
    iterations do to a matrix whose singular values (after the division by its norm) are
    ``sigma``."""
    a, b, c = coefficients
    out = np.asarray(sigma, dtype=float)
    for _ in range(steps):
        out = a * out + b * out**3 + c * out**5
    return out


def plot_newton_schulz(coefficients: Mapping[str, tuple[float, float, float]], *, steps: int = 5,
                       sample: np.ndarray | None = None, ax: Axes | None = None) -> Axes:
    """Draw what ``steps`` Newton–Schulz iterations do to a singular value :math:`\\sigma`
    in :math:`(0, 1]` (:func:`newton_schulz_map`), one curve per named set of coefficients
    :math:`(a, b, c)`; the target, 1, dashed.

    ``sample``: a matrix whose singular values are drawn as points, input (divided by the
    Frobenius norm, as the iteration does first) against output of optim_lib's own
    :func:`~optim_lib.rules.muon.newton_schulz` with the first coefficients: they fall on
    that curve.
    """
    from .rules.muon import newton_schulz

    if not coefficients:
        raise ValueError("coefficients must name at least one (a, b, c)")
    if ax is None:
        ax = _new_axes(LOSS_FIGSIZE)
    sigma = np.logspace(-4, 0, 400)
    for name, abc in coefficients.items():
        ax.plot(sigma, newton_schulz_map(sigma, abc, steps), linewidth=2.0, label=name)
    if sample is not None:
        G = np.asarray(sample, dtype=float)
        a, b, c = next(iter(coefficients.values()))
        U, before, Vt = np.linalg.svd(G / np.linalg.norm(G), full_matrices=False)
        O = newton_schulz(G, a=a, b=b, c=c, steps=steps, eps=1e-7)
        # The output keeps G's singular vectors: read each output value along its input's
        # own pair (sorting the outputs would mix them up, as the map is not monotone).
        after = np.einsum("ik,ij,jk->k", U, O, Vt.T)
        ax.plot(before, after, linestyle="none", marker="o", markersize=4, color="black",
                label="a matrix's singular values")
    ax.axhline(1.0, color=BASELINE_COLOR, linestyle="--", linewidth=1.0)
    ax.set_xscale("log")
    ax.set_xlim(sigma[0], 1.0)
    ax.set_ylim(0.0, 1.4)
    ax.set_xlabel("singular value σ of G / ‖G‖_F")
    ax.set_ylabel(f"after {steps} iterations")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", fontsize="small")
    return ax


class MatrixFigure(_BlitFigure):
    """The matrix experiment's two panels (loss; singular values of one step's update),
    drawn once, on which :meth:`update` redraws the runs.

    Attributes for inspection: ``loss_line``, ``spectrum_line`` and their ``baseline_``
    twins, ``axes`` (the loss panel), ``spectrum_axes``, :attr:`message` and :attr:`title`.
    """

    def __init__(self, *, steps: int = 200, size: int = 32, step: int | None = None,
                 figsize: tuple[float, float] = MATRIX_FIGSIZE, dpi: float = DPI) -> None:
        super().__init__(figsize, dpi)
        self.step = max(1, steps // 2) if step is None else step
        grid = self.figure.add_gridspec(1, 2)
        self.axes.set_subplotspec(grid[0])
        self.spectrum_axes = self.figure.add_subplot(grid[1])
        self._title.set_text("")
        self._title = self.figure.suptitle(" \n ", fontsize="medium", animated=True)
        _matrix_axes(self.axes, self.spectrum_axes, steps, size, self.step)
        self.baseline_line = _loss_line(self.axes, baseline=True, animated=True)
        self.loss_line = _loss_line(self.axes, baseline=False, animated=True)
        self.baseline_spectrum_line = _loss_line(self.spectrum_axes, baseline=True, animated=True)
        self.spectrum_line = _loss_line(self.spectrum_axes, baseline=False, animated=True)
        for line in (self.spectrum_line, self.baseline_spectrum_line):
            line.set_marker("o")
            line.set_markersize(3)
        self._message = _loss_message_text(self.axes, animated=True)
        self._cache_background()

    def _animated_artists(self) -> list[Any]:
        return [self.baseline_line, self.loss_line, self.baseline_spectrum_line, self.spectrum_line,
                self._message, self._title]

    def _data_lines(self) -> list[Line2D]:
        return [self.loss_line, self.baseline_line, self.spectrum_line, self.baseline_spectrum_line]

    def _web_lines(self) -> dict[str, Line2D]:
        return {"path": self.loss_line, "baseline": self.baseline_line}

    def _draw_run(self, run: MatrixRun, loss_line: Line2D, spectrum_line: Line2D) -> None:
        loss_line.set_data(*_finite_points(np.arange(len(run.losses)), run.losses))
        values = relative_singular_values(run, self.step)
        spectrum_line.set_data(np.arange(1, len(values) + 1), values)

    def update(self, run: MatrixRun, baseline: MatrixRun | None = None) -> None:
        """Show ``run`` (and ``baseline``, dashed) in place of the last runs."""
        _check_matrix_run(run, "run")
        self._draw_run(run, self.loss_line, self.spectrum_line)
        self.loss_line.set_label(run.optimizer)
        message = run.summary() if run.diverged_at is not None else ""
        if baseline is None:
            for line in (self.baseline_line, self.baseline_spectrum_line):
                line.set_data([], [])
            self._set_legend([self.loss_line])
        else:
            _check_matrix_run(baseline, "baseline")
            self._draw_run(baseline, self.baseline_line, self.baseline_spectrum_line)
            self.baseline_line.set_label(_baseline_label(baseline.optimizer, baseline.hyperparameters))
            self._set_legend([self.loss_line, self.baseline_line])
            baseline_message = baseline.summary() if baseline.diverged_at is not None else ""
            message = _with_baseline_message(message, baseline_message)
        self._message.set_text(_wrap_message(message))
        self._set_title(run.title())
        self._redraw()


# --- Learning-rate schedules (the schedules chapter) ------------------------------------------
# Imported here, not at the top, so that this section can be read (and merged) on its own.

from .rules._checks import check_whole  # noqa: E402
from .schedules import RangeTest, schedule_factors  # noqa: E402

SCHEDULE_FIGSIZE = (8.0, 3.4)
AIRFOIL_EXAMPLES = 1500
"""Rows of the airfoil data (for the step → epoch axis of its runs)."""


def _run_kind(run: Any, name: str) -> str:
    if isinstance(run, LossCurve):
        return "loss"
    if isinstance(run, NetworkRun):
        return "network"
    raise ValueError(f"{name} must be a LossCurve (train_linear_regression) or a NetworkRun (train_network); "
                     f"got {type(run).__name__}")


def run_learning_rates(run: LossCurve | NetworkRun, examples: int) -> tuple[np.ndarray, np.ndarray]:
    """Each step's learning rate against the epoch at which the step ends, for a run of
    ``examples`` training examples (a run without a scheduler: its constant ``lr``, at every
    step its curve covers)."""
    check_whole("examples", examples, 1)
    steps_per_epoch = math.ceil(examples / run.batch_size)
    rates = run.learning_rates
    if rates is None:
        steps = round(float(run.epochs[-1]) * steps_per_epoch)
        rates = np.full(steps, float(run.hyperparameters.get("lr", math.nan)))
    return (np.arange(len(rates)) + 1) / steps_per_epoch, np.asarray(rates, dtype=float)


def _run_losses(run: LossCurve | NetworkRun) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(run, LossCurve):
        return _finite_curve(run)
    return _finite_points(run.train_epochs, run.train_losses)


def _run_message(run: LossCurve | NetworkRun, top: float) -> str:
    return loss_curve_message(run, top) if isinstance(run, LossCurve) else network_message(run, top)


def _schedule_axes(loss_ax: Axes, lr_ax: Axes, kind: str, epochs: float, lr_top: float) -> None:
    if kind == "network":
        loss_ax.set_yscale("log")
        loss_ax.set_ylim(*NETWORK_LOSS_YLIM)
        loss_ax.set_ylabel("training loss (cross-entropy)")
    else:
        loss_ax.set_ylim(*LOSS_YLIM)
        loss_ax.set_ylabel("loss")
    lr_ax.set_ylim(0.0, lr_top)
    lr_ax.set_ylabel("learning rate η_t")
    for ax in (loss_ax, lr_ax):
        ax.set_xlim(0.0, epochs)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.set_autoscale_on(False)


def plot_schedules(schedules: Mapping[str, Any], steps: int, ax: Axes | None = None) -> Axes:
    """Draw the factor :math:`\\eta_t/\\eta` of each schedule (label → a
    :class:`~optim_lib.schedules.Schedule` or any function optimizer → ``LRScheduler``)
    against the step, over ``steps`` steps."""
    if not isinstance(schedules, Mapping) or not schedules:
        raise ValueError(f"schedules must be a non-empty dict label -> schedule; got {schedules!r}")
    check_whole("steps", steps, 1)
    if ax is None:
        ax = _new_axes(LOSS_FIGSIZE)
    t = np.arange(1, steps + 1)
    for label, schedule in schedules.items():
        ax.plot(t, schedule_factors(schedule, steps), label=label, linewidth=2.0)
    ax.set_xlim(0, steps)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("step t")
    ax.set_ylabel("factor η_t / η")
    ax.set_title(f"Learning-rate schedules over {steps} steps", fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_range_tests(tests: RangeTest | Sequence[RangeTest], ax: Axes | None = None,
                     labels: Sequence[str] | None = None, *, ylim: tuple[float, float] | None = None,
                     log_loss: bool = False) -> Axes:
    """Draw learning-rate range tests: the loss after each step against that step's learning
    rate (log scale), one line per test, with a circle at the smallest loss and a message
    where a test stopped because the loss blew up."""
    if isinstance(tests, RangeTest):
        tests = [tests]
    tests = list(tests)
    if not tests or not all(isinstance(test, RangeTest) for test in tests):
        raise ValueError(f"tests must be RangeTest results (from lr_range_test); got {tests!r}")
    if labels is None:
        labels = [describe_run(test.optimizer, test.hyperparameters) for test in tests]
    elif isinstance(labels, str) or len(labels) != len(tests):
        raise ValueError(f"labels must be a list of {len(tests)} strings, one per test; got {labels!r}")
    if ax is None:
        ax = _new_axes(LOSS_FIGSIZE)
    messages = []
    for test, label in zip(tests, labels):
        rates, losses = _finite_points(test.learning_rates, test.losses)
        (line,) = ax.plot(rates, losses, label=label, linewidth=2.0)
        best = int(np.argmin(losses))
        ax.plot(rates[best], losses[best], "o", color=line.get_color(), markersize=7, fillstyle="none")
        if test.stopped_at_lr is not None:
            messages.append(f"{label}: loss blew up at lr {test.stopped_at_lr:.3g}, test stopped")
    ax.set_xscale("log")
    if log_loss:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*_check_ylim(ylim))
    ax.set_xlabel("learning rate of the step (log scale)")
    ax.set_ylabel("loss after the step")
    ax.set_title("Learning-rate range test", fontsize="medium")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", fontsize="small")
    _loss_message_text(ax, animated=False).set_text(_wrap_message("\n".join(messages)))
    return ax


def plot_scheduled_runs(runs: Sequence[LossCurve | NetworkRun], axes: Sequence[Axes] | None = None,
                        labels: Sequence[str] | None = None, *, examples: int) -> tuple[Axes, Axes]:
    """Draw runs (all airfoil curves or all network runs) with their schedules: the loss
    (left) and each step's learning rate (right) against the epoch, one colour per run.

    Args:
        runs: from ``train_linear_regression`` or ``train_network``, each with or without a
            scheduler.
        labels: one legend entry per run; default the optimizer and its hyperparameters.
        examples: the training examples per epoch (``len(data)`` for the airfoil,
            ``data.n_train`` for the digits), which place the steps on the epoch axis.
    """
    if isinstance(runs, (LossCurve, NetworkRun)):
        runs = [runs]
    runs = list(runs)
    if not runs:
        raise ValueError("runs must hold at least one run; got none")
    kinds = {_run_kind(run, "each run") for run in runs}
    if len(kinds) != 1:
        raise ValueError("runs must be all LossCurves or all NetworkRuns, not a mix")
    kind = kinds.pop()
    if labels is None:
        labels = [describe_run(run.optimizer, run.hyperparameters) for run in runs]
    elif isinstance(labels, str) or len(labels) != len(runs):
        raise ValueError(f"labels must be a list of {len(runs)} strings, one per run; got {labels!r}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=SCHEDULE_FIGSIZE, layout="constrained")
    loss_ax, lr_ax = axes
    top = NETWORK_LOSS_YLIM[1] if kind == "network" else LOSS_YLIM[1]
    messages, epochs, lr_top = [], 0.0, 0.0
    for run, label in zip(runs, labels):
        (line,) = loss_ax.plot(*_run_losses(run), label=label, linewidth=2.0)
        step_epochs, rates = run_learning_rates(run, examples)
        lr_ax.plot(step_epochs, rates, color=line.get_color(), linewidth=2.0, label=label)
        epochs = max(epochs, float(run.epochs if kind == "network" else run.epochs[-1]))
        lr_top = max(lr_top, float(np.nanmax(rates)) if len(rates) else 0.0)
        message = _run_message(run, top)
        if message:
            messages.append(message if len(runs) == 1 else f"{label}: {message}")
    _schedule_axes(loss_ax, lr_ax, kind, epochs if epochs > 0 else 1.0, 1.05 * lr_top if lr_top > 0 else 1.0)
    loss_ax.set_title("training loss" if kind == "network" else "loss on all the data", fontsize="medium")
    lr_ax.set_title("the schedule: learning rate of each step", fontsize="medium")
    lr_ax.legend(loc="upper right", fontsize="small")
    _loss_message_text(loss_ax, animated=False).set_text(_wrap_message("\n".join(messages)))
    return loss_ax, lr_ax


class ScheduleFigure(_BlitFigure):
    """Loss (left) and learning rate (right) against the epoch, drawn once, on which
    :meth:`update` redraws a run and its schedule (and a baseline's, dashed): the figure of
    the schedule explorer, for airfoil curves (``kind="loss"``) or network runs
    (``kind="network"``).

    The learning-rate panel shows :math:`\\eta_t` from 0 to ``lr_top`` at first; each update
    sets its top to :func:`~optim_lib.live.schedule.lr_axis_top` of the runs' largest learning
    rate (with a new background when that changes), so the figure depends only on what it
    shows, as the website's copy of it does.
    """

    def __init__(self, *, kind: str = "loss", epochs: float = 2.0, examples: int = AIRFOIL_EXAMPLES,
                 lr_top: float = 0.1, figsize: tuple[float, float] = SCHEDULE_FIGSIZE, dpi: float = DPI) -> None:
        if kind not in ("loss", "network"):
            raise ValueError(f"kind must be 'loss' or 'network'; got {kind!r}")
        if not (isinstance(epochs, (int, float)) and 0 < epochs < float("inf")):
            raise ValueError(f"epochs must be a number in (0, inf); got {epochs!r}")
        check_whole("examples", examples, 1)
        if not (isinstance(lr_top, (int, float)) and 0 < lr_top < float("inf")):
            raise ValueError(f"lr_top must be a number in (0, inf); got {lr_top!r}")
        super().__init__(figsize, dpi)
        self.kind, self.examples, self.epochs = kind, examples, float(epochs)
        grid = self.figure.add_gridspec(1, 2)
        self.axes.set_subplotspec(grid[0])
        self.lr_axes = self.figure.add_subplot(grid[1])
        self._title.set_text("")
        self._title = self.figure.suptitle(" \n ", fontsize="medium", animated=True)
        _schedule_axes(self.axes, self.lr_axes, kind, self.epochs, float(lr_top))
        self._set_lr_ticks(float(lr_top))
        self.baseline_line = _loss_line(self.axes, baseline=True, animated=True)
        self.loss_line = _loss_line(self.axes, baseline=False, animated=True)
        self.baseline_lr_line = _loss_line(self.lr_axes, baseline=True, animated=True)
        self.lr_line = _loss_line(self.lr_axes, baseline=False, animated=True)
        self._message = _loss_message_text(self.axes, animated=True)
        self._cache_background()

    def _animated_artists(self) -> list[Any]:
        return [self.baseline_line, self.loss_line, self.baseline_lr_line, self.lr_line, self._message, self._title]

    def _data_lines(self) -> list[Line2D]:
        return [self.loss_line, self.baseline_line, self.lr_line, self.baseline_lr_line]

    def _web_lines(self) -> dict[str, Line2D]:
        return {"path": self.loss_line, "baseline": self.baseline_line,
                "lr_path": self.lr_line, "lr_baseline": self.baseline_lr_line}

    def _set_lr_ticks(self, top: float) -> None:
        from matplotlib.ticker import FixedLocator, FuncFormatter

        self.lr_axes.set_ylim(0.0, top)
        self.lr_axes.yaxis.set_major_locator(FixedLocator(live_schedule.lr_ticks(top)))
        self.lr_axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: live_schedule.tick_label(value)))

    def web_geometry(self) -> dict[str, Any]:
        """:meth:`_BlitFigure.web_geometry`, with the learning-rate panel (``panels["lr"]``:
        its box and epoch range; its top changes with the run, so the background leaves out
        its tick labels, and ``lr_ticks`` says where the page writes them)."""
        self.lr_axes.tick_params(axis="y", labelcolor="none")  # same layout, labels unseen
        self._cache_background()
        try:
            geometry = super().web_geometry()
            width, height = self.canvas.get_width_height()
            box = self.lr_axes.get_window_extent()
            labels = self.lr_axes.get_yticklabels()
            points = self.figure.dpi / 72
            geometry["panels"] = {"lr": {"axes": [float(box.x0), float(height - box.y1), float(box.width),
                                                  float(box.height)],
                                         "xlim": [float(v) for v in self.lr_axes.get_xlim()]}}
            geometry["lr_ticks"] = {"x": float(max(label.get_window_extent().x1 for label in labels)),
                                    "size": float(labels[0].get_fontsize() * points), "color": "black"}
        finally:
            self.lr_axes.tick_params(axis="y", labelcolor="black")
            self._cache_background()
            self._redraw()
        return geometry

    def _check(self, run: Any, name: str) -> None:
        if _run_kind(run, name) != self.kind:
            raise ValueError(f"{name} is a {type(run).__name__}, but this figure shows kind {self.kind!r}")

    def _fit(self, runs: list[Any]) -> None:
        """Widen the epoch axis if a run needs it; set the learning-rate axis's top for the
        runs' largest learning rate."""
        needed = max(float(run.epochs if self.kind == "network" else run.epochs[-1]) for run in runs)
        peak = max((float(np.nanmax(run_learning_rates(run, self.examples)[1]))
                    for run in runs if run_learning_rates(run, self.examples)[1].size), default=0.0)
        relayout = changed = False
        if needed > self.axes.get_xlim()[1]:
            for ax in (self.axes, self.lr_axes):
                ax.set_xlim(0.0, math.ceil(needed))
            relayout = changed = True
        if math.isfinite(peak) and peak > 0 and live_schedule.lr_axis_top(peak) != self.lr_axes.get_ylim()[1]:
            # New tick labels in the same layout, as the website's copy draws them over its
            # fixed background (and 45 ms faster than a new layout).
            self._set_lr_ticks(live_schedule.lr_axis_top(peak))
            changed = True
        if changed:
            self._cache_background(relayout)

    def update(self, run: LossCurve | NetworkRun, baseline: LossCurve | NetworkRun | None = None,
               title: str | None = None) -> None:
        """Show ``run`` and its schedule (and ``baseline``'s, dashed) in place of the last;
        the title is ``title``, or the run's own."""
        self._check(run, "run")
        if baseline is not None:
            self._check(baseline, "baseline")
        self._fit([run] if baseline is None else [run, baseline])
        self.loss_line.set_data(*_run_losses(run))
        self.lr_line.set_data(*run_learning_rates(run, self.examples))
        self.loss_line.set_label(run.optimizer)
        top = self.axes.get_ylim()[1]
        message = _run_message(run, top)
        if baseline is None:
            self.baseline_line.set_data([], [])
            self.baseline_lr_line.set_data([], [])
            self._set_legend([self.loss_line])
        else:
            self.baseline_line.set_data(*_run_losses(baseline))
            self.baseline_lr_line.set_data(*run_learning_rates(baseline, self.examples))
            self.baseline_line.set_label(_baseline_label(baseline.optimizer, baseline.hyperparameters))
            self._set_legend([self.loss_line, self.baseline_line])
            message = _with_baseline_message(message, _run_message(baseline, top))
        self._message.set_text(_wrap_message(message))
        if title is None:
            title = _loss_title(run) if isinstance(run, LossCurve) else run.title()
        self._set_title(title)
        self._redraw()


# --- The step against the memory-bandwidth floor -------------------------------------------

ROOFLINE_FIGSIZE = (7.0, 4.4)


def plot_step_roofline(timings: Sequence[Mapping[str, Any]], bandwidth: float, ax: Axes | None = None,
                       *, bandwidth_label: str = "measured bandwidth") -> Axes:
    """Step time against the bytes a step must move, on log axes, with the floor set by
    the memory bandwidth: the line ``seconds = bytes / bandwidth`` (a roofline's memory
    roof, drawn as time). Each point is a measured step, one colour and marker per path;
    each column of points is named by its optimizers below it. The closer a point to the
    line, the closer that path is to the machine's limit (a point below it found part of
    its data in a cache, or the bandwidth was measured under another load).

    ``timings``: dicts with ``"optimizer"``, ``"path"`` (the implementation), ``"bytes"``
    (bytes the step must move: the cost model's bytes per parameter times the parameters)
    and ``"seconds"`` (the measured median step time). ``bandwidth`` in bytes per second.
    The axes are in MB and milliseconds.

    Raises:
        ValueError: no timings, a timing without positive finite bytes and seconds, or a
            bandwidth that is not positive and finite.
    """
    from matplotlib.ticker import FuncFormatter

    if not timings:
        raise ValueError("timings must hold at least one measured step; got none")
    if not (isinstance(bandwidth, (int, float)) and 0 < bandwidth < math.inf):
        raise ValueError(f"bandwidth must be a positive finite number of bytes per second; got {bandwidth!r}")
    for timing in timings:
        for key in ("bytes", "seconds"):
            value = timing.get(key)
            if not (isinstance(value, (int, float)) and 0 < value < math.inf):
                raise ValueError(f"each timing's {key!r} must be a positive finite number; got {timing!r}")
    if ax is None:
        ax = _new_axes(ROOFLINE_FIGSIZE)
    markers = "osD^vP*Xh"
    paths = list(dict.fromkeys(t["path"] for t in timings))
    for index, path in enumerate(paths):
        mine = [t for t in timings if t["path"] == path]
        ax.plot([t["bytes"] / 1e6 for t in mine], [1e3 * t["seconds"] for t in mine], linestyle="none",
                marker=markers[index % len(markers)], markersize=7, label=path)
    low = min(t["bytes"] for t in timings) / 1.6
    high = max(t["bytes"] for t in timings) * 1.6
    sizes = np.geomspace(low, high, 50)
    ax.plot(sizes / 1e6, 1e3 * sizes / bandwidth, color="black", linewidth=1.5,
            label=f"floor: bytes / {bandwidth_label} ({bandwidth / 1e9:.1f} GB/s)")
    columns: dict[float, list[str]] = {}
    for t in timings:
        names = columns.setdefault(t["bytes"], [])
        if t.get("optimizer") and t["optimizer"] not in names:
            names.append(t["optimizer"])
    bottom = min(min(1e3 * t["seconds"] for t in timings), 1e3 * low / bandwidth) / 6
    for moved, names in columns.items():
        ax.annotate(" / ".join(names), (moved / 1e6, bottom), ha="center", va="bottom", rotation=90,
                    fontsize="small", color=BASELINE_COLOR)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low / 1e6, high / 1e6)
    ax.set_ylim(bottom / 1.1, None)
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.tick_params(axis="both", which="minor", labelsize="x-small")
    ax.set_xlabel("MB one step must move (cost model)")
    ax.set_ylabel("time of one step (ms, median)")
    ax.set_title("One optimizer step against the memory-bandwidth floor")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", fontsize="small")
    return ax
