"""How long a slider move takes in the kernel in the schedule-free chapter (16).

Run from the repository root::

    .venv/bin/python benchmarks/bench_schedule_free_sliders.py

Each event sets a slider on an explorer as the chapter builds it (schedule-free AdamW, the
chapter's starting values and baselines), which re-runs the experiment and redraws the figure,
and then encodes the PNG a live notebook would send; as benchmarks/bench_sliders.py does for
the classic explorers, with the same targets. Schedule-free AdamW's airfoil curve is trained
through torch (its rule is evaluated at x, not at its parameters, so the pure-Python trainer
does not take it): event (b) is the one to watch. The classic explorers' events are measured
in the same run, for ratios on a busy machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ on the path, not the repository: put it first, so
# that this checkout's optim_lib is the one measured.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from bench_memory_matrix_sliders import slider_event_ms  # noqa: E402
from bench_sliders import (  # noqa: E402
    DATA_FILE, EVENTS, LOSS_CURVE_TARGET_MS, NETWORK_TARGET_MS, TRAJECTORY_TARGET_MS, report,
)
from optim_lib import SGD, Adam, AdamW, AdamWScheduleFree, load_airfoil  # noqa: E402
from optim_lib.digits import load_digits  # noqa: E402
from optim_lib.widgets import loss_curve_explorer, network_explorer, trajectory_explorer  # noqa: E402


def main() -> int:
    torch.set_num_threads(1)  # the scripts' choice, as in bench_sliders.py
    data = load_airfoil(DATA_FILE if DATA_FILE.exists() else None)
    digits = load_digits()
    few = max(5, EVENTS // 3)
    print(f"slider events, median of {EVENTS} ({few} for the network explorer; re-run + redraw + PNG)")
    trajectory = slider_event_ms(trajectory_explorer(AdamWScheduleFree, {"lr": 1.0}, steps=100,
                                                     baseline=(Adam, {"lr": 1.0})), "lr", (0.5, 1.0))
    curve = slider_event_ms(loss_curve_explorer(AdamWScheduleFree, {"lr": 0.0215}, data,
                                                baseline=(AdamW, {"lr": 0.00464})), "lr", (0.0464, 0.0215))
    network = slider_event_ms(network_explorer(AdamWScheduleFree, {"lr": 0.0215, "warmup_steps": 47}, digits,
                                               baseline=(AdamW, {"lr": 0.0215})), "lr", (0.0464, 0.0215), few)
    results = [
        report("(a) trajectory, AdamWScheduleFree, 100 steps", trajectory, TRAJECTORY_TARGET_MS),
        report("(b) loss curve, AdamWScheduleFree, batch 10", curve, LOSS_CURVE_TARGET_MS),
        report("(c) network, AdamWScheduleFree, 10 epochs", network, NETWORK_TARGET_MS),
    ]
    adam_trajectory = slider_event_ms(trajectory_explorer(Adam, {"lr": 0.3}, steps=100, baseline=(SGD, {"lr": 0.1})),
                                      "lr", (0.2, 0.3))
    adam_curve = slider_event_ms(loss_curve_explorer(Adam, {"lr": 0.01}, data), "lr", (0.02, 0.01))
    adam_network = slider_event_ms(network_explorer(Adam, {"lr": 3e-3}, digits,
                                                    baseline=(SGD, {"lr": 0.03, "momentum": 0.9})), "lr", (0.01, 3e-3), few)
    for name, reference, measured in (("(a)", adam_trajectory, trajectory), ("(b)", adam_curve, curve),
                                      ("(c)", adam_network, network)):
        print(f"{'reference: ' + name + ' with Adam (bench_sliders.py)':<44} median {reference:7.1f} ms   "
              f"(schedule-free: {measured / reference:.2f}x)")
    print("all targets met" if all(results) else f"{results.count(False)} target(s) missed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
