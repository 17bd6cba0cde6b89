"""optim_lib.plotting: what the figures show, checked against the runners' own results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from optim_lib import QUADRATIC, ROSENBROCK, SGD, Adagrad, Adam, AdamW, run_trajectory, train_linear_regression
from optim_lib.plotting import (
    LOSS_YLIM,
    LossCurveFigure,
    TrajectoryFigure,
    plot_loss_curves,
    plot_trajectory,
)

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def new_axes():
    """Axes on a figure that pyplot does not know about (nothing global to clean up)."""
    return Figure().add_subplot()


def axes_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.texts]


def test_plot_trajectory_labels_axes_x1_and_x2():
    ax = plot_trajectory(run_trajectory(Adagrad, {"lr": 0.4}), new_axes())
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")


def test_plot_trajectory_draws_the_runner_path():
    trajectory = run_trajectory(Adagrad, {"lr": 0.4})
    ax = plot_trajectory(trajectory, new_axes())
    assert any(np.array_equal(line.get_xydata(), trajectory.path) for line in ax.get_lines())


def test_plot_trajectory_title_names_optimizer_and_learning_rate():
    ax = plot_trajectory(run_trajectory(Adagrad, {"lr": 0.4}), new_axes())
    assert ax.get_title() == "Adagrad: lr=0.4"


def test_plot_trajectory_keeps_the_plot_box_when_the_run_diverges():
    trajectory = run_trajectory(SGD, {"lr": 0.6}, steps=100)
    assert trajectory.diverged_at is not None
    ax = plot_trajectory(trajectory, new_axes())
    assert ax.get_xlim() == QUADRATIC.x1_range and ax.get_ylim() == QUADRATIC.x2_range


def test_plot_trajectory_says_when_the_run_diverged():
    trajectory = run_trajectory(SGD, {"lr": 0.6}, steps=100)
    ax = plot_trajectory(trajectory, new_axes())
    assert f"diverged at step {trajectory.diverged_at}" in axes_texts(ax)


def test_plot_trajectory_says_when_the_path_left_the_plot():
    # Along x2 each step multiplies by 1 - 4 lr = -1.4: from -2 to 2.8, above the box's 2.5.
    trajectory = run_trajectory(SGD, {"lr": 0.6})
    assert trajectory.diverged_at is None and trajectory.path[1, 1] > QUADRATIC.x2_range[1]
    ax = plot_trajectory(trajectory, new_axes())
    assert "left the plot at step 1" in axes_texts(ax)


def test_plot_trajectory_shows_no_message_for_a_run_that_stays_in_the_plot():
    ax = plot_trajectory(run_trajectory(Adagrad, {"lr": 0.4}), new_axes())
    assert [text for text in axes_texts(ax) if text] == []


def test_plot_trajectory_baseline_is_a_second_path_in_the_legend():
    trajectory = run_trajectory(Adagrad, {"lr": 0.4})
    baseline = run_trajectory(SGD, {"lr": 0.1})
    ax = plot_trajectory(trajectory, new_axes(), baseline=baseline)
    assert any(np.array_equal(line.get_xydata(), baseline.path) for line in ax.get_lines())
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["Adagrad", "baseline SGD: lr=0.1"]


def test_plot_trajectory_refuses_a_baseline_on_another_landscape():
    with pytest.raises(ValueError, match="same landscape"):
        plot_trajectory(run_trajectory(Adam, {"lr": 0.1}), new_axes(),
                        baseline=run_trajectory(Adam, {"lr": 0.1}, landscape=ROSENBROCK))


def test_plot_trajectory_without_axes_draws_on_a_new_figure():
    import matplotlib.pyplot as plt

    ax = plot_trajectory(run_trajectory(Adagrad, {"lr": 0.4}))
    try:
        assert ax.get_xlabel() == "$x_1$"
    finally:
        plt.close(ax.figure)


def test_plot_loss_curves_labels_axes_epoch_and_loss(airfoil):
    ax = plot_loss_curves(train_linear_regression(SGD, {"lr": 0.01}, airfoil), new_axes())
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "loss")


def test_plot_loss_curves_draws_each_curve_with_its_legend_label(airfoil):
    curves = [train_linear_regression(cls, {"lr": 0.01}, airfoil) for cls in (SGD, Adam)]
    ax = plot_loss_curves(curves, new_axes(), labels=["sgd", "adam"])
    for line, curve in zip(ax.get_lines(), curves):
        assert np.array_equal(line.get_xydata(), np.column_stack([curve.epochs, curve.losses]))
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["sgd", "adam"]


def test_plot_loss_curves_uses_the_fixed_loss_limits(airfoil):
    ax = plot_loss_curves(train_linear_regression(SGD, {"lr": 0.01}, airfoil), new_axes())
    assert ax.get_ylim() == LOSS_YLIM


def test_plot_loss_curves_says_when_a_curve_diverged_and_keeps_finite_limits(airfoil):
    curve = train_linear_regression(SGD, {"lr": 5.0}, airfoil)
    assert curve.diverged_at is not None
    ax = plot_loss_curves(curve, new_axes())
    assert f"diverged at epoch {curve.diverged_at:.2f}" in axes_texts(ax)
    assert np.isfinite(ax.get_xlim()).all() and np.isfinite(ax.get_ylim()).all()


def test_plot_loss_curves_refuses_one_label_too_few(airfoil):
    curves = [train_linear_regression(SGD, {"lr": 0.01}, airfoil, epochs=1)] * 2
    with pytest.raises(ValueError, match="one per curve"):
        plot_loss_curves(curves, new_axes(), labels=["only one"])


def test_trajectory_figure_update_draws_the_new_path():
    figure = TrajectoryFigure(QUADRATIC)
    trajectory = run_trajectory(Adam, {"lr": 0.3}, steps=50)
    figure.update(trajectory)
    assert np.array_equal(figure.path_line.get_xydata(), trajectory.path)


def test_trajectory_figure_update_draws_the_baseline():
    figure = TrajectoryFigure(QUADRATIC)
    baseline = run_trajectory(SGD, {"lr": 0.1}, steps=50)
    figure.update(run_trajectory(Adam, {"lr": 0.3}, steps=50), baseline)
    assert np.array_equal(figure.baseline_line.get_xydata(), baseline.path)


def test_trajectory_figure_says_diverged_and_keeps_the_plot_box():
    figure = TrajectoryFigure(QUADRATIC)
    trajectory = run_trajectory(SGD, {"lr": 0.6}, steps=100)
    figure.update(trajectory)
    assert figure.message == f"diverged at step {trajectory.diverged_at}"
    assert figure.axes.get_xlim() == QUADRATIC.x1_range and figure.axes.get_ylim() == QUADRATIC.x2_range


def test_trajectory_figure_clears_the_message_after_a_good_run():
    figure = TrajectoryFigure(QUADRATIC)
    figure.update(run_trajectory(SGD, {"lr": 0.6}, steps=100))
    figure.update(run_trajectory(SGD, {"lr": 0.1}, steps=100))
    assert figure.message == ""


def test_trajectory_figure_png_changes_with_the_path():
    figure = TrajectoryFigure(QUADRATIC)
    figure.update(run_trajectory(Adam, {"lr": 0.3}))
    before = figure.png()
    figure.update(run_trajectory(Adam, {"lr": 0.1}))
    after = figure.png()
    assert before.startswith(PNG_SIGNATURE) and after.startswith(PNG_SIGNATURE)
    assert before != after


def test_trajectory_figure_refuses_a_trajectory_on_another_landscape():
    figure = TrajectoryFigure(QUADRATIC)
    with pytest.raises(ValueError, match="Rosenbrock"):
        figure.update(run_trajectory(Adam, {"lr": 0.1}, landscape=ROSENBROCK))


def test_loss_curve_figure_update_draws_the_new_curve(airfoil):
    figure = LossCurveFigure()
    curve = train_linear_regression(Adam, {"lr": 0.01}, airfoil)
    figure.update(curve)
    assert np.array_equal(figure.curve_line.get_xydata(), np.column_stack([curve.epochs, curve.losses]))


def test_loss_curve_figure_says_diverged_with_finite_limits(airfoil):
    figure = LossCurveFigure()
    curve = train_linear_regression(SGD, {"lr": 5.0}, airfoil)
    figure.update(curve)
    assert figure.message == f"diverged at epoch {curve.diverged_at:.2f}"
    assert np.isfinite(figure.axes.get_ylim()).all()
    assert np.isfinite(figure.curve_line.get_xydata()).all()


def test_loss_curve_figure_says_when_the_curve_left_the_plot(airfoil):
    figure = LossCurveFigure()
    curve = train_linear_regression(SGD, {"lr": 0.5}, airfoil)
    above = curve.losses > LOSS_YLIM[1]
    assert curve.diverged_at is None and above.any()
    figure.update(curve)
    assert figure.message == f"left the plot at epoch {curve.epochs[above][0]:.2f}"


def test_loss_curve_figure_widens_the_epoch_axis_for_a_longer_run(airfoil):
    figure = LossCurveFigure(epochs=2)
    curve = train_linear_regression(SGD, {"lr": 0.01}, airfoil, epochs=3)
    figure.update(curve)
    assert figure.axes.get_xlim()[1] >= curve.epochs[-1] > 2


def test_figure_classes_leave_pyplot_and_rcparams_alone():
    import matplotlib.pyplot as plt

    figures_before = plt.get_fignums()
    settings_before = dict(matplotlib.rcParams)
    figure = TrajectoryFigure(QUADRATIC)
    figure.update(run_trajectory(Adam, {"lr": 0.3}))
    figure.png()
    assert plt.get_fignums() == figures_before
    assert dict(matplotlib.rcParams) == settings_before


@pytest.mark.parametrize(
    "imports", ["import optim_lib; optim_lib.run_trajectory", "import optim_lib.exercises"], ids=["optim_lib", "checker"]
)
def test_importing_the_math_imports_neither_matplotlib_nor_ipywidgets(imports):
    code = f"import sys; {imports}; print(sorted(m for m in ('matplotlib', 'ipywidgets') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_trajectory_figure_axes_do_not_jump_when_the_title_shrinks_back():
    figure = TrajectoryFigure(QUADRATIC)
    short = run_trajectory(AdamW, {"lr": 0.1})
    long = run_trajectory(
        AdamW, {"lr": 0.000125892541179, "betas": (0.987, 0.9987), "eps": 3.16227766e-08, "weight_decay": 0.0123}
    )
    figure.update(long)
    height_after_long = figure.axes.get_position().height
    figure.update(short)
    assert figure.axes.get_position().height == height_after_long


# --- The network's figures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def network_runs():
    from optim_lib.digits import load_digits
    from optim_lib.network import train_network

    data = load_digits()
    return (train_network(Adam, {"lr": 3e-3}, data, epochs=2),
            train_network(SGD, {"lr": 1e4}, data, epochs=2))  # diverges at once


def test_network_plot_draws_loss_and_accuracy_with_labelled_axes(network_runs):
    from optim_lib.plotting import plot_network_runs

    good, _ = network_runs
    loss_ax, accuracy_ax = plot_network_runs(good)
    np.testing.assert_array_equal(loss_ax.lines[0].get_xydata(), np.column_stack([good.train_epochs, good.train_losses]))
    np.testing.assert_array_equal(accuracy_ax.lines[0].get_xydata(),
                                  np.column_stack([good.test_epochs, good.test_accuracies]))
    assert loss_ax.get_yscale() == "log"
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("epoch", "training loss (cross-entropy)")
    assert (accuracy_ax.get_xlabel(), accuracy_ax.get_ylabel()) == ("epoch", "test accuracy")


def test_network_plot_says_where_a_run_diverged(network_runs):
    from optim_lib.plotting import plot_network_runs

    _, bad = network_runs
    loss_ax, _ = plot_network_runs(bad)
    assert bad.diverged_at is not None
    texts = [t.get_text() for t in loss_ax.texts]
    assert f"diverged at step {bad.diverged_at_step} (epoch {bad.diverged_at:.2f})" in texts


def test_network_figure_update_draws_the_runs_and_the_baseline(network_runs):
    from optim_lib.plotting import NetworkFigure

    good, bad = network_runs
    figure = NetworkFigure(epochs=2)
    figure.update(good, baseline=bad)
    np.testing.assert_array_equal(figure.loss_line.get_xydata(), np.column_stack([good.train_epochs, good.train_losses]))
    assert figure.message.startswith("baseline diverged at step")
    assert figure.title == good.title()
