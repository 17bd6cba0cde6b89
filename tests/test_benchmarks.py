"""The benchmark scripts run to the end and print every row. Their timings are not asserted
here (shared 2-core machines are too noisy: the scripts report medians and ratios); this only
keeps the scripts from breaking unnoticed."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_optimizer_benchmark_prints_every_optimizer_and_a_verdict(airfoil_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_optimizers.py", "--repeats", "1", "--data", str(airfoil_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr  # 1 means a target missed, not a crash
    for label in ("SGD momentum", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"):
        assert result.stdout.count(f"\n{label} ") == 2, result.stdout  # step() and trainer tables
    assert "all targets met" in result.stdout or "target(s) missed" in result.stdout


def test_slider_benchmark_prints_both_events_and_the_reference(airfoil_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_sliders.py"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode in (0, 1), result.stderr
    for row in ("(a) trajectory", "(b) loss curve", "(c) network", "reference: full re-plot"):
        assert row in result.stdout, result.stdout


def test_network_benchmark_prints_every_optimizer_the_slider_event_and_a_verdict():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_network.py", "--repeats", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr  # 1 means a target missed, not a crash
    slider, _, table = result.stdout.partition("optim_lib against torch.optim")
    assert "one re-train at the default" in slider and "of the 300 ms event budget" in slider, result.stdout
    assert "the same, 10 epochs" in slider, result.stdout
    for label in ("SGD momentum", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"):
        assert table.count(f"\n{label} ") == 1, result.stdout
    assert "\nSGD (no momentum) " in table and "(reference, no target)" in table
    assert table.count("ratio <= 1") == 6
    assert "all targets met" in result.stdout or "target(s) missed" in result.stdout


def test_memory_and_matrix_slider_benchmark_prints_every_event_and_a_verdict(airfoil_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_memory_matrix_sliders.py"], cwd=REPO, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr  # 1 means a target missed, not a crash
    for row in ("(a) trajectory, Adafactor", "(b) loss curve, Adafactor", "(c) network, Adafactor",
                "(d) network, Muon + AdamW", "(e) matrix, Muon", "reference: (c) with Adam"):
        assert row in result.stdout, result.stdout
    assert "all targets met" in result.stdout or "target(s) missed" in result.stdout


def test_schedule_slider_benchmark_prints_every_row():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_schedule_sliders.py"], cwd=REPO, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr  # 1 means a target missed, not a crash
    for row in ("(a) schedule, airfoil", "(b) schedule, airfoil", "(c) schedule, network",
                "(d) schedule, network", "reference: airfoil explorer", "reference: network explorer"):
        assert row in result.stdout, result.stdout
    assert "all targets met" in result.stdout or "target(s) missed" in result.stdout


def test_scale_benchmark_quick_prints_every_optimizer_path_and_the_bandwidth():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_scale.py", "--quick"], cwd=REPO, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr  # 1 means a target missed, not a crash
    assert result.stdout.count("memory in these rounds copy ") == 13, result.stdout  # one per optimizer
    assert "STREAM copy over the run: median " in result.stdout and "STREAM triad over the run" in result.stdout
    for label in ("SGD momentum", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam", "Adamax",
                  "Lion", "AdamWScheduleFree", "Adafactor", "Muon"):
        assert f"\n{label} " in result.stdout, result.stdout
    assert result.stdout.count("torch fused") == 4  # Adam, AdamW, SGD, Adagrad: torch's fused kernels
    assert result.stdout.count("(not elementwise: whole-tensor path") == 2  # Adafactor, Muon
    assert "all targets met" in result.stdout or "target(s) missed" in result.stdout


def test_scale_benchmark_over_processes_prints_each_median_and_range_and_a_verdict():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_scale.py", "--quick", "--processes", "2", "--only", "Adam", "Lion"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr
    assert "process 1 of 2" in result.stdout and "process 2 of 2" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith(("Adam ", "Lion "))]
    assert [row[:2] for row in rows] == [["Adam", "default"], ["Lion", "default"]], result.stdout
    for row in rows:
        median, low, high = map(float, row[2:5])
        assert low <= median <= high and row[5] in ("PASS", "MISS")
    assert "(medians)" in result.stdout.splitlines()[-1]
    bad = subprocess.run([sys.executable, "benchmarks/bench_scale.py", "--processes", "0"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--processes must be at least 1; got 0" in bad.stderr
