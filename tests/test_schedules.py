"""Learning-rate schedules: torch's schedulers drive optim_lib's classes as they drive
torch.optim's; the WSD factor against a hand computation; the range test on a quadratic whose
divergence learning rate is known by hand; the trainers' scheduler arguments; the explorer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib.schedules import (
    EXPLORER_DECAYS, SCHEDULE_NAMES, WSD, RangeTest, Schedule, lr_range_test, network_range_test,
    schedule_factors, shaped_schedule,
)

STEPS = 60
SCHEDULES = {
    "constant": Schedule("constant", STEPS),
    "step": Schedule("step", STEPS, step_size=15, gamma=0.5),
    "exponential": Schedule("exponential", STEPS, gamma=0.95),
    "cosine": Schedule("cosine", STEPS, final_factor=0.1),
    "warmup_cosine": Schedule("warmup_cosine", STEPS, warmup_steps=10),
    "one_cycle": Schedule("one_cycle", STEPS, warmup_steps=15),
    "one_cycle_momentum": Schedule("one_cycle", STEPS, warmup_steps=15, cycle_momentum=True),
    "wsd": Schedule("wsd", STEPS, warmup_steps=10, decay_steps=20, decay="1-sqrt", final_factor=0.05),
}
OPTIMIZERS = {
    "SGD": ({"lr": 0.05, "momentum": 0.9}, optim_lib.SGD, torch.optim.SGD),
    "Adam": ({"lr": 0.05}, optim_lib.Adam, torch.optim.Adam),
    "AdamW": ({"lr": 0.05, "weight_decay": 0.1}, optim_lib.AdamW, torch.optim.AdamW),
}


def _scheduled_run(optimizer_class, hyperparameters, schedule):
    """STEPS steps on sum(x^2/2 + sin 3x) in float64 from a seeded start; each step's lr."""
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64).requires_grad_(True)
    optimizer = optimizer_class([x], **hyperparameters)
    scheduler = schedule(optimizer)
    rates = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        (x * x / 2 + torch.sin(3 * x)).sum().backward()
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(rates), x.detach().clone()


@pytest.mark.parametrize("schedule_name", sorted(SCHEDULES))
@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_torch_scheduler_drives_optim_lib_as_it_drives_torch_optim(optimizer_name, schedule_name):
    hyperparameters, ours, theirs = OPTIMIZERS[optimizer_name]
    schedule = SCHEDULES[schedule_name]
    our_rates, our_x = _scheduled_run(ours, hyperparameters, schedule)
    their_rates, their_x = _scheduled_run(theirs, hyperparameters, schedule)
    np.testing.assert_array_equal(our_rates, their_rates)
    assert len(set(our_rates.tolist())) > (1 if schedule_name != "constant" else 0)
    torch.testing.assert_close(our_x, their_x, rtol=0, atol=1e-12)


def test_every_named_schedule_is_tested():
    assert {schedule.name for schedule in SCHEDULES.values()} == set(SCHEDULE_NAMES)


def test_wsd_factor_by_hand():
    # T = 10, W = 2, D = 4, linear to 0.2: steps 1..2 warm up (1/2, 1), 3..6 stable,
    # 7..10 decay: 0.2 + 0.8 (1 - s) with s = 1/4, 2/4, 3/4, 1.
    factor = WSD(10, 2, 4, decay="linear", final_factor=0.2)
    expected = [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.2]
    np.testing.assert_allclose([factor(k) for k in range(10)], expected, rtol=0, atol=1e-15)
    assert factor(10) == pytest.approx(0.2)  # past the end it stays at the final factor


def test_wsd_decay_shapes_by_hand():
    # Halfway through the decay (T = 8, D = 4, step 6: s = 2/4): cosine (1 + cos(pi/2))/2 = 1/2,
    # 1-sqrt: 1 - sqrt(1/2).
    assert WSD(8, 0, 4, decay="cosine")(5) == pytest.approx(0.5)
    assert WSD(8, 0, 4, decay="1-sqrt")(5) == pytest.approx(1 - math.sqrt(0.5))
    assert WSD(8, 0, 4, decay="1-sqrt")(3) == 1.0  # step 4: the last stable step


def test_wsd_through_lambda_lr_gives_the_factor_times_the_peak():
    rates = schedule_factors(lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, WSD(10, 2, 4)), 10)
    np.testing.assert_allclose(rates, [0.5, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0.0], rtol=0, atol=1e-15)


def test_warmup_cosine_by_hand():
    # T = 10, W = 4: t/4 for t = 1..4, then torch's cosine over 6 steps from the peak.
    expected = [0.25, 0.5, 0.75, 1.0] + [(1 + math.cos(math.pi * k / 6)) / 2 for k in range(6)]
    np.testing.assert_allclose(schedule_factors(Schedule("warmup_cosine", 10, warmup_steps=4), 10), expected,
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((0,), "total_steps must be a whole number in [1, inf); got 0"),
        ((10, 11), "warmup_steps must be a whole number in [0, 10]; got 11"),
        ((10, 4, 7), "decay_steps must be a whole number in [0, 6]; got 7"),
        ((10, -1), "warmup_steps must be a whole number in [0, 10]; got -1"),
    ],
)
def test_wsd_rejects_bad_lengths(arguments, message):
    with pytest.raises(ValueError) as error:
        WSD(*arguments)
    assert str(error.value) == message


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan])
def test_wsd_rejects_a_final_factor_outside_0_1(value):
    with pytest.raises(ValueError, match=r"final_factor must be a number in \[0, 1\]; got"):
        WSD(10, final_factor=value)


def test_wsd_rejects_an_unknown_decay():
    with pytest.raises(ValueError, match="decay must be one of .*linear.*; got 'exp'"):
        WSD(10, decay="exp")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"name": "triangle", "total_steps": 10}, "name must be one of"),
        ({"name": "step", "total_steps": 10, "gamma": 0.0}, r"gamma must be a number in \(0, 1\]; got 0.0"),
        ({"name": "warmup_cosine", "total_steps": 10}, r"warmup_steps must be .* \[1, 9\] for warmup_cosine; got 0"),
        ({"name": "one_cycle", "total_steps": 10, "warmup_steps": 1}, r"\[2, 9\] for one_cycle; got 1"),
        ({"name": "wsd", "total_steps": 10, "warmup_steps": 5, "decay_steps": 6}, r"decay_steps .* \[0, 5\]; got 6"),
        ({"name": "cosine", "total_steps": 10, "final_factor": 2.0}, r"final_factor must be a number in \[0, 1\]"),
    ],
)
def test_schedule_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        Schedule(**arguments)


def test_shaped_schedule_rejects_a_long_warmup():
    with pytest.raises(ValueError, match=r"warmup_fraction must be a number in \[0, 0.5\]; got 0.6"):
        shaped_schedule("cosine", 100, 0.6)


@pytest.mark.parametrize("decay", EXPLORER_DECAYS)
def test_shaped_schedule_warms_up_linearly_and_peaks_at_one(decay):
    factors = schedule_factors(shaped_schedule(decay, 100, 0.1), 100)
    np.testing.assert_allclose(factors[:10], np.arange(1, 11) / 10, rtol=0, atol=1e-12)
    assert factors.max() == pytest.approx(1.0)
    if decay != "constant":
        assert factors[-1] < 0.05


# --- The range test -----------------------------------------------------------------------------


def _quadratic_test(h: float, **kwargs) -> RangeTest:
    x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)

    def loss(k: int) -> float:
        x.grad = h * x.detach().clone()
        return float(0.5 * h * x.detach() ** 2)

    return lr_range_test(torch.optim.SGD, None, [x], loss, **kwargs)


def test_range_test_on_a_quadratic_turns_up_at_two_over_the_curvature():
    # Gradient descent on h x^2 / 2 multiplies x by 1 - lr h: the loss falls at a step whose
    # lr is below 2/h and grows above it.
    h = 4.0
    test = _quadratic_test(h, min_lr=1e-3, max_lr=10.0, steps=81, stop_factor=1e12)
    before = np.concatenate([[test.initial_loss], test.losses[:-1]])
    grows = test.losses > before
    np.testing.assert_array_equal(grows, test.learning_rates > 2 / h)
    assert grows.any() and not grows.all()


def test_range_test_learning_rates_grow_exponentially_from_min_to_max():
    test = _quadratic_test(1.0, min_lr=1e-4, max_lr=1e-2, steps=5)
    np.testing.assert_allclose(test.learning_rates, [1e-4, 10 ** -3.5, 1e-3, 10 ** -2.5, 1e-2], rtol=1e-12)
    assert test.stopped_at_lr is None


def test_range_test_stops_when_the_loss_blows_up():
    h = 4.0
    test = _quadratic_test(h, min_lr=1e-3, max_lr=100.0, steps=101, stop_factor=4.0)
    assert test.stopped_at_lr is not None and test.stopped_at_lr > 2 / h
    assert test.losses[-1] > 4 * test.losses[:-1].min()
    assert len(test.losses) < 101
    assert test.best_lr < 2 / h


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"min_lr": 0.0}, r"min_lr must be a number in \(0, inf\); got 0.0"),
        ({"min_lr": 1.0, "max_lr": 0.5}, r"max_lr must be larger than min_lr = 1.0; got 0.5"),
        ({"steps": 1}, r"steps must be a whole number in \[2, inf\); got 1"),
        ({"stop_factor": 1.0}, r"stop_factor must be a number in \(1, inf\]; got 1.0"),
    ],
)
def test_range_test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _quadratic_test(1.0, **kwargs)


@pytest.fixture(scope="module")
def digits():
    from optim_lib.digits import load_digits

    return load_digits()


def test_network_range_test_falls_then_blows_up_with_adam(digits):
    test = network_range_test(optim_lib.Adam, None, digits, min_lr=1e-4, max_lr=10.0, batch_size=16)
    assert len(test.losses) <= 94  # one pass of 1500 images in batches of 16, or less
    assert test.losses.min() < 0.5 * test.initial_loss  # it learns at some rates
    assert test.stopped_at_lr is not None  # and the loss blows up at large ones
    assert test.best_lr < test.stopped_at_lr
    assert abs(test.losses[0] - test.initial_loss) < 0.01  # lr 1e-4 barely moves it


# --- The trainers -------------------------------------------------------------------------------


def test_airfoil_scheduled_run_of_optim_lib_matches_torch_optim(airfoil):
    schedule = Schedule("warmup_cosine", 300, warmup_steps=30)
    ours = optim_lib.train_linear_regression(optim_lib.Adam, {"lr": 0.05}, airfoil, scheduler=schedule)
    theirs = optim_lib.train_linear_regression(torch.optim.Adam, {"lr": 0.05}, airfoil, scheduler=schedule)
    np.testing.assert_allclose(ours.learning_rates, theirs.learning_rates, rtol=1e-7)
    # optim_lib's plain-Python trainer runs in float64, torch's on float32 data.
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-5)
    assert len(ours.learning_rates) == 300


def test_airfoil_constant_scheduler_changes_nothing(airfoil):
    plain = optim_lib.train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil)
    scheduled = optim_lib.train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil,
                                                  scheduler=Schedule("constant", 300))
    np.testing.assert_array_equal(plain.losses, scheduled.losses)
    assert plain.learning_rates is None and np.all(scheduled.learning_rates == 0.05)


def test_airfoil_one_cycle_with_momentum_cycles_the_betas_too(airfoil):
    schedule = Schedule("one_cycle", 300, warmup_steps=60, cycle_momentum=True)
    ours = optim_lib.train_linear_regression(optim_lib.Adam, {"lr": 0.05}, airfoil, scheduler=schedule)
    theirs = optim_lib.train_linear_regression(torch.optim.Adam, {"lr": 0.05}, airfoil, scheduler=schedule)
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-5)


def test_airfoil_rejects_a_scheduler_that_is_not_callable(airfoil):
    with pytest.raises(TypeError, match="scheduler must be a function optimizer -> LRScheduler"):
        optim_lib.train_linear_regression(optim_lib.SGD, {"lr": 0.05}, airfoil, scheduler="cosine")


def test_network_trainer_records_the_schedule(digits):
    run = optim_lib.train_network(optim_lib.Adam, {"lr": 1e-3}, digits, epochs=1,
                                  scheduler=Schedule("wsd", 47, warmup_steps=5, decay_steps=10))
    np.testing.assert_allclose(run.learning_rates, 1e-3 * schedule_factors(Schedule("wsd", 47, 5, 10), 47))


# --- Plots and the explorer ---------------------------------------------------------------------


def test_plot_range_tests_says_where_the_test_stopped():
    import matplotlib

    matplotlib.use("Agg")
    from optim_lib.plotting import plot_range_tests

    test = _quadratic_test(4.0, min_lr=1e-3, max_lr=100.0, steps=101)
    ax = plot_range_tests(test, labels=["GD"])
    assert "loss blew up at lr" in "".join(text.get_text() for text in ax.texts)
    assert ax.get_xscale() == "log" and ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_schedule_explorer_runs_airfoil(airfoil):
    from optim_lib.widgets import schedule_explorer

    explorer = schedule_explorer(optim_lib.SGD, {"lr": 0.05}, airfoil, baseline=(optim_lib.SGD, {"lr": 0.05}))
    explorer.sliders["warmup"].value = 0.1
    explorer.sliders["decay"].value = "wsd"
    assert explorer.error is None
    np.testing.assert_allclose(explorer.run.learning_rates, 0.05 * schedule_factors(explorer.schedule, 300))
    assert np.all(explorer.baseline_run.learning_rates == 0.05)
    x, rates = explorer.figure.lr_line.get_xydata().T
    np.testing.assert_allclose(rates, explorer.run.learning_rates)
    assert x[-1] == pytest.approx(2.0)


def test_the_schedule_panel_top_follows_the_largest_learning_rate_shown(airfoil):
    from optim_lib.widgets import schedule_explorer

    explorer = schedule_explorer(optim_lib.SGD, {"lr": 0.05}, airfoil, baseline=(optim_lib.SGD, {"lr": 0.05}))
    lr_axes = explorer.figure.lr_axes

    def top_and_labels():
        explorer.figure.canvas.draw()
        return lr_axes.get_ylim()[1], [label.get_text() for label in lr_axes.get_yticklabels()]

    # 1.05 x 0.05 = 0.0525: the next 1-2-5 number is 0.1, in ticks of 0.02.
    assert top_and_labels() == (0.1, ["0", "0.02", "0.04", "0.06", "0.08", "0.1"])
    lr = explorer.sliders["lr"]
    lr.value = 0.3  # 1.05 x 0.3 = 0.315: up to 0.5
    assert top_and_labels()[0] == 0.5
    lr.value = 0.01  # back down: the baseline's 0.05 is the largest rate shown
    assert top_and_labels()[0] == 0.1


def test_the_explorers_schedules_in_plain_python_are_torchs_bit_for_bit():
    # The website computes the explorer's learning rates without torch (optim_lib.live.schedule);
    # the oracle is torch's scheduler itself, stepped after each step as a training loop steps it.
    from optim_lib.live import schedule as live_schedule

    from optim_lib.widgets import WARMUP_FRACTIONS

    checked = 0
    for decay in EXPLORER_DECAYS:
        for warmup in WARMUP_FRACTIONS:
            for total in (2, 3, 5, 8, 31, 150, 300, 3000):
                for lr in (1e-4, 0.00316, 0.05, 0.316, 1.0, 10.0):
                    parameter = torch.zeros(1, requires_grad=True)
                    optimizer = torch.optim.SGD([parameter], lr=lr)
                    scheduler = shaped_schedule(decay, total, warmup)(optimizer)
                    expected = []
                    for _ in range(total):
                        expected.append(optimizer.param_groups[0]["lr"])
                        parameter.grad = torch.ones(1)
                        optimizer.step()
                        scheduler.step()
                    plan = live_schedule.plan(decay, total, warmup)
                    assert plan.learning_rates(lr) == expected, (decay, warmup, total, lr)
                    assert plan.label() == shaped_schedule(decay, total, warmup).label()
                    checked += 1
    assert checked == len(EXPLORER_DECAYS) * len(WARMUP_FRACTIONS) * 8 * 6


def test_the_website_runs_the_airfoil_schedule_explorer_as_the_kernel_does(airfoil):
    # What the page's worker computes (optim_lib.live.web.run, in Pyodide there; here in CPython)
    # for a slider setting is what the kernel's explorer computes with torch's schedulers.
    import random

    from optim_lib.live import web
    from optim_lib.live.regression import unpack_rows
    from optim_lib.widgets import schedule_explorer

    explorer = schedule_explorer(optim_lib.SGD, {"lr": 0.316}, airfoil, decay="cosine",
                                 baseline=(optim_lib.SGD, {"lr": 0.316}))
    spec = explorer.web_spec()
    assert spec is not None and spec["kind"] == "loss" and spec["schedule"] is True
    assert 'data-kind="loss"' in explorer.web_html() and "optim-live-static" not in explorer.web_html()
    assert set(spec["figure"]["panels"]) == {"lr"} and {"lr_path", "lr_baseline"} <= set(spec["figure"]["lines"])
    rows = unpack_rows(airfoil.to_bytes(), airfoil.X.shape[1])
    sliders = {slider["name"]: slider for slider in spec["sliders"]}
    rng = random.Random(0)
    settings = [{name: slider["start"] for name, slider in sliders.items()}]
    settings += [{name: rng.randrange(slider["count"]) for name, slider in sliders.items()} for _ in range(4)]
    for positions in settings:
        result = web.run(spec, positions, rows)
        for name, slider in sliders.items():
            explorer.sliders[name].value = result["values"][name]
        if explorer.error is not None:
            assert result["error"] == explorer.error
            continue
        assert result["final"] == _finite_or_none(explorer.run.final_loss), positions
        assert result["baseline_final"] == _finite_or_none(explorer.baseline_run.final_loss), positions
        assert result["summary"].split(": loss")[0] == explorer.summary.split(": loss")[0]
        assert "\n".join(line for line in result["title"] if line) == explorer.figure.title
        assert result["message"] == explorer.figure.message
        # The learning-rate panel: the same top and tick labels, the lines in its box.
        explorer.figure.canvas.draw()
        top = explorer.figure.lr_axes.get_ylim()[1]
        assert [tick["text"] for tick in result["lr_ticks"]] == [
            label.get_text() for label in explorer.figure.lr_axes.get_yticklabels()]
        left, box_top, width, height = spec["figure"]["panels"]["lr"]["axes"]
        assert result["lr_ticks"][-1]["y"] == pytest.approx(box_top)
        assert result["lr_ticks"][0]["y"] == pytest.approx(box_top + height)
        path = next(line for line in result["lines"] if line["role"] == "lr_path")
        ys = [y for piece in path["pieces"] for _, y in piece]
        expected = box_top + height * (1 - explorer.run.learning_rates / top)
        np.testing.assert_allclose(sorted(set(np.round(ys, 6))), sorted(set(np.round(expected, 6))))


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def test_the_network_schedule_explorer_shows_a_static_note_on_the_web(digits):
    from optim_lib.widgets import ScheduleExplorer

    explorer = ScheduleExplorer(optim_lib.Adam, {"lr": 0.01}, digits, epochs=1, batch_size=256)
    assert explorer.web_spec() is None
    assert 'class="optim-live optim-live-static" data-kind="network"' in explorer.web_html()


def test_schedule_explorer_rejects_other_data():
    from optim_lib.widgets import ScheduleExplorer

    with pytest.raises(ValueError, match="data must be AirfoilData .* or DigitsData .*; got list"):
        ScheduleExplorer(optim_lib.SGD, {"lr": 0.05}, [1, 2, 3])


def test_v_hat_spread_at_the_first_step_is_the_spread_of_the_squared_first_gradient(digits):
    from optim_lib.network import _layers, build_network, loss_and_gradients
    from optim_lib.update_sizes import network_v_hat_spread

    # Adam's bias-corrected v_1 is g_1^2: the first minibatch's gradient, squared.
    squares = []
    for seed in (0, 1, 2):
        generator = torch.Generator().manual_seed(seed)
        network = build_network((64,), generator=generator)
        order = torch.randperm(digits.n_train, generator=generator).numpy()[:32]
        _, gradients = loss_and_gradients(_layers(list(network.parameters())), digits.X_train.numpy()[order],
                                          digits.y_train.numpy()[order])
        squares.append(np.concatenate([g.reshape(-1) for g in gradients]) ** 2)
    squares = np.array(squares)
    keep = squares.mean(axis=0) > 0
    expected = np.median(squares.std(axis=0)[keep] / squares.mean(axis=0)[keep])
    spreads = network_v_hat_spread(digits, seeds=(0, 1, 2), steps=3)
    assert spreads[0] == pytest.approx(expected, rel=1e-4)
    assert len(spreads) == 3


def test_plot_scheduled_runs_draws_each_steps_learning_rate(airfoil):
    import matplotlib

    matplotlib.use("Agg")
    from optim_lib.plotting import plot_scheduled_runs

    runs = [optim_lib.train_linear_regression(optim_lib.SGD, {"lr": 0.1}, airfoil),
            optim_lib.train_linear_regression(optim_lib.SGD, {"lr": 0.1}, airfoil, scheduler=Schedule("cosine", 300))]
    loss_ax, lr_ax = plot_scheduled_runs(runs, labels=["constant", "cosine"], examples=len(airfoil))
    constant, cosine = (line.get_xydata() for line in lr_ax.get_lines())
    assert np.all(constant[:, 1] == 0.1) and len(constant) == 300  # no scheduler: its lr at every step
    np.testing.assert_allclose(cosine[:, 1], 0.1 * schedule_factors(Schedule("cosine", 300), 300))
    assert cosine[-1, 0] == pytest.approx(2.0) and cosine[0, 0] == pytest.approx(1 / 150)
    for ax in (loss_ax, lr_ax):
        assert ax.get_title() and ax.get_xlabel() == "epoch" and ax.get_ylabel()
    with pytest.raises(ValueError, match=r"each run must be a LossCurve \(train_linear_regression\) or a NetworkRun"):
        plot_scheduled_runs([runs[0], "not a run"], examples=1500)


def test_schedule_explorer_says_in_the_figure_when_a_run_diverges(airfoil):
    from optim_lib.widgets import schedule_explorer

    explorer = schedule_explorer(optim_lib.SGD, {"lr": 0.316}, airfoil, decay="constant")
    assert explorer.figure.message == ""
    explorer.sliders["lr"].value = 10.0
    assert "diverged" in explorer.figure.message or "left the plot" in explorer.figure.message
    assert "diverged" in explorer.summary or explorer.run.final_loss > 1.0


def test_schedule_explorer_on_the_network_warms_up_and_keeps_its_baseline_constant(digits):
    from optim_lib.widgets import schedule_explorer

    explorer = schedule_explorer(optim_lib.Adam, {"lr": 0.01}, digits, epochs=1, baseline=(optim_lib.Adam, {"lr": 0.01}))
    explorer.sliders["warmup"].value = 0.2
    assert explorer.schedule.total_steps == 47 and explorer.schedule.warmup_steps == 9
    np.testing.assert_allclose(explorer.run.learning_rates[:9], 0.01 * np.arange(1, 10) / 9, rtol=1e-12)
    assert np.all(explorer.baseline_run.learning_rates == 0.01)
    assert "warm-up 20%, then cosine" in explorer.figure.title.replace("\n", " ")
