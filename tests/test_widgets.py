"""optim_lib.widgets, driven as a user would: set a slider, check the experiment re-ran
(against the runners called directly) and the figure changed."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from optim_lib import (
    QUADRATIC, SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop, run_trajectory, train_linear_regression,
)
from optim_lib.widgets import loss_curve_explorer, trajectory_explorer

REPO = Path(__file__).resolve().parents[1]


def assert_same_trajectory(actual, expected):
    assert actual.optimizer == expected.optimizer
    assert dict(actual.hyperparameters) == dict(expected.hyperparameters)
    assert actual.diverged_at == expected.diverged_at
    np.testing.assert_array_equal(actual.path, expected.path)


def assert_same_curve(actual, expected):
    assert (actual.optimizer, actual.batch_size, actual.diverged_at) == (
        expected.optimizer, expected.batch_size, expected.diverged_at)
    assert dict(actual.hyperparameters) == dict(expected.hyperparameters)
    np.testing.assert_array_equal(actual.epochs, expected.epochs)
    np.testing.assert_array_equal(actual.losses, expected.losses)


# --- Sliders: which, and where they start ---------------------------------------------------


@pytest.mark.parametrize(
    ("optimizer_class", "names"),
    [
        (SGD, ["lr", "momentum", "nesterov", "steps"]),
        (Adagrad, ["lr", "eps", "steps"]),
        (RMSprop, ["lr", "alpha", "eps", "steps"]),
        (Adadelta, ["lr", "rho", "eps", "steps"]),
        (Adam, ["lr", "beta1", "beta2", "eps", "steps"]),
        (AdamW, ["lr", "beta1", "beta2", "eps", "weight_decay", "steps"]),
    ],
)
def test_trajectory_explorer_has_a_slider_per_hyperparameter_and_steps(optimizer_class, names):
    assert list(trajectory_explorer(optimizer_class).sliders) == names


def test_slider_descriptions_use_the_math_symbols():
    sliders = trajectory_explorer(Adam).sliders
    assert [sliders[name].description for name in ("lr", "beta1", "beta2", "eps")] == ["lr η", "β₁", "β₂", "ε"]


def test_torch_optim_class_gets_the_sliders_of_its_optim_lib_twin():
    assert list(trajectory_explorer(torch.optim.RMSprop).sliders) == list(trajectory_explorer(RMSprop).sliders)


def test_unsupported_optimizer_class_is_refused_with_a_value_error():
    with pytest.raises(ValueError, match="no sliders for 'LBFGS'"):
        trajectory_explorer(torch.optim.LBFGS)


def test_sliders_start_at_the_given_hyperparameters():
    sliders = trajectory_explorer(Adam, {"lr": 0.3, "betas": (0.8, 0.99)}).sliders
    assert (sliders["lr"].value, sliders["beta1"].value, sliders["beta2"].value) == (0.3, 0.8, 0.99)


def test_sliders_start_at_the_constructor_defaults():
    sliders = trajectory_explorer(RMSprop).sliders
    assert (sliders["lr"].value, sliders["alpha"].value, sliders["eps"].value) == (1e-2, 0.99, 1e-8)


def test_slider_range_widens_to_hold_a_given_value_beyond_it():
    explorer = trajectory_explorer(SGD, {"lr": 50.0})
    assert explorer.sliders["lr"].value == 50.0
    assert explorer.trajectory.hyperparameters["lr"] == 50.0


def test_hyperparameters_pack_adam_betas_into_a_tuple():
    explorer = trajectory_explorer(Adam, {"lr": 0.3})
    explorer.sliders["beta2"].value = 0.9
    assert explorer.hyperparameters() == {"lr": 0.3, "betas": (0.9, 0.9), "eps": 1e-8}


def test_hyperparameters_without_a_slider_are_passed_on_unchanged():
    explorer = trajectory_explorer(SGD, {"lr": 0.1, "weight_decay": 0.5})
    assert explorer.trajectory.hyperparameters["weight_decay"] == 0.5


def test_bad_initial_hyperparameters_raise_at_creation():
    with pytest.raises(ValueError, match="momentum"):
        trajectory_explorer(SGD, {"lr": 0.1, "momentum": 1.5})


def test_beta1_given_by_its_slider_name_is_refused():
    with pytest.raises(ValueError, match=r"betas=\(beta1, beta2\)"):
        trajectory_explorer(Adam, {"lr": 0.1, "beta1": 0.5})


def test_baseline_that_is_not_a_pair_is_refused():
    with pytest.raises(ValueError, match="baseline must be"):
        trajectory_explorer(SGD, {"lr": 0.1}, baseline=SGD)


def test_explorer_prints_nothing_outside_ipython(capsys):
    trajectory_explorer(SGD, {"lr": 0.1})
    assert capsys.readouterr() == ("", "")


# --- Trajectory explorer: moving a slider re-runs and redraws --------------------------------


def test_moving_lr_slider_reruns_the_trajectory():
    explorer = trajectory_explorer(Adagrad, {"lr": 0.4})
    explorer.sliders["lr"].value = 2.0
    assert_same_trajectory(explorer.trajectory, run_trajectory(Adagrad, {"lr": 2.0, "eps": 1e-10}))


def test_moving_lr_slider_redraws_the_path():
    explorer = trajectory_explorer(Adagrad, {"lr": 0.4})
    before = explorer.figure.path_line.get_xydata().copy()
    explorer.sliders["lr"].value = 2.0
    after = explorer.figure.path_line.get_xydata()
    np.testing.assert_array_equal(after, run_trajectory(Adagrad, {"lr": 2.0}).path)
    assert not np.array_equal(before, after)


def test_moving_beta1_slider_reruns_adam_with_the_new_betas():
    explorer = trajectory_explorer(Adam, {"lr": 0.3})
    explorer.sliders["beta1"].value = 0.5
    expected = run_trajectory(Adam, {"lr": 0.3, "betas": (0.5, 0.999), "eps": 1e-8})
    assert_same_trajectory(explorer.trajectory, expected)


def test_moving_steps_slider_reruns_with_that_many_steps():
    explorer = trajectory_explorer(RMSprop, {"lr": 0.4, "alpha": 0.9}, steps=20)
    explorer.sliders["steps"].value = 73
    expected = run_trajectory(RMSprop, {"lr": 0.4, "alpha": 0.9, "eps": 1e-8}, steps=73)
    assert_same_trajectory(explorer.trajectory, expected)
    assert len(explorer.figure.path_line.get_xydata()) == 74


def test_summary_follows_the_slider():
    explorer = trajectory_explorer(Adadelta, {"rho": 0.9})
    explorer.sliders["rho"].value = 0.5
    assert explorer.summary == run_trajectory(Adadelta, {"lr": 1.0, "rho": 0.5, "eps": 1e-6}).summary()


def test_diverging_lr_shows_the_message_with_finite_limits():
    explorer = trajectory_explorer(SGD, {"lr": 0.1}, steps=100)
    explorer.sliders["lr"].value = 10.0
    expected = run_trajectory(SGD, {"lr": 10.0, "momentum": 0.0, "nesterov": False}, steps=100)
    assert explorer.figure.message == f"diverged at step {expected.diverged_at}"
    assert explorer.figure.axes.get_xlim() == QUADRATIC.x1_range
    assert explorer.figure.axes.get_ylim() == QUADRATIC.x2_range
    assert np.isfinite(explorer.figure.path_line.get_xydata()).all()


def test_values_the_optimizer_refuses_show_its_error_instead_of_raising():
    explorer = trajectory_explorer(SGD, {"lr": 0.1})
    explorer.sliders["nesterov"].value = True  # Nesterov needs momentum > 0
    assert explorer.trajectory is None
    assert "nesterov=True needs momentum" in explorer.figure.message
    assert explorer.figure.path_line.get_xydata().size == 0


def test_fixing_a_refused_value_runs_again():
    explorer = trajectory_explorer(SGD, {"lr": 0.1})
    explorer.sliders["nesterov"].value = True
    explorer.sliders["momentum"].value = 0.5
    expected = run_trajectory(SGD, {"lr": 0.1, "momentum": 0.5, "nesterov": True})
    assert_same_trajectory(explorer.trajectory, expected)
    assert explorer.figure.message == ""


def test_trajectory_baseline_is_drawn_from_its_own_run():
    explorer = trajectory_explorer(Adam, {"lr": 0.3}, steps=30, baseline=(torch.optim.SGD, {"lr": 0.1}))
    expected = run_trajectory(torch.optim.SGD, {"lr": 0.1}, steps=30)
    assert_same_trajectory(explorer.baseline_trajectory, expected)
    np.testing.assert_array_equal(explorer.figure.baseline_line.get_xydata(), expected.path)


def test_trajectory_baseline_follows_the_steps_slider():
    explorer = trajectory_explorer(Adam, {"lr": 0.3}, steps=30, baseline=(SGD, {"lr": 0.1}))
    explorer.sliders["steps"].value = 60
    assert_same_trajectory(explorer.baseline_trajectory, run_trajectory(SGD, {"lr": 0.1}, steps=60))


def test_torch_optim_class_can_be_explored():
    explorer = trajectory_explorer(torch.optim.Adam, {"lr": 0.3})
    explorer.sliders["lr"].value = 0.1
    expected = run_trajectory(torch.optim.Adam, {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8})
    assert_same_trajectory(explorer.trajectory, expected)


# --- Loss-curve explorer ----------------------------------------------------------------------


def test_loss_explorer_has_lr_and_batch_size_sliders(airfoil):
    assert list(loss_curve_explorer(Adagrad, {"lr": 0.1}, airfoil).sliders) == ["lr", "eps", "batch_size"]


def test_batch_size_slider_ends_with_full_batch(airfoil):
    options = loss_curve_explorer(SGD, {"lr": 0.01}, airfoil).sliders["batch_size"].options
    assert options[-1] == len(airfoil) and 10 in options


def test_moving_lr_slider_retrains_the_curve(airfoil):
    explorer = loss_curve_explorer(SGD, {"lr": 0.01}, airfoil)
    explorer.sliders["lr"].value = 0.05
    expected = train_linear_regression(SGD, {"lr": 0.05, "momentum": 0.0, "nesterov": False}, airfoil)
    assert_same_curve(explorer.curve, expected)


def test_moving_lr_slider_redraws_the_curve(airfoil):
    explorer = loss_curve_explorer(Adam, {"lr": 0.01}, airfoil)
    before = explorer.figure.curve_line.get_xydata().copy()
    explorer.sliders["lr"].value = 0.001
    expected = train_linear_regression(Adam, {"lr": 0.001}, airfoil)
    np.testing.assert_array_equal(explorer.figure.curve_line.get_xydata(),
                                  np.column_stack([expected.epochs, expected.losses]))
    assert not np.array_equal(before, explorer.figure.curve_line.get_xydata())


def test_moving_batch_size_slider_retrains_with_that_batch_size(airfoil):
    explorer = loss_curve_explorer(SGD, {"lr": 0.01}, airfoil)
    explorer.sliders["batch_size"].value = 100
    expected = train_linear_regression(SGD, {"lr": 0.01, "momentum": 0.0, "nesterov": False}, airfoil,
                                       batch_size=100)
    assert_same_curve(explorer.curve, expected)


def test_loss_diverging_lr_shows_the_message_with_finite_limits(airfoil):
    explorer = loss_curve_explorer(SGD, {"lr": 0.01}, airfoil)
    explorer.sliders["lr"].value = 10.0
    expected = train_linear_regression(SGD, {"lr": 10.0, "momentum": 0.0, "nesterov": False}, airfoil)
    assert explorer.figure.message == f"diverged at epoch {expected.diverged_at:.2f}"
    assert explorer.summary == expected.summary()
    assert np.isfinite(explorer.figure.axes.get_ylim()).all()


def test_loss_baseline_is_drawn_from_its_own_run(airfoil):
    explorer = loss_curve_explorer(Adam, {"lr": 0.01}, airfoil, baseline=(torch.optim.SGD, {"lr": 0.01}))
    expected = train_linear_regression(torch.optim.SGD, {"lr": 0.01}, airfoil)
    assert_same_curve(explorer.baseline_curve, expected)
    np.testing.assert_array_equal(explorer.figure.baseline_line.get_xydata(),
                                  np.column_stack([expected.epochs, expected.losses]))


def test_loss_explorer_refuses_data_that_is_not_airfoil_data():
    with pytest.raises(ValueError, match="data must be AirfoilData"):
        loss_curve_explorer(SGD, {"lr": 0.01}, data=np.zeros((10, 6)))


# --- In a real notebook: the figure is an ordinary PNG output, updated in place --------------

NOTEBOOK_CELLS = [
    "from optim_lib import Adagrad\nfrom optim_lib.widgets import trajectory_explorer\n"
    "explorer = trajectory_explorer(Adagrad, {'lr': 0.4})",
    "explorer.sliders['lr'].value = 2.0",
    "import hashlib\nprint(hashlib.sha1(explorer.figure.png()).hexdigest())",
    "trajectory_explorer(Adagrad, {'lr': 0.4})",
]


@pytest.fixture(scope="module")
def executed_notebook():
    """The cells above, run in a real kernel (about 10 s)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(REPO)}})
    client.execute()
    return notebook


def outputs_with(notebook, cell: int, mime: str) -> list:
    return [output for output in notebook.cells[cell].outputs if mime in output.get("data", {})]


def test_notebook_explorer_leaves_the_figure_as_an_ordinary_png_output(executed_notebook):
    assert len(outputs_with(executed_notebook, 0, "image/png")) == 1
    assert len(outputs_with(executed_notebook, 0, "application/vnd.jupyter.widget-view+json")) == 1


def test_notebook_slider_move_updates_the_same_png_output_in_place(executed_notebook):
    (image,) = outputs_with(executed_notebook, 0, "image/png")
    shown = hashlib.sha1(base64.b64decode(image["data"]["image/png"])).hexdigest()
    assert shown == executed_notebook.cells[2].outputs[0]["text"].strip()
    assert executed_notebook.cells[1].outputs == []


def test_notebook_summary_output_follows_the_slider(executed_notebook):
    (text,) = [output for output in executed_notebook.cells[0].outputs
               if list(output.get("data", {})) == ["text/plain"]]
    assert text["data"]["text/plain"] == run_trajectory(Adagrad, {"lr": 2.0, "eps": 1e-10}).summary()


def test_notebook_cell_ending_with_the_call_shows_the_explorer_once(executed_notebook):
    outputs = executed_notebook.cells[3].outputs
    assert len(outputs_with(executed_notebook, 3, "image/png")) == 1
    assert not [output for output in outputs if output["output_type"] == "execute_result"]


@pytest.mark.parametrize(
    ("optimizer_class", "hyperparameters"),
    [
        (Adagrad, {"lr": 0.4}),
        (RMSprop, {"lr": 0.4, "alpha": 0.9}),
        (SGD, {"lr": 0.6, "momentum": 0.25}),
        (AdamW, {"lr": 0.4, "weight_decay": 0.001, "eps": 3e-7}),
    ],
)
def test_sliders_start_exactly_at_the_given_values(optimizer_class, hyperparameters):
    """A slider snaps its value to its grid: 0.4 on a grid through 1e-4 would become 0.398."""
    explorer = trajectory_explorer(optimizer_class, hyperparameters)
    for name, value in hyperparameters.items():
        assert explorer.sliders[name].value == value, name
    expected = run_trajectory(optimizer_class, hyperparameters)
    np.testing.assert_array_equal(explorer.trajectory.path, expected.path)


def test_a_value_off_every_decimal_grid_keeps_a_usable_slider():
    explorer = trajectory_explorer(Adam, {"lr": 0.1, "betas": (1 / 3, 0.999)})
    slider = explorer.sliders["beta1"]
    assert slider.value == 1 / 3
    assert slider.step >= 0.001


def test_a_refused_combination_clears_the_baseline_too():
    explorer = trajectory_explorer(SGD, {"lr": 0.1, "momentum": 0.5}, baseline=(SGD, {"lr": 0.2}))
    explorer.sliders["momentum"].value = 0.0
    explorer.sliders["nesterov"].value = True  # refused: Nesterov needs momentum
    assert explorer.error is not None
    assert explorer.trajectory is None and explorer.baseline_trajectory is None


def test_loss_explorer_error_title_keeps_the_batch_size(airfoil):
    explorer = loss_curve_explorer(SGD, {"lr": 0.05}, airfoil, batch_size=20)
    explorer.sliders["momentum"].value = 0.0
    explorer.sliders["nesterov"].value = True
    assert explorer.figure.title.replace("\n", " ").endswith("batch size 20")


# --- The website's version: the same sliders, exported -----------------------------------------


@pytest.mark.parametrize(
    ("optimizer_class", "hyperparameters"),
    [(SGD, {"lr": 0.6, "momentum": 0.5}), (Adam, {"lr": 0.4}), (AdamW, {"lr": 0.4, "weight_decay": 0.1}),
     (RMSprop, {"lr": 0.4, "alpha": 0.9}), (Adadelta, {"rho": 0.9}), (Adagrad, {"lr": 0.4})],
)
def test_the_web_sliders_are_the_widgets_sliders(optimizer_class, hyperparameters):
    explorer = trajectory_explorer(optimizer_class, hyperparameters)
    spec = explorer.web_spec()
    assert [slider["name"] for slider in spec["sliders"]] == list(explorer.sliders)
    for slider in spec["sliders"]:
        widget = explorer.sliders[slider["name"]]
        assert widget.description == slider["description"]
        if slider["kind"] == "checkbox":
            assert widget.value == (slider["start"] == 1)
            continue
        # The widget's range and step are the exported grid's, and both start at the same value.
        assert (widget.min, widget.max) == pytest.approx((slider["low"], slider["low"] + (slider["count"] - 1) * slider["step"]))
        assert widget.value == slider["value"]
        if slider["kind"] != "int":
            assert widget.step == slider["step"]


def test_the_web_spec_starts_where_the_notebook_explorer_starts(airfoil):
    explorer = loss_curve_explorer(Adam, {"lr": 0.01}, airfoil, baseline=(SGD, {"lr": 0.05}))
    spec = explorer.web_spec()
    assert spec["summary"] == explorer.summary
    assert spec["optimizer"] == "Adam" and spec["fixed"] == {}
    assert spec["baseline"]["hyperparameters"] == {"lr": 0.05}
    assert spec["theta0"][-1] == 0.0 and len(spec["orders"]) == 2 and sorted(spec["orders"][0]) == list(range(1500))


def test_an_explorer_the_browser_cannot_run_says_where_it_runs():
    explorer = trajectory_explorer(torch.optim.Adam, {"lr": 0.1})
    assert explorer.web_spec() is None
    assert "run live in Jupyter or Colab" in explorer.web_html()


def test_the_notebook_output_carries_the_widget_and_the_web_version(executed_notebook):
    (output,) = outputs_with(executed_notebook, 0, "application/vnd.jupyter.widget-view+json")
    assert 'class="optim-live"' in output["data"]["text/html"]


# --- Network explorer ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    from optim_lib.digits import load_digits

    return load_digits()


def test_network_explorer_has_hyperparameter_batch_size_and_epochs_sliders(digits):
    from optim_lib.widgets import network_explorer

    assert list(network_explorer(Adam, {"lr": 3e-3}, digits, epochs=2).sliders) == [
        "lr", "beta1", "beta2", "eps", "batch_size", "epochs"]


def test_moving_lr_slider_retrains_the_network_and_redraws(digits):
    from optim_lib.network import train_network
    from optim_lib.widgets import network_explorer

    explorer = network_explorer(Adam, {"lr": 3e-3}, digits, epochs=2)
    before = explorer.figure.loss_line.get_xydata().copy()
    explorer.sliders["lr"].value = 0.01
    expected = train_network(Adam, {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}, digits, epochs=2)
    np.testing.assert_array_equal(explorer.run.train_losses, expected.train_losses)
    np.testing.assert_array_equal(explorer.figure.accuracy_line.get_xydata(),
                                  np.column_stack([expected.test_epochs, expected.test_accuracies]))
    assert not np.array_equal(before, explorer.figure.loss_line.get_xydata())


def test_network_epochs_and_batch_size_sliders_retrain_the_baseline_too(digits):
    from optim_lib.network import train_network
    from optim_lib.widgets import network_explorer

    explorer = network_explorer(Adam, {"lr": 3e-3}, digits, epochs=2, baseline=(SGD, {"lr": 0.1}))
    explorer.sliders["epochs"].value = 3
    explorer.sliders["batch_size"].value = 64
    expected = train_network(SGD, {"lr": 0.1}, digits, batch_size=64, epochs=3)
    np.testing.assert_array_equal(explorer.baseline_run.test_accuracies, expected.test_accuracies)
    assert explorer.run.epochs == 3 and explorer.run.batch_size == 64


def test_a_diverging_network_run_says_so_in_the_figure(digits):
    from optim_lib.network import train_network
    from optim_lib.widgets import network_explorer

    explorer = network_explorer(Adam, {"lr": 3e-3}, digits, epochs=2)
    explorer.sliders["lr"].value = 10.0  # the slider's top; Adam diverges on the network from about 10
    expected = train_network(Adam, {"lr": 10.0, "betas": (0.9, 0.999), "eps": 1e-8}, digits, epochs=2)
    assert expected.diverged_at is not None
    assert explorer.figure.message == f"diverged at step {expected.diverged_at_step} (epoch {expected.diverged_at:.2f})"


def test_the_network_explorer_says_on_the_website_where_it_runs_live(digits):
    from optim_lib.widgets import network_explorer

    explorer = network_explorer(Adam, {"lr": 3e-3}, digits, epochs=1)
    assert explorer.web_spec() is None
    assert 'data-kind="network"' in explorer.web_html() and "live in Jupyter or Colab" in explorer.web_html()
