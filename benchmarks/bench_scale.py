"""optim_lib at scale: one step on ResNet-18's parameter shapes, every path, against the memory.

Run: .venv/bin/python benchmarks/bench_scale.py            (full size, 11.7 M numbers; minutes)
     .venv/bin/python benchmarks/bench_scale.py --quick    (small shapes: checks the script only)
     .venv/bin/python benchmarks/bench_scale.py --processes 3 --no-fused   (the same in 3 fresh
         processes, one after another, and each ratio's median and range over them)

For each optimizer of the course it times one ``step()`` of optim_lib's default path (the
readable rule, in 128 K-element slices on large parameters), of ``fused=True`` (the same rule
compiled by torch.compile; elementwise rules only) and of the reference implementations:
torch.optim's for-loop (``foreach=False``, torch's default on the CPU), ``foreach=True`` and
``fused=True`` where torch has it (Adam, AdamW, SGD, Adagrad); lion-pytorch's Lion and the
schedulefree package's AdamWScheduleFree. Medians of interleaved rounds in one process (so
every contestant sees the same machine load), as ratios.

Each optimizer's step must read and write a fixed number of arrays of the parameters' size
(Adam: p, g, m, v read, p, m, v written: 7 float32 arrays, 28 bytes a parameter): at the
memory's speed that is the floor of the step's time. The script measures a STREAM-like copy
and triad on 200 MB arrays in the same run and prints each path's achieved bytes per
second against them.

Targets (issue 13): the default path no slower than torch.optim's faster non-fused path
(for-loop or foreach); ``fused=True`` within 1.3x of torch's fused step where torch has one.
The issue asks for "no slower than torch.optim's default"; on the CPU torch 2.13's default is
the for-loop (``_default_to_fused_or_foreach`` picks foreach only for CUDA, XPU, MTIA and
private-use devices), so each default row also prints its ratio to the for-loop. PASS and
MISS are against the faster of the two, the stricter reading.
This is a script, not a test: on a shared 2-core machine timings are too noisy to assert.
They also differ from process to process, torch's own most (its for-loop Adam took 23 ms in
one process and 37-45 ms in others on this machine): ``--processes N`` runs the whole
comparison in N fresh processes, one after another, and judges each target on the median
of the N ratios.
The first ``fused=True`` step of each optimizer compiles; its time is printed, and with
``--warm-process`` a second process's first step (torch's compile cache warm) too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

import optim_lib
from optim_lib.rules import RULES
from optim_lib.scale import interleaved_medians, make_parameters, numel, resnet18_shapes, stream_kernels

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # oracles.py (Muon in float32)

# (label, optim_lib class, hyperparameters, arrays moved per parameter per step (read + written),
#  reference implementations: label -> factory(params)). The arrays are the fewest a step can
#  touch: each parameter, gradient and state array read once and each new value written once.
TORCH_FUSED = {"Adam", "AdamW", "SGD", "Adagrad"}
LIMITS = {"default": 1.0, "fused": 1.3}  # the targets: optim_lib's time over the reference's at most this


def _torch(name: str, settings: dict) -> dict[str, Callable[[list[torch.Tensor]], torch.optim.Optimizer]]:
    cls = getattr(torch.optim, name)
    paths = {
        "torch for-loop": lambda ps: cls(ps, foreach=False, **settings),
        "torch foreach": lambda ps: cls(ps, foreach=True, **settings),
    }
    if name in TORCH_FUSED:
        paths["torch fused"] = lambda ps: cls(ps, fused=True, **settings)
    return paths


def _lion(settings: dict) -> dict[str, Callable]:
    import lion_pytorch

    return {"lion-pytorch": lambda ps: lion_pytorch.Lion(ps, **settings)}


def _schedule_free(settings: dict) -> dict[str, Callable]:
    import schedulefree

    def make(foreach: bool) -> Callable:
        def build(ps):
            optimizer = schedulefree.AdamWScheduleFree(ps, foreach=foreach, **settings)
            optimizer.train()
            return optimizer
        return build

    return {"schedulefree for-loop": make(False), "schedulefree foreach": make(True)}


def _muon_in_float32(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """torch's Muon with its Newton-Schulz iteration in the gradient's own dtype, for the step
    alone: the tests' float oracle (tests/oracles.py), here in float32."""
    from unittest import mock

    import torch.optim._muon as torch_muon
    from oracles import newton_schulz_without_bfloat16

    iterate = newton_schulz_without_bfloat16(torch_muon._zeropower_via_newtonschulz)
    step = optimizer.step

    def step_in_float32(closure=None):
        with mock.patch.object(torch_muon, "_zeropower_via_newtonschulz", iterate):
            return step(closure)

    optimizer.step = step_in_float32
    return optimizer


RUNS = [
    ("SGD momentum", "SGD", {"lr": 0.01, "momentum": 0.9}, 5, _torch("SGD", {"lr": 0.01, "momentum": 0.9})),
    ("Adam", "Adam", {"lr": 1e-3}, 7, _torch("Adam", {"lr": 1e-3})),
    ("AdamW", "AdamW", {"lr": 1e-3}, 7, _torch("AdamW", {"lr": 1e-3})),
    ("RMSprop", "RMSprop", {"lr": 1e-3}, 5, _torch("RMSprop", {"lr": 1e-3})),
    ("Adagrad", "Adagrad", {"lr": 1e-2}, 5, _torch("Adagrad", {"lr": 1e-2})),
    ("Adadelta", "Adadelta", {}, 7, _torch("Adadelta", {})),
    ("NAdam", "NAdam", {"lr": 1e-3}, 7, _torch("NAdam", {"lr": 1e-3})),
    ("RAdam", "RAdam", {"lr": 1e-3}, 7, _torch("RAdam", {"lr": 1e-3})),
    ("Adamax", "Adamax", {"lr": 1e-3}, 7, _torch("Adamax", {"lr": 1e-3})),
    ("Lion", "Lion", {"lr": 1e-4}, 5, _lion({"lr": 1e-4})),
    ("AdamWScheduleFree", "AdamWScheduleFree", {"lr": 1e-3}, 7, _schedule_free({"lr": 1e-3})),
    # Not elementwise (a factored second moment; orthogonalized matrices): whole tensors, no
    # fused path. Adafactor's factored state is small: p, g read, p written.
    ("Adafactor", "Adafactor", {"lr": 1e-2}, 3, _torch("Adafactor", {"lr": 1e-2})),
    # Muon: matrices only (convolutions as out x in*k*k), Newton-Schulz matmuls: compute-bound.
    # torch's Muon runs Newton-Schulz in bfloat16, optim_lib's (and the paper's reference
    # code's on the CPU) in the parameters' float32: the float32 row is the like-for-like one.
    ("Muon", "Muon", {"lr": 0.02}, 5, {"torch Muon": lambda ps: torch.optim.Muon(ps, lr=0.02),
                                       "torch Muon float32": lambda ps: _muon_in_float32(torch.optim.Muon(ps, lr=0.02))}),
]
QUICK_SHAPES = [(16, 3, 3, 3), (16,), (16,), (32, 16, 3, 3), (32,), (10, 32), (10,)]


def _matrices(shapes: list[tuple[int, ...]]) -> list[tuple[int, int]]:
    return [(s[0], numel([s[1:]])) for s in shapes if len(s) >= 2]


def _ours(name: str, settings: dict, fused: bool) -> Callable[[list[torch.Tensor]], torch.optim.Optimizer]:
    cls = getattr(optim_lib, name)

    def build(ps):
        if not fused:
            optimizer = cls(ps, **settings)
        elif name in TORCH_FUSED:
            optimizer = cls(ps, fused=True, **settings)
        else:  # the classes whose torch.optim signature has no fused: through the param group
            foreach = {"foreach": False} if name == "AdamWScheduleFree" else {}  # its default is True
            optimizer = cls([{"params": ps, "fused": True}], **settings, **foreach)
        if hasattr(optimizer, "train") and callable(optimizer.train):
            optimizer.train()
        return optimizer

    return build


def _warm_process_seconds(shapes: str) -> float:
    """A fresh process's first fused Adam step (torch's compile cache now warm)."""
    code = (
        "import time, torch, optim_lib; from optim_lib.scale import make_parameters, resnet18_shapes; "
        f"ps = make_parameters({shapes}); o = optim_lib.Adam(ps, lr=1e-3, fused=True); "
        "t = time.perf_counter(); o.step(); print(time.perf_counter() - t)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                            cwd=Path(__file__).resolve().parents[1])
    return float(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, 2 rounds, no compilation")
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds per median (default 11)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--only", nargs="*", default=None, help="labels of the optimizers to run")
    parser.add_argument("--no-fused", action="store_true", help="skip optim_lib's fused=True (no compilation)")
    parser.add_argument("--warm-process", action="store_true",
                        help="also time a fresh process's first fused Adam step (compile cache warm)")
    parser.add_argument("--processes", type=int, default=1,
                        help="run the comparison in this many fresh processes, one after another, and judge the "
                             "median ratios (default 1: this process)")
    parser.add_argument("--emit-ratios", action="store_true", help=argparse.SUPPRESS)  # (for --processes)
    args = parser.parse_args()
    if args.processes < 1:
        parser.error(f"--processes must be at least 1; got {args.processes}")
    if args.processes > 1:
        return _over_processes(args.processes)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    quick = args.quick
    shapes = QUICK_SHAPES if quick else resnet18_shapes()
    rounds = 2 if quick else args.rounds
    with_fused = not (quick or args.no_fused)
    n = numel(shapes)

    megabytes = 8.0 if quick else 200.0
    stream, moved = stream_kernels(megabytes)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {len(shapes)} tensors, {n:,} numbers "
          f"({'quick: small shapes' if quick else 'ResNet-18'}); medians of {rounds} interleaved rounds")
    print(f"memory: STREAM copy and triad (torch ops on {megabytes:.0f} MB float32 arrays), timed in every "
          "optimizer's rounds, interleaved with its steps\n")
    print(f"{'optimizer':<19}{'path':<23}{'ms':>9}{'vs best':>9}{'GB/s':>7}{'of triad':>9}  notes")
    bandwidths: list[dict[str, float]] = []

    failures = []
    ratios: dict[str, dict[str, float]] = {}
    for label, name, settings, arrays, references in RUNS:
        if args.only and label not in args.only:
            continue
        run_shapes = _matrices(shapes) if name == "Muon" else shapes
        run_n = numel(run_shapes)
        builders = {"optim_lib": _ours(name, settings, fused=False)}
        elementwise = RULES[name].elementwise
        if with_fused and elementwise:
            builders["optim_lib fused=True"] = _ours(name, settings, fused=True)
        builders.update(references)
        optimizers, notes = {}, {}
        for path, build in builders.items():
            params = make_parameters(run_shapes)
            optimizer = build(params)
            tic = time.perf_counter()
            optimizer.step()
            first = time.perf_counter() - tic
            if path == "optim_lib fused=True":
                notes[path] = f"first step {first:.1f} s (compiles)"
            optimizers[path] = optimizer
        times = interleaved_medians({**{path: o.step for path, o in optimizers.items()},
                                     **{f"stream {k}": call for k, call in stream.items()}}, rounds=rounds)
        bandwidth = {k: moved[k] / times.pop(f"stream {k}") for k in stream}
        bandwidths.append(bandwidth)
        # Muon's target is the like-for-like float32 row (torch's own runs in bfloat16: printed too)
        unfused = [t for p, t in times.items() if p.startswith(("torch", "lion", "schedulefree"))
                   and "fused" not in p and not (p == "torch Muon" and "torch Muon float32" in times)]
        best_unfused = min(unfused)
        torch_fused = times.get("torch fused")
        for path, seconds in times.items():
            achieved = arrays * 4 * run_n / seconds
            line = (f"{label if path == 'optim_lib' else '':<19}{path:<23}{seconds * 1e3:>9.2f}"
                    f"{seconds / best_unfused:>9.2f}{achieved / 1e9:>7.1f}{achieved / bandwidth['triad']:>8.0%}")
            note = notes.get(path, "")
            if path == "optim_lib":
                ratios.setdefault(label, {})["default"] = seconds / best_unfused
                ok = seconds <= LIMITS["default"] * best_unfused
                note = f"{'PASS' if ok else 'MISS'} (<= the best unfused reference)"
                if "torch for-loop" in times:
                    note += f"; {seconds / times['torch for-loop']:.2f}x torch's default (for-loop)"
                failures += [] if ok else [f"{label} default"]
            elif path == "optim_lib fused=True" and torch_fused is not None:
                ratios.setdefault(label, {})["fused"] = seconds / torch_fused
                ok = seconds <= LIMITS["fused"] * torch_fused
                note += f"; {seconds / torch_fused:.2f}x torch fused: {'PASS' if ok else 'MISS'} (<= {LIMITS['fused']})"
                failures += [] if ok else [f"{label} fused"]
            print(line + ("  " + note if note else ""))
        if not elementwise:
            print(f"{'':<19}(not elementwise: whole-tensor path, no fused=True; {arrays} arrays a parameter)")
        print(f"{'':<19}{'memory in these rounds':<23}copy {bandwidth['copy'] / 1e9:.1f} GB/s, "
              f"triad {bandwidth['triad'] / 1e9:.1f} GB/s")

    if bandwidths:
        for kind in ("copy", "triad"):
            values = sorted(b[kind] for b in bandwidths)
            print(f"\nSTREAM {kind} over the run: median {values[len(values) // 2] / 1e9:.1f} GB/s "
                  f"(from {values[0] / 1e9:.1f} to {values[-1] / 1e9:.1f})", end="")
        print()
    if args.warm_process and with_fused:
        print(f"\nfirst fused Adam step in a fresh process, compile cache warm: "
              f"{_warm_process_seconds('resnet18_shapes()'):.1f} s")
    print(f"\n'vs best': time / the fastest unfused reference (torch's for-loop or foreach, or the package's; for Muon torch's in float32);"
          f" GB/s: bytes the step must move (arrays x 4 bytes x {n:,}) per second.")
    print("all targets met" if not failures else f"{len(failures)} target(s) missed: {', '.join(failures)}")
    if args.emit_ratios:
        print("RATIOS " + json.dumps(ratios))
    return 0 if not failures else 1


def _over_processes(count: int) -> int:
    """The comparison (this script's other arguments) in ``count`` fresh processes, one after
    another; each ratio's median and range over them, and the targets judged on the medians."""
    forwarded, words = [], iter(sys.argv[1:])
    for word in words:  # every argument but --processes N (or --processes=N)
        if word == "--processes":
            next(words, None)
        elif not word.startswith("--processes="):
            forwarded.append(word)
    runs: list[dict[str, dict[str, float]]] = []
    for k in range(count):
        print(f"process {k + 1} of {count} ...", flush=True)
        result = subprocess.run([sys.executable, __file__, *forwarded, "--emit-ratios"], capture_output=True,
                                text=True, cwd=Path(__file__).resolve().parents[1])
        lines = [line for line in result.stdout.splitlines() if line.startswith("RATIOS ")]
        if not lines:
            print(result.stdout + result.stderr)
            raise SystemExit(f"process {k + 1} printed no ratios (exit code {result.returncode})")
        runs.append(json.loads(lines[-1][len("RATIOS "):]))
    print(f"\n{'optimizer':<19}{'path':<10}{'median':>8}{'min':>7}{'max':>7}  ratio to the reference, "
          f"{count} processes")
    failures = []
    for label in runs[0]:
        for path, limit in LIMITS.items():
            values = sorted(run[label][path] for run in runs if path in run.get(label, {}))
            if not values:
                continue
            median = statistics.median(values)
            ok = median <= limit
            failures += [] if ok else [f"{label} {path}"]
            print(f"{label:<19}{path:<10}{median:>8.2f}{values[0]:>7.2f}{values[-1]:>7.2f}  "
                  f"{'PASS' if ok else 'MISS'} (<= {limit})")
    print("all targets met (medians)" if not failures else
          f"{len(failures)} target(s) missed (medians): {', '.join(failures)}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
