"""optim_lib versus torch.optim: step times, and the airfoil trainer's time.

Run: .venv/bin/python benchmarks/bench_optimizers.py   (or `make bench`)

Prints medians over repeated, interleaved measurements (so both sides see the same machine
load) and the ratio ours / torch's. Targets (issue: optim_lib): the trainer, 2 epochs at
batch size 10, in <= 100 ms median; optim_lib no slower than torch.optim on the same run.
This is a script, not a test: timings on a shared 2-core machine are too noisy to assert.

Reading the two tables: step() alone, called back to back, is the optimizer's own cost.
There plain SGD is about 1.15x torch's: torch's update is one fused in-place ``add_`` per
parameter, ours runs the readable rule (two NumPy operations and a copy back); every other
optimizer is faster than torch's. The trainer is the workload the loss-curve sliders run:
its gradient is computed in NumPy, and there every step costs more than back to back, torch's
more than ours (timed inside that loop: about 30 against 28 us for plain SGD; torch's step is
many small torch calls, and they run cold between the NumPy ones), so plain SGD comes out
below 1 too.
The targets are judged on the trainer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

import optim_lib
from optim_lib import load_airfoil, train_linear_regression

# (label, class name, hyperparameters): the chapters' airfoil settings.
RUNS = [
    ("SGD", "SGD", {"lr": 0.05}),
    ("SGD momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("Adagrad", "Adagrad", {"lr": 0.1}),
    ("RMSprop", "RMSprop", {"lr": 0.01, "alpha": 0.9}),
    ("Adadelta", "Adadelta", {"rho": 0.9}),
    ("Adam", "Adam", {"lr": 0.01}),
    ("AdamW", "AdamW", {"lr": 0.01}),
]
TRAINER_TARGET_MS = 100.0


def step_time_us(cls: type[torch.optim.Optimizer], settings: dict, repeats: int) -> float:
    """Median time of one step() on the trainer's parameters (w: 5, b: 1)."""
    w = torch.randn(5, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    w.grad, b.grad = torch.randn(5), torch.randn(1)
    opt = cls([w, b], **settings)
    opt.step()
    samples = []
    for _ in range(repeats):
        tic = time.perf_counter()
        for _ in range(100):
            opt.step()
        samples.append((time.perf_counter() - tic) / 100 * 1e6)
    return statistics.median(samples)


def trainer_ms(cls: type[torch.optim.Optimizer], settings: dict, data) -> float:
    tic = time.perf_counter()
    train_linear_regression(cls, settings, data, batch_size=10, epochs=2)
    return (time.perf_counter() - tic) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="measurements per median (default 15)")
    parser.add_argument("--data", default=os.environ.get("OPTIM_LIB_AIRFOIL"), help="airfoil file (default: $OPTIM_LIB_AIRFOIL or download)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: steadier on a busy 2-core machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_airfoil(Path(args.data) if args.data else None)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), medians of {args.repeats}\n")
    print(f"{'step() on w(5), b(1)':<24}{'optim_lib':>12}{'torch.optim':>14}{'ratio':>8}")
    slower = []
    for label, name, settings in RUNS:
        ours = step_time_us(getattr(optim_lib, name), settings, args.repeats)
        theirs = step_time_us(getattr(torch.optim, name), settings, args.repeats)
        print(f"{label:<24}{ours:>10.1f}us{theirs:>12.1f}us{ours / theirs:>8.2f}")
        slower += [label] if ours > theirs else []
    if slower:
        print(f"(step() alone, {', '.join(slower)} above 1: see this script's docstring for why; the targets are the trainer's)")

    print(f"\n{'trainer, 2 epochs, batch 10':<28}{'optim_lib':>10}{'torch.optim':>14}{'ratio':>8}  target")
    failures = 0
    for label, name, settings in RUNS:
        ours_samples, theirs_samples = [], []
        for _ in range(args.repeats):  # interleaved, so both see the same load
            ours_samples.append(trainer_ms(getattr(optim_lib, name), settings, data))
            theirs_samples.append(trainer_ms(getattr(torch.optim, name), settings, data))
        ours, theirs = statistics.median(ours_samples), statistics.median(theirs_samples)
        ok = ours <= TRAINER_TARGET_MS and ours <= theirs
        failures += not ok
        print(
            f"{label:<28}{ours:>8.1f}ms{theirs:>12.1f}ms{ours / theirs:>8.2f}  "
            f"{'PASS' if ok else 'FAIL'} (<= {TRAINER_TARGET_MS:.0f} ms, ratio <= 1)"
        )
    print("\nall targets met" if not failures else f"\n{failures} target(s) missed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
