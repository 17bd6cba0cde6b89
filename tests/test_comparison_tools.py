"""The comparison chapter's tools: a sweep that extends its grid until the best rate is
interior, the table of sweeps, per-layer gradient scales, scheduled network sweeps, and
schedule-free AdamW in the network trainer. Oracles: hand computations, gradient descent's
closed form, autograd, and the schedulefree package."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib import QUADRATIC, load_digits
from optim_lib.network import build_network, layer_gradient_scales, train_network
from optim_lib.sweeps import (
    CACHE_VARIABLE, SweepResult, at_edge, sweep_each, choose, format_sweep_table, learning_rate_grid, range_at_edge,
    schedule_fingerprint, sweep_network,
    sweep_outward, sweep_trajectory,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _fake_sweep(values_of, calls, higher=False):
    """A sweep whose value at each rate is values_of(lr), one seed; records every call."""
    def sweep(rates):
        calls.append([float(r) for r in rates])
        values = np.array([[values_of(float(r))] for r in rates], dtype=float)
        return SweepResult("X", {}, "fake", "test accuracy" if higher else "final loss", np.array(rates, dtype=float),
                           (0,), values)
    return sweep


def test_sweep_outward_extends_down_to_the_minimum_and_one_point_past_it():
    # Loss (log10 lr + 2)^2: minimum at lr = 0.01. The grid 1, 2.15, 4.64, 10 has its best at
    # its low edge, so the sweep adds 0.464, 0.215, 0.1, 0.0464, 0.0215, 0.01 (each better
    # than the last) and 0.00464 (worse than 0.01), then stops: 7 one-point calls.
    calls = []
    result = sweep_outward(_fake_sweep(lambda lr: (math.log10(lr) + 2) ** 2, calls), 1.0, 10.0)
    assert calls[0] == [1.0, 2.15, 4.64, 10.0]
    assert calls[1:] == [[0.464], [0.215], [0.1], [0.0464], [0.0215], [0.01], [0.00464]]
    assert list(result.learning_rates) == [0.00464, 0.01, 0.0215, 0.0464, 0.1, 0.215, 0.464, 1.0, 2.15, 4.64, 10.0]
    assert choose(result) == 0.01 and not at_edge(result)


def test_sweep_outward_extends_upwards_for_a_metric_where_higher_is_better():
    # Accuracy peaks at lr = 1: from the grid 0.01 to 0.1 it must add 0.215, 0.464, 1, 2.15.
    calls = []
    result = sweep_outward(_fake_sweep(lambda lr: 1 - abs(math.log10(lr)), calls, higher=True), 0.01, 0.1)
    assert calls[1:] == [[0.215], [0.464], [1.0], [2.15]]
    assert choose(result) == 1.0 and not at_edge(result)


def test_sweep_outward_stops_at_a_plateau_and_at_divergence():
    calls = []
    flat = sweep_outward(_fake_sweep(lambda lr: 0.5, calls), 0.01, 0.1)
    assert len(calls) == 1 and choose(flat) == 0.01 and at_edge(flat)  # a tie takes the smaller rate
    calls = []
    # Better and better up to 0.1, diverged (NaN) above: one extension, which diverges.
    diverging = sweep_outward(_fake_sweep(lambda lr: -lr if lr <= 0.1 else math.nan, calls), 0.01, 0.1)
    assert calls[1:] == [[0.215]] and choose(diverging) == 0.1 and not at_edge(diverging)


def test_a_grid_from_a_rounded_rate_is_the_grid_of_powers_of_ten():
    # 0.0215 is 10^(-5/3) rounded: the grid continues 10^(-4/3) = 0.0464, 10^(-1) = 0.1, ...
    np.testing.assert_array_equal(learning_rate_grid(0.0215, 1.0), [0.0215, 0.0464, 0.1, 0.215, 0.464, 1.0])
    calls = []
    sweep_outward(_fake_sweep(lambda lr: lr, calls), 0.0464, 1.0)
    assert calls[1:3] == [[0.0215], [0.01]]
    # a rate off that grid starts a grid of its own: 0.03, 0.03 * 10^(1/3) = 0.0646, ...
    np.testing.assert_array_equal(learning_rate_grid(0.03, 0.3), [0.03, 0.0646, 0.139, 0.3])


def test_sweep_outward_stops_after_max_extensions():
    calls = []
    result = sweep_outward(_fake_sweep(lambda lr: lr, calls), 1.0, 10.0, max_extensions=2)
    assert calls[1:] == [[0.464], [0.215]] and at_edge(result)


def test_sweep_each_starts_every_optimizer_on_its_own_six_rates_and_skips_the_absent():
    grids = {}

    def sweep(cls, fixed, rates):
        grids.setdefault(fixed["name"], []).append([float(r) for r in rates])
        # the best rate is 10x the first rate of each table row: interior, no extension
        best = {"a": 0.02, "b": 1.0}[fixed["name"]]
        values = np.array([[abs(math.log10(r / best))] for r in rates])
        return SweepResult("X", fixed, "fake", "final loss", np.array(rates, dtype=float), (0,), values)

    table = {"A": (object, {"name": "a"}, {"net": 2.15e-3, "air": 1.0}),
             "B": (object, {"name": "b"}, {"air": 0.1}),
             "C": (object, {"name": "c"}, {"net": None})}
    results = sweep_each(table, "net", sweep)
    assert list(results) == ["A"]
    assert grids == {"a": [[2.15e-3, 4.64e-3, 0.01, 0.0215, 0.0464, 0.1]]}
    grids.clear()
    assert list(sweep_each(table, "air", sweep)) == ["A", "B"]
    assert grids["b"] == [[0.1, 0.215, 0.464, 1.0, 2.15, 4.64]]


def test_sweep_outward_refuses_a_grid_of_one_point():
    with pytest.raises(ValueError, match="at least two grid points"):
        sweep_outward(_fake_sweep(lambda lr: lr, []), 1.0, 1.5)


def test_sweep_outward_on_gradient_descent_picks_the_closed_form_best():
    # SGD on 0.1 x1^2 + 2 x2^2 from (-5, -2): after 20 steps
    # f = 0.1 * 25 * (1 - 0.2 lr)^40 + 2 * 4 * (1 - 4 lr)^40. The best rate of the grid
    # 10^(k/3) must be found from the start 0.01 to 0.1 and be interior.
    result = sweep_outward(lambda rates: sweep_trajectory(optim_lib.SGD, {}, rates, QUADRATIC, steps=20), 0.01, 0.1)

    def f(lr):
        return 2.5 * (1 - 0.2 * lr) ** 40 + 8 * (1 - 4 * lr) ** 40

    grid = [float(f"{10 ** (k / 3 - 2):.3g}") for k in range(0, 7)]  # 0.01 ... 1
    best = min(grid, key=f)
    assert best == 0.464  # |1 - 4 * 0.464| = 0.856 < 1; 1.0 diverges
    assert choose(result) == best and not at_edge(result)
    assert result.values[list(result.learning_rates).index(best), 0] == pytest.approx(f(best), rel=1e-9)


def test_format_sweep_table_by_hand():
    rates = np.array([0.01, 0.1, 1.0])
    a = SweepResult("A", {}, "t", "test accuracy", rates, (0, 1), np.array([[0.90, 0.92], [0.95, 0.96], [0.94, 0.95]]))
    b = SweepResult("B", {}, "t", "test accuracy", rates, (0, 1), np.array([[0.5, 0.5], [0.7, 0.8], [0.9, np.nan]]))
    c = SweepResult("C", {}, "t", "test accuracy", rates, (0, 1), np.full((3, 2), np.nan))
    lines = format_sweep_table({"A": a, "B": b, "C": c}, within=0.01).splitlines()
    # A: means 0.91, 0.955, 0.945; best 95.5% at 0.1; within a point: 0.1 and 1 -> 1 decade.
    # B: means 0.5, 0.75, worst (a seed diverged); best 75.0% at 0.1; range 0.1 to 0.1.
    assert lines[0].split("  ")[0] == "optimizer" and "good range (within 1 point)" in lines[0]
    # A's range reaches the grid's largest rate, 1: it may go on beyond, so the table says so.
    assert lines[2].split() == ["A", "0.1", "95.5%", "0.1", "to", "1", "1.00", "range", "reaches", "the", "grid's", "edge"]
    assert range_at_edge(a, within=0.01) and not range_at_edge(a, within=0.005)  # 0.005: only 0.1, interior
    assert lines[3].split() == ["B", "0.1", "75.0%", "0.1", "to", "0.1", "0.00"]
    assert lines[4].split()[:3] == ["C", "-", "diverged"] and lines[4].endswith("every rate diverged")
    edge = SweepResult("D", {}, "t", "final loss", rates, (0,), np.array([[0.1], [0.2], [0.3]]))
    assert format_sweep_table({"D": edge}, within=0.15).splitlines()[2].split() == [
        "D", "0.01", "0.1", "0.01", "to", "0.1", "1.00", "at", "the", "grid's", "edge"]
    with pytest.raises(ValueError, match="within must be a number >= 0"):
        format_sweep_table({"A": a}, within=-1)


def test_layer_gradient_scales_match_autograd(digits):
    network = build_network((16, 16, 16), seed=3)
    scales = layer_gradient_scales(network, digits, examples=200)
    loss = torch.nn.functional.cross_entropy(network(digits.X_train[:200]), digits.y_train[:200])
    loss.backward()
    expected = [float(layer.weight.grad.double().pow(2).mean().sqrt()) for layer in network
                if isinstance(layer, torch.nn.Linear)]
    np.testing.assert_allclose(scales, expected, rtol=1e-5)
    assert len(scales) == 4


def test_layer_gradient_scales_refuse_bad_arguments(digits):
    with pytest.raises(ValueError, match="examples"):
        layer_gradient_scales(build_network(), digits, examples=0)
    with pytest.raises(TypeError, match="network must be"):
        layer_gradient_scales(torch.nn.ReLU(), digits)


def test_schedule_free_adamw_in_the_network_trainer_is_the_package_and_evaluated_at_x(digits):
    schedulefree = pytest.importorskip("schedulefree")
    ours = train_network(optim_lib.AdamWScheduleFree, {"lr": 3e-3}, digits, epochs=2, seed=1)
    theirs = train_network(schedulefree.AdamWScheduleFree, {"lr": 3e-3}, digits, epochs=2, seed=1)
    np.testing.assert_allclose(ours.train_losses, theirs.train_losses, rtol=1e-5)
    np.testing.assert_allclose(ours.test_accuracies, theirs.test_accuracies)
    # The trained network is left at x, the point the accuracy was measured at; y differs.
    with torch.no_grad():
        at_x = float((ours.network(digits.X_test).argmax(1) == digits.y_test).double().mean())
    assert at_x == ours.final_test_accuracy


def _warmup_cosine(optimizer, warmup=20, total=94):
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [
        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.05, total_iters=warmup),
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup)], milestones=[warmup])


def test_a_scheduled_sweep_is_the_trainer_with_that_scheduler(digits):
    result = sweep_network(optim_lib.Adam, {}, [3e-3], digits, seeds=(0,), epochs=2, scheduler=_warmup_cosine)
    run = train_network(optim_lib.Adam, {"lr": 3e-3}, digits, epochs=2, scheduler=_warmup_cosine)
    assert result.values[0, 0] == run.final_test_accuracy
    # the schedule was used: the rate of the first step is 5% of 3e-3, and the last near 0
    assert run.learning_rates[0] == pytest.approx(1.5e-4) and run.learning_rates[-1] < 1e-5


def test_the_cache_keys_a_schedule_by_what_it_does(tmp_path, monkeypatch, digits):
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path))
    same = lambda optimizer: _warmup_cosine(optimizer)  # noqa: E731 (another function, the same schedule)
    shorter = lambda optimizer: _warmup_cosine(optimizer, warmup=10)  # noqa: E731
    steps = 47  # one epoch of 1500 images in minibatches of 32
    a, b, c = (schedule_fingerprint(s, optim_lib.SGD, {"momentum": 0.9}, [0.1], steps)
               for s in (_warmup_cosine, same, shorter))
    assert a == b != c
    assert schedule_fingerprint(_warmup_cosine, optim_lib.SGD, {}, [0.1], steps) != \
        schedule_fingerprint(_warmup_cosine, optim_lib.SGD, {}, [0.2], steps)
    for scheduler in (_warmup_cosine, same, shorter, None):
        sweep_network(optim_lib.SGD, {"momentum": 0.9}, [0.1], digits, seeds=(0,), epochs=1, scheduler=scheduler)
    assert len(list(tmp_path.glob("*.json"))) == 3  # same is answered from _warmup_cosine's file


def test_plot_sweeps_names_the_lines_by_the_mapping_or_the_labels():
    from optim_lib.plotting import plot_sweeps

    rates = np.array([0.01, 0.1])
    a = SweepResult("SGD", {"momentum": 0.9}, "t", "final loss", rates, (0,), np.array([[0.3], [0.2]]))
    b = SweepResult("Adam", {}, "t", "final loss", rates, (0,), np.array([[0.4], [0.1]]))
    ax = plot_sweeps({"momentum": a, "Adam": b})
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["momentum", "Adam"]
    ax = plot_sweeps([a, b], labels=["one", "two"])
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["one", "two"]
    with pytest.raises(ValueError, match="labels must name each of the 2 results; got 1"):
        plot_sweeps([a, b], labels=["one"])


def test_plot_sweeps_gives_each_result_its_own_colour():
    from optim_lib.plotting import plot_sweeps

    rates = np.array([0.01, 0.1, 1.0])
    results = [SweepResult("SGD", {}, "t", "final loss", rates, (0, 1), np.array([[0.3, 0.31], [0.2, 0.2], [np.nan, 1]]))
               for _ in range(7)]
    ax = plot_sweeps(results, labels=[str(i) for i in range(7)])
    colours = [line.get_color() for line in ax.lines if not line.get_label().startswith("_")]
    assert colours == [f"C{i}" for i in range(7)]


def test_plot_sweeps_takes_a_colour_and_a_line_style_for_each_result():
    # Chapter 9 draws each optimizer's constant and scheduled sweeps in one colour, the
    # scheduled one dashed; the legend must show the same (its handles are the lines).
    from optim_lib.plotting import plot_sweeps

    rates = np.array([0.01, 0.1, 1.0])
    results = [SweepResult("SGD", {}, "t", "test accuracy", rates, (0, 1), np.array([[0.3, 0.31], [0.5, 0.6], [0.4, 0.4]]))
               for _ in range(4)]
    ax = plot_sweeps(results, labels=list("abcd"), colors=["C0", "C0", "C3", "C3"], linestyles=["-", "--", "-", "--"])
    means = [line for line in ax.lines if not line.get_label().startswith("_")]
    assert [line.get_color() for line in means] == ["C0", "C0", "C3", "C3"]
    assert [line.get_linestyle() for line in means] == ["-", "--", "-", "--"]
    assert [handle.get_linestyle() for handle in ax.get_legend().legend_handles] == ["-", "--", "-", "--"]
    rings = [line for line in ax.lines if line.get_markersize() == 9]  # the chosen rate, in the result's colour
    assert [ring.get_markeredgecolor() for ring in rings] == ["C0", "C0", "C3", "C3"]
    with pytest.raises(ValueError, match="linestyles must give one entry for each of the 4 results; got 1"):
        plot_sweeps(results, linestyles=["--"])
    with pytest.raises(ValueError, match="colors must give one entry for each of the 4 results; got 2"):
        plot_sweeps(results, colors=["C0", "C1"])


def test_plot_sweeps_side_by_side_keeps_its_layout():
    # An empty unclipped marker line once gave each axes a bounding box reaching the figure's
    # origin, and constrained layout collapsed the second of two panels.
    import warnings

    import matplotlib.pyplot as plt

    from optim_lib.plotting import plot_sweeps

    rates = np.array([0.01, 0.1])
    result = SweepResult("SGD", {}, "t", "final loss", rates, (0,), np.array([[0.3], [0.2]]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax in axes:
        plot_sweeps(result, ax=ax)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()
    left, right = (ax.get_position() for ax in axes)
    assert left.width > 0.3 and right.width > 0.3
    plt.close(fig)
