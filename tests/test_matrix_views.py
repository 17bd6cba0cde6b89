"""The matrix experiment's figures and explorer: they draw the runs' own numbers, the
Newton–Schulz curve is optim_lib's iteration (checked on diagonal matrices), and the sliders
re-run the experiment."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from optim_lib import SGD, Muon  # noqa: E402
from optim_lib.matrix import matrix_problem, train_matrix  # noqa: E402
from optim_lib.plotting import (  # noqa: E402
    MatrixFigure, newton_schulz_map, plot_matrix_runs, plot_newton_schulz, relative_singular_values,
)
from optim_lib.rules.muon import NS_COEFFICIENTS, newton_schulz  # noqa: E402
from optim_lib.widgets import matrix_explorer  # noqa: E402


@pytest.fixture(scope="module")
def problem():
    return matrix_problem(8, 6, condition=100.0)


@pytest.fixture(scope="module")
def runs(problem):
    return [train_matrix(Muon, {"lr": 0.05, "weight_decay": 0.0}, problem, steps=40),
            train_matrix(SGD, {"lr": 0.5, "momentum": 0.9}, problem, steps=40)]


def test_newton_schulz_map_is_the_iteration_on_a_diagonal_matrix():
    sigma = np.array([0.9, 0.3, 0.2, 0.1, 0.01, 0.001])
    sigma = sigma / np.linalg.norm(sigma)  # the iteration divides by the Frobenius norm first
    for coefficients, steps in ((NS_COEFFICIENTS, 5), ((1.5, -0.5, 0.0), 7)):
        a, b, c = coefficients
        expected = np.diag(newton_schulz(np.diag(sigma), a=a, b=b, c=c, steps=steps, eps=1e-7))
        np.testing.assert_allclose(newton_schulz_map(sigma, coefficients, steps), expected, rtol=1e-12)


def test_the_sample_points_lie_on_the_curve():
    G = np.random.default_rng(0).normal(size=(5, 9))
    ax = plot_newton_schulz({"Jordan": NS_COEFFICIENTS}, sample=G)
    curve, points = ax.lines[0], ax.lines[1]
    x, y = points.get_xdata(), points.get_ydata()
    np.testing.assert_allclose(y, newton_schulz_map(x, NS_COEFFICIENTS, 5), rtol=1e-10)
    assert len(x) == 5 and curve.get_label() == "Jordan"


def test_plot_matrix_runs_draws_the_losses_and_the_middle_steps_spectrum(runs):
    loss_ax, spectrum_ax = plot_matrix_runs(runs)
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), runs[0].losses)
    expected = runs[1].singular_values[19] / runs[1].singular_values[19, 0]
    np.testing.assert_allclose(spectrum_ax.lines[1].get_ydata(), expected)
    assert spectrum_ax.get_ylabel() == "update at step 20, ÷ largest"


def test_relative_singular_values_of_a_missing_step_are_empty(runs):
    assert relative_singular_values(runs[0], 41).size == 0 and relative_singular_values(runs[0], 0).size == 0


def test_labels_must_match_the_runs(runs):
    with pytest.raises(ValueError, match="labels must be a list of 2 strings"):
        plot_matrix_runs(runs, labels=["one"])
    with pytest.raises(ValueError, match="each run must be a MatrixRun"):
        plot_matrix_runs(["run"])


def test_the_live_figure_shows_a_diverged_run_with_its_message(problem):
    run = train_matrix(SGD, {"lr": 1e4}, problem, steps=40, schedule="constant")
    figure = MatrixFigure(steps=40, size=6)
    figure.update(run)
    assert figure.message == f"diverged at step {run.diverged_at}"
    assert figure.png()[:4] == b"\x89PNG"


def test_the_explorer_has_muons_sliders_and_reruns_on_a_move(problem):
    explorer = matrix_explorer(Muon, {"lr": 0.05, "weight_decay": 0.0}, problem, steps=40,
                               baseline=(SGD, {"lr": 0.5, "momentum": 0.9}))
    assert list(explorer.sliders) == ["lr", "momentum", "nesterov", "ns_steps", "weight_decay", "batch_size",
                                      "schedule"]
    explorer.sliders["ns_steps"].value = 2
    expected = train_matrix(Muon, {"lr": 0.05, "momentum": 0.95, "nesterov": True, "ns_steps": 2,
                                   "weight_decay": 0.0}, problem, steps=40)
    np.testing.assert_array_equal(explorer.run.losses, expected.losses)
    np.testing.assert_array_equal(explorer.figure.loss_line.get_ydata(), expected.losses)


def test_the_baseline_follows_the_batch_size_and_schedule(problem):
    explorer = matrix_explorer(Muon, {"lr": 0.05}, problem, steps=40, baseline=(SGD, {"lr": 0.5}))
    explorer.sliders["batch_size"].value = 8
    explorer.sliders["schedule"].value = "constant"
    expected = train_matrix(SGD, {"lr": 0.5}, problem, steps=40, batch_size=8, schedule="constant")
    np.testing.assert_array_equal(explorer.baseline_run.losses, expected.losses)


def test_the_website_shows_the_static_figure_with_the_note(problem):
    explorer = matrix_explorer(Muon, {"lr": 0.05}, problem, steps=10)
    assert explorer.web_spec() is None
    assert 'data-kind="matrix"' in explorer.web_html() and "live in Jupyter or Colab" in explorer.web_html()


def test_bad_arguments_are_refused(problem):
    with pytest.raises(ValueError, match="problem must be a MatrixProblem"):
        matrix_explorer(Muon, {"lr": 0.05}, "problem")
    with pytest.raises(ValueError, match=r"schedule must be one of \('linear', 'constant'\); got 'step'"):
        matrix_explorer(Muon, {"lr": 0.05}, problem, schedule="step")
