"""How long a slider move takes in the kernel in the Adafactor and Muon chapters (13, 15).

Run from the repository root::

    .venv/bin/python benchmarks/bench_memory_matrix_sliders.py

Each event sets a slider on an explorer, as the chapter builds it (same optimizer, default
settings and baseline), which re-runs the experiment and redraws the figure, and then encodes
the PNG a live notebook would send; as benchmarks/bench_sliders.py does for the classic
explorers, with the same targets. The matrix explorer has no target of its own; it is held to
the network's 300 ms, the budget of the other explorer whose experiment the browser cannot run.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ on the path, not the repository: put it first, so
# that this checkout's optim_lib is the one measured.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from bench_sliders import (  # noqa: E402
    DATA_FILE, EVENTS, LOSS_CURVE_TARGET_MS, NETWORK_TARGET_MS, TRAJECTORY_TARGET_MS, median_ms, report,
)
from optim_lib import SGD, Adafactor, Adam, AdamW, Muon, load_airfoil  # noqa: E402
from optim_lib.digits import load_digits  # noqa: E402
from optim_lib.matrix import matrix_problem  # noqa: E402
from optim_lib.optimizers import MuonWithAdamW  # noqa: E402
from optim_lib.widgets import loss_curve_explorer, matrix_explorer, network_explorer, trajectory_explorer  # noqa: E402

MATRIX_TARGET_MS = NETWORK_TARGET_MS


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
    print(f"slider events, median of {EVENTS} ({few} for the network and matrix explorers; re-run + redraw + PNG)")
    results = [
        report("(a) trajectory, Adafactor, 100 steps",
               slider_event_ms(trajectory_explorer(Adafactor, {"lr": 0.3}, steps=100, baseline=(Adam, {"lr": 0.3})),
                               "lr", (0.2, 0.3)), TRAJECTORY_TARGET_MS),
        report("(b) loss curve, Adafactor, batch 10",
               slider_event_ms(loss_curve_explorer(Adafactor, {"lr": 0.1}, data), "lr", (0.2, 0.1)),
               LOSS_CURVE_TARGET_MS),
        report("(c) network, Adafactor, batch 32, 10 epochs",
               slider_event_ms(network_explorer(Adafactor, {"lr": 0.1}, digits, baseline=(AdamW, {"lr": 0.0046})),
                               "lr", (0.2, 0.1), few), NETWORK_TARGET_MS),
        report("(d) network, Muon + AdamW, 10 epochs",
               slider_event_ms(network_explorer(MuonWithAdamW, {"lr": 0.01, "weight_decay": 0.01}, digits,
                                                baseline=(AdamW, {"lr": 0.0046})), "lr", (0.02, 0.01), few),
               NETWORK_TARGET_MS),
        report("(e) matrix, Muon, 200 steps",
               slider_event_ms(matrix_explorer(Muon, {"lr": 0.316, "weight_decay": 0.0}, matrix_problem(),
                                               baseline=(SGD, {"lr": 1.0, "momentum": 0.9})), "lr", (0.2, 0.316), few),
               MATRIX_TARGET_MS),
    ]
    # The same events for the classic explorers, measured in this run: on a busy shared machine
    # the ratios say more than the milliseconds.
    adam_trajectory = slider_event_ms(trajectory_explorer(Adam, {"lr": 0.3}, steps=100, baseline=(SGD, {"lr": 0.1})),
                                      "lr", (0.2, 0.3))
    adam_network = slider_event_ms(network_explorer(Adam, {"lr": 3e-3}, digits,
                                                    baseline=(SGD, {"lr": 0.03, "momentum": 0.9})), "lr", (0.01, 3e-3), few)
    print(f"{'reference: (a) with Adam (bench_sliders.py)':<44} median {adam_trajectory:7.1f} ms")
    print(f"{'reference: (c) with Adam (bench_sliders.py)':<44} median {adam_network:7.1f} ms")
    print("all targets met" if all(results) else f"{results.count(False)} target(s) missed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
