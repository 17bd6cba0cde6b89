"""How long a slider move takes in the kernel: re-run, redraw, encode the PNG.

Run from the repository root::

    .venv/bin/python benchmarks/bench_sliders.py

Each event sets a slider's value on an explorer (trajectory, airfoil loss curve, digits
network) (which re-runs the experiment and redraws
the figure through its observer) and then encodes the PNG a live notebook would send.
Not measured: sending the PNG to the browser and the browser drawing it.

The reference re-plots from scratch each time (a new figure, the contour, the path, a PNG):
what a slider wired to a plain plotting function would cost.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, Python puts benchmarks/ on the path, not the repository: put it first, so
# that this checkout's optim_lib is the one measured.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from optim_lib import SGD, Adam, load_airfoil, run_trajectory  # noqa: E402
from optim_lib.plotting import TRAJECTORY_FIGSIZE, plot_trajectory  # noqa: E402
from optim_lib.digits import load_digits  # noqa: E402
from optim_lib.widgets import loss_curve_explorer, network_explorer, trajectory_explorer  # noqa: E402

EVENTS = 30
TRAJECTORY_TARGET_MS = 30.0
LOSS_CURVE_TARGET_MS = 100.0
NETWORK_TARGET_MS = 300.0
DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "airfoil_self_noise.dat"


def median_ms(event: Callable[[int], object], events: int = EVENTS) -> float:
    """Median wall time of ``event(i)`` over ``events`` calls, after one warm-up call."""
    event(-1)
    times = []
    for i in range(events):
        tic = time.perf_counter()
        event(i)
        times.append(time.perf_counter() - tic)
    return 1000 * statistics.median(times)


def trajectory_event_ms() -> float:
    """Adam, 100 steps, with a baseline: move the learning rate back and forth."""
    explorer = trajectory_explorer(Adam, {"lr": 0.3}, steps=100, baseline=(SGD, {"lr": 0.1}))

    def event(i: int) -> None:
        explorer.sliders["lr"].value = 0.2 if i % 2 else 0.3
        explorer.figure.png()

    return median_ms(event)


def loss_curve_event_ms() -> float:
    """Adam on the airfoil data, batch 10, 2 epochs: move the learning rate back and forth."""
    data = load_airfoil(DATA_FILE if DATA_FILE.exists() else None)
    explorer = loss_curve_explorer(Adam, {"lr": 0.01}, data, batch_size=10, epochs=2)

    def event(i: int) -> None:
        explorer.sliders["lr"].value = 0.02 if i % 2 else 0.01
        explorer.figure.png()

    return median_ms(event)


def network_event_ms() -> float:
    """Adam on the digits network, the explorer's default (batch 32, 10 epochs), with SGD
    with momentum as the baseline: move the learning rate back and forth (the baseline is
    cached, as for the other explorers)."""
    data = load_digits()
    explorer = network_explorer(Adam, {"lr": 3e-3}, data, baseline=(SGD, {"lr": 0.03, "momentum": 0.9}))

    def event(i: int) -> None:
        explorer.sliders["lr"].value = 0.01 if i % 2 else 3e-3
        explorer.figure.png()

    return median_ms(event, events=max(5, EVENTS // 3))


def full_replot_ms() -> float:
    """The reference: run, then a new figure with the contour and the path, and a PNG."""

    def event(i: int) -> None:
        trajectory = run_trajectory(Adam, {"lr": 0.2 if i % 2 else 0.3}, steps=100)
        figure = Figure(figsize=TRAJECTORY_FIGSIZE, dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        plot_trajectory(trajectory, figure.add_subplot())
        figure.savefig(io.BytesIO(), format="png")

    return median_ms(event)


def report(name: str, measured: float, target: float) -> bool:
    passed = measured <= target
    print(f"{name:<44} median {measured:7.1f} ms   target <= {target:5.0f} ms   {'PASS' if passed else 'FAIL'}")
    return passed


def main() -> int:
    # A script may choose the thread count (the library never does): one thread is steadier
    # for these tiny tensors, and does not stall when the other core is busy.
    torch.set_num_threads(1)
    print(f"slider events, median of {EVENTS} (kernel side: re-run + redraw + PNG)")
    trajectory = trajectory_event_ms()
    loss_curve = loss_curve_event_ms()
    network = network_event_ms()
    reference = full_replot_ms()
    results = [
        report("(a) trajectory, Adam, 100 steps", trajectory, TRAJECTORY_TARGET_MS),
        report("(b) loss curve, Adam, batch 10, 2 epochs", loss_curve, LOSS_CURVE_TARGET_MS),
        report("(c) network, Adam, batch 32, 10 epochs", network, NETWORK_TARGET_MS),
    ]
    print(f"{'reference: full re-plot with contour':<44} median {reference:7.1f} ms   "
          f"({reference / trajectory:.1f}x the trajectory event)")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
