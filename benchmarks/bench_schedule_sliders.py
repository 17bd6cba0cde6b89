"""How long a slider move takes in the kernel in the schedules chapter (11).

Run from the repository root::

    .venv/bin/python benchmarks/bench_schedule_sliders.py

Each event sets a slider on a schedule explorer as the chapter builds it (same optimizer,
default settings and constant-rate baseline), which re-runs the experiment with its schedule
and redraws both panels, and then encodes the PNG a live notebook would send; as
benchmarks/bench_sliders.py does for the classic explorers, with the same targets (airfoil
curve 100 ms, network 300 ms). The classic explorers' events are measured in the same run,
for ratios on a busy machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ on the path, not the repository: put it first, so
# that this checkout's optim_lib is the one measured.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from bench_sliders import DATA_FILE, EVENTS, LOSS_CURVE_TARGET_MS, NETWORK_TARGET_MS, median_ms, report  # noqa: E402
from optim_lib import SGD, Adam, load_airfoil  # noqa: E402
from optim_lib.digits import load_digits  # noqa: E402
from optim_lib.widgets import loss_curve_explorer, network_explorer, schedule_explorer  # noqa: E402


def slider_event_ms(explorer, name: str, values: tuple, events: int = EVENTS) -> float:
    """Move slider ``name`` between two values, re-running and encoding the PNG each time."""

    def event(i: int) -> None:
        explorer.sliders[name].value = values[i % 2]
        explorer.figure.png()

    return median_ms(event, events)


def main() -> int:
    torch.set_num_threads(1)  # the scripts' choice, as in bench_sliders.py
    data = load_airfoil(DATA_FILE if DATA_FILE.exists() else None)
    digits = load_digits()
    few = max(5, EVENTS // 3)
    print(f"slider events, median of {EVENTS} ({few} for the network; re-run + redraw + PNG)")
    airfoil = schedule_explorer(SGD, {"lr": 0.1}, data, decay="cosine", baseline=(SGD, {"lr": 0.1}))
    network = schedule_explorer(Adam, {"lr": 0.01}, digits, warmup=0.1, baseline=(Adam, {"lr": 0.01}))
    results = [
        report("(a) schedule, airfoil, SGD, lr", slider_event_ms(airfoil, "lr", (0.2, 0.1)), LOSS_CURVE_TARGET_MS),
        report("(b) schedule, airfoil, SGD, decay", slider_event_ms(airfoil, "decay", ("wsd", "cosine")),
               LOSS_CURVE_TARGET_MS),
        report("(c) schedule, network, Adam, 5 epochs, warm-up",
               slider_event_ms(network, "warmup", (0.0, 0.1), few), NETWORK_TARGET_MS),
        report("(d) schedule, network, Adam, 5 epochs, decay",
               slider_event_ms(network, "decay", ("wsd", "cosine"), few), NETWORK_TARGET_MS),
    ]
    classic_airfoil = slider_event_ms(loss_curve_explorer(SGD, {"lr": 0.1}, data), "lr", (0.2, 0.1))
    classic_network = slider_event_ms(network_explorer(Adam, {"lr": 0.01}, digits, epochs=5), "lr", (0.02, 0.01), few)
    print(f"{'reference: airfoil explorer, no schedule':<44} median {classic_airfoil:7.1f} ms")
    print(f"{'reference: network explorer, 5 epochs':<44} median {classic_network:7.1f} ms")
    print("all targets met" if all(results) else f"{results.count(False)} target(s) missed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
