"""The digits loader and the network trainer: the data as scikit-learn ships it, PyTorch's
own initialization and gradients, determinism without global state, honest divergence,
schedulers, and clear errors."""

from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits as sklearn_digits

import optim_lib
from optim_lib.digits import load_digits
from optim_lib.network import LOSS_LIMIT, build_network, loss_and_gradients, train_network


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def raw():
    """The oracle: scikit-learn's pixels (0..16) and labels, untouched."""
    bunch = sklearn_digits()
    return bunch.data, bunch.target


# --- The loader ---------------------------------------------------------------------------


def test_default_split_is_1500_train_and_297_test_images_covering_all_once(digits):
    assert digits.X_train.shape == (1500, 64) and digits.X_test.shape == (297, 64)
    assert digits.y_train.shape == (1500,) and digits.y_test.shape == (297,)
    both = np.concatenate([digits.train_index, digits.test_index])
    assert sorted(both.tolist()) == list(range(1797))
    assert digits.X_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    assert digits.class_names == tuple("0123456789")


def test_unit_scaling_is_the_pixels_divided_by_16(digits, raw):
    pixels, labels = raw
    np.testing.assert_array_equal(digits.X_train.numpy(), (pixels[digits.train_index] / 16).astype(np.float32))
    np.testing.assert_array_equal(digits.X_test.numpy(), (pixels[digits.test_index] / 16).astype(np.float32))
    np.testing.assert_array_equal(digits.y_test.numpy(), labels[digits.test_index])
    assert float(digits.X_train.min()) == 0.0 and float(digits.X_train.max()) == 1.0


def test_standard_scaling_uses_the_training_images_statistics_for_both_splits(raw):
    pixels, _ = raw
    data = load_digits(scaling="standard")
    train = pixels[data.train_index]
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0  # pixels blank in every training image stay 0
    np.testing.assert_allclose(data.X_train.numpy(), (train - mean) / std, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(data.X_test.numpy(), (pixels[data.test_index] - mean) / std, rtol=1e-6, atol=1e-5)
    spread = data.X_train.numpy().astype(np.float64).std(axis=0)
    assert np.allclose(spread[spread > 0], 1.0, atol=1e-5) and (spread == 0).sum() == 4


def test_split_is_stratified_every_digit_29_or_30_times_in_the_test_set(digits):
    test_counts = np.bincount(digits.y_test.numpy(), minlength=10)
    train_counts = np.bincount(digits.y_train.numpy(), minlength=10)
    assert set(test_counts.tolist()) <= {29, 30}
    # The same proportion of every digit is held out (each class has 174 to 183 images).
    fractions = test_counts / (test_counts + train_counts)
    assert np.all(np.abs(fractions - 297 / 1797) < 0.01)


def test_split_is_fixed_by_its_seed(digits):
    np.testing.assert_array_equal(load_digits(seed=0).test_index, digits.test_index)
    assert not np.array_equal(load_digits(seed=1).test_index, digits.test_index)
    assert load_digits(test_size=500).n_test == 500 and load_digits(test_size=500).n_train == 1297


def test_subset_names_the_split(digits):
    X, y = digits.subset("test")
    assert X is digits.X_test and y is digits.y_test
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\); got 'val'"):
        digits.subset("val")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"test_size": 0}, r"test_size must be a whole number in \[10, 1787\]; got 0"),
        ({"test_size": 1797}, r"test_size must be a whole number in \[10, 1787\]; got 1797"),
        ({"test_size": 0.2}, r"test_size must be a whole number in \[10, 1787\]; got 0.2"),
        ({"seed": -1}, r"seed must be a whole number in \[0, 4294967295\]; got -1"),
        ({"scaling": "minmax"}, r"scaling must be one of \('unit', 'standard'\); got 'minmax'"),
    ],
)
def test_loader_refuses_bad_arguments_naming_them(arguments, message):
    with pytest.raises(ValueError, match=message):
        load_digits(**arguments)


# --- The network --------------------------------------------------------------------------


def test_initial_weights_are_pytorchs_default_for_linear():
    """Oracle: torch.nn.Linear's own initialization from the same seed (run inside
    fork_rng, so this test leaves the global generator as it found it)."""
    ours = build_network((32,), seed=7)
    with torch.random.fork_rng():
        torch.manual_seed(7)
        reference = [torch.nn.Linear(64, 32), torch.nn.Linear(32, 10)]
    for mine, theirs in zip(ours[0::2], reference):
        assert torch.equal(mine.weight, theirs.weight) and torch.equal(mine.bias, theirs.bias)


@pytest.mark.parametrize("hidden", [(64,), (16, 16, 16, 16), ()], ids=["64", "4x16", "none"])
def test_gradients_are_autograds(digits, hidden):
    """Oracle: autograd through the same torch.nn network and F.cross_entropy, float32."""
    network = build_network(hidden, seed=3)
    X, y = digits.X_train[:32], digits.y_train[:32]
    F.cross_entropy(network(X), y).backward()
    parameters = list(network.parameters())
    arrays = [p.detach().numpy() for p in parameters]
    loss, gradients = loss_and_gradients(list(zip(arrays[0::2], arrays[1::2])), X.numpy(), y.numpy())
    assert loss == pytest.approx(float(F.cross_entropy(network(X), y).detach()), rel=1e-6)
    assert len(gradients) == len(parameters)
    for g, p in zip(gradients, parameters):
        torch.testing.assert_close(torch.from_numpy(g), p.grad, rtol=1e-5, atol=1e-6)


# --- The trainer --------------------------------------------------------------------------


def test_same_seed_same_run(digits):
    a = train_network(optim_lib.Adam, {"lr": 1e-3}, digits, epochs=3, seed=5)
    b = train_network(optim_lib.Adam, {"lr": 1e-3}, digits, epochs=3, seed=5)
    np.testing.assert_array_equal(a.train_losses, b.train_losses)
    np.testing.assert_array_equal(a.test_losses, b.test_losses)
    np.testing.assert_array_equal(a.test_accuracies, b.test_accuracies)


def test_different_seeds_different_runs(digits):
    a = train_network(optim_lib.SGD, {"lr": 0.1}, digits, epochs=2, seed=0)
    b = train_network(optim_lib.SGD, {"lr": 0.1}, digits, epochs=2, seed=1)
    assert a.train_losses[0] != b.train_losses[0]  # other initial weights
    assert not np.array_equal(a.test_losses, b.test_losses)


def test_our_adam_and_torchs_give_the_same_curve(digits):
    """Oracle: torch.optim.Adam on the same network, gradients and minibatches. Both compute
    in float32, in different orders (torch's ``lerp_``, ``addcmul_`` and ``addcdiv_`` against
    NumPy's separately rounded operations), so the weights differ by float32 rounding, which
    940 steps can amplify. Measured: losses within 3.2e-7 relative (a few float32 ulps,
    whose size is 6e-8), weights within 5.9e-7; the tolerances allow 30 times that."""
    ours = train_network(optim_lib.Adam, {"lr": 1e-3}, digits)
    theirs = train_network(torch.optim.Adam, {"lr": 1e-3}, digits)
    np.testing.assert_allclose(ours.train_losses, theirs.train_losses, rtol=1e-5)
    np.testing.assert_allclose(ours.test_losses, theirs.test_losses, rtol=1e-5)
    np.testing.assert_array_equal(ours.test_accuracies, theirs.test_accuracies)
    for p, q in zip(ours.network.parameters(), theirs.network.parameters()):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=0, atol=2e-5)


def test_default_run_learns_the_digits(digits):
    # Measured: 96.3 % (286 of 297 test images; 96.0 to 96.3 % over seeds 0 to 2). Chance is 10 %.
    run = train_network(optim_lib.Adam, {"lr": 1e-3}, digits)
    assert run.diverged_at is None
    assert run.final_test_accuracy >= 0.94
    assert run.train_losses[-1] < run.train_losses[0] / 10


def test_records_every_epoch_by_default_and_where_asked(digits):
    run = train_network(optim_lib.SGD, {"lr": 0.1}, digits, epochs=3)
    np.testing.assert_array_equal(run.train_epochs, [0, 1, 2, 3])
    np.testing.assert_array_equal(run.test_epochs, [0, 1, 2, 3])
    assert run.steps == 3 * math.ceil(1500 / 32) and len(run.learning_rates) == run.steps
    finer = train_network(optim_lib.SGD, {"lr": 0.1}, digits, epochs=2, record_every=500)
    np.testing.assert_allclose(finer.train_epochs, [0, 512 / 1500, 1024 / 1500, 1, 1 + 512 / 1500,
                                                    1 + 1024 / 1500, 2])


@pytest.mark.parametrize("optimizer, settings", [(optim_lib.SGD, {"lr": 100.0}), (optim_lib.Adam, {"lr": 10.0}),
                                                 (torch.optim.SGD, {"lr": 100.0})])
def test_divergence_is_reported_not_raised_and_quiet(digits, optimizer, settings):
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("error")  # an overflow on the way must not warn
        with np.errstate(all="raise"):  # nor reach NumPy's error handling
            run = train_network(optimizer, settings, digits)
    assert out.getvalue() == "" and err.getvalue() == ""
    assert run.diverged_at_step is not None and run.diverged_at is not None
    assert run.summary() == f"diverged at step {run.diverged_at_step} (epoch {run.diverged_at:.2f})"
    assert run.train_epochs[-1] == run.diverged_at
    assert run.steps == run.diverged_at_step < 940


def test_scheduler_is_called_once_and_stepped_after_every_step_as_torch_does(digits):
    """Oracle: the same scheduler on torch.optim.SGD, stepped by hand, gives the learning
    rate of every step."""
    made = []

    def schedule(optimizer):
        made.append(optimizer)
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=100, gamma=0.5)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. torch's "scheduler stepped before the optimizer"
        run = train_network(optim_lib.SGD, {"lr": 0.2, "momentum": 0.9}, digits, epochs=5, scheduler=schedule)
    assert len(made) == 1 and isinstance(made[0], optim_lib.SGD)

    reference = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(reference, step_size=100, gamma=0.5)
    expected = []
    for _ in range(run.steps):
        expected.append(reference.param_groups[0]["lr"])
        reference.step()
        scheduler.step()
    np.testing.assert_array_equal(run.learning_rates, expected)
    assert run.learning_rates[0] == 0.2 and run.learning_rates[-1] == 0.2 * 0.5 ** ((run.steps - 1) // 100)


def test_a_learning_rate_scheduled_to_zero_stops_training(digits):
    """The scheduler's rate reaches the optimizer: after 47 steps (one epoch) it is 0, and
    the weights, hence the training loss, no longer change."""
    run = train_network(
        optim_lib.SGD, {"lr": 0.1}, digits, epochs=3,
        scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 if step < 47 else 0.0),
    )
    assert run.train_losses[1] < run.train_losses[0]
    assert run.train_losses[1] == run.train_losses[2] == run.train_losses[3]


def test_training_changes_no_global_random_or_thread_setting(digits):
    before = (torch.initial_seed(), torch.get_num_threads(), torch.random.get_rng_state().clone(),
              np.random.get_state()[1].copy(), np.geterr())
    load_digits(seed=3)
    train_network(optim_lib.Adam, {"lr": 1e-3}, digits, epochs=1, hidden=(16, 16))
    train_network(optim_lib.SGD, {"lr": 100.0}, digits, epochs=1)  # diverges
    after = (torch.initial_seed(), torch.get_num_threads(), torch.random.get_rng_state(),
             np.random.get_state()[1], np.geterr())
    assert before[:2] == after[:2]
    assert torch.equal(before[2], after[2])
    np.testing.assert_array_equal(before[3], after[3])
    assert before[4] == after[4]


def test_hidden_builds_the_layers_asked_for(digits):
    run = train_network(optim_lib.Adam, {"lr": 3e-3}, digits, epochs=2, hidden=(16,) * 6)
    shapes = [tuple(p.shape) for p in run.network.parameters()]
    assert shapes == [(16, 64), (16,)] + [(16, 16), (16,)] * 5 + [(10, 16), (10,)]
    softmax_regression = train_network(optim_lib.Adam, {"lr": 1e-2}, digits, epochs=2, hidden=())
    assert [tuple(p.shape) for p in softmax_regression.network.parameters()] == [(10, 64), (10,)]


def test_summary_reads_the_final_numbers(digits):
    run = train_network(optim_lib.Adam, {"lr": 1e-3}, digits, epochs=2)
    assert run.summary().startswith(
        f"test accuracy {run.test_accuracies[-1]:.1%}, test loss {run.test_losses[-1]:.3f}, "
        f"train loss {run.train_losses[-1]:.3f} after 2 epochs, "
    )
    assert run.summary().endswith(" sec/epoch")


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"batch_size": 0}, ValueError, r"batch_size must be a whole number in \[1, 1500\]; got 0"),
        ({"batch_size": 1501}, ValueError, r"batch_size must be a whole number in \[1, 1500\]; got 1501"),
        ({"epochs": 0}, ValueError, r"epochs must be a whole number in \[1, inf\); got 0"),
        ({"seed": -2}, ValueError, r"seed must be a whole number in \[0, inf\); got -2"),
        ({"record_every": 0}, ValueError, r"record_every must be a whole number in \[1, inf\); got 0"),
        ({"hidden": (64, 0)}, ValueError, r"hidden must be a tuple of whole numbers >= 1.*; got \(64, 0\)"),
        ({"hidden": 64}, ValueError, r"hidden must be a tuple of whole numbers >= 1.*; got 64"),
        ({"hidden": (8.5,)}, ValueError, r"hidden must be a tuple of whole numbers >= 1.*; got \(8.5,\)"),
        ({"scheduler": 0.5}, TypeError, r"scheduler must be a function optimizer -> LRScheduler, or None; got 0.5"),
    ],
)
def test_trainer_refuses_bad_arguments_naming_them(digits, arguments, error, message):
    with pytest.raises(error, match=message):
        train_network(optim_lib.SGD, {"lr": 0.1}, digits, **arguments)


def test_trainer_refuses_what_is_not_an_optimizer_or_the_digits(digits):
    with pytest.raises(TypeError, match="optimizer_class must be a torch.optim.Optimizer subclass; got 'Adam'"):
        train_network("Adam", {}, digits)
    with pytest.raises(TypeError, match="data must be the DigitsData that load_digits returns; got tuple"):
        train_network(optim_lib.Adam, {}, (digits.X_train, digits.y_train))
    with pytest.raises(TypeError, match="scheduler.optimizer. must return a torch.optim.lr_scheduler.LRScheduler"):
        train_network(optim_lib.Adam, {}, digits, scheduler=lambda opt: None)
    with pytest.raises(ValueError, match="lr must be in"):
        train_network(optim_lib.Adam, {"lr": -1.0}, digits)  # the optimizer's own check


def test_weight_norm_is_the_norm_of_all_parameters_as_one_vector(digits):
    run = train_network(optim_lib.SGD, {"lr": 0.1}, digits, epochs=1, seed=0)
    everything = torch.cat([p.detach().reshape(-1) for p in run.network.parameters()])
    assert run.weight_norm == pytest.approx(float(torch.linalg.vector_norm(everything)), rel=1e-6)
    assert 0 < run.weight_norm < math.inf
