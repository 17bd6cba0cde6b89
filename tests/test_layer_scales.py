"""The layer-by-layer measurement of the network experiment (optim_lib.layer_scales).

Oracles: autograd's gradient of the first minibatch on the same torch.nn network (its RMS
per weight matrix), the SGD update by hand (a step of lr * g, so the step in units of lr is
the gradient), the hand fact that Adam's first step is lr * sign(g_1) (chapter 7), and
train_network itself (the watched run is the same run).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib.digits import load_digits
from optim_lib.layer_scales import measure_layers
from optim_lib.network import build_network, train_network


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _first_minibatch_gradients(digits, hidden):
    # train_network draws the weights, then the first epoch's order, from one generator.
    generator = torch.Generator().manual_seed(0)
    network = build_network(hidden, generator=generator)
    first = torch.randperm(digits.n_train, generator=generator)[:32]
    loss = torch.nn.functional.cross_entropy(network(digits.X_train[first]), digits.y_train[first])
    return torch.autograd.grad(loss, list(network.parameters()))[0::2]  # the weight matrices


def test_the_first_gradients_are_autograds_layer_by_layer(digits):
    hidden = (16, 16, 16)
    expected = [float(torch.sqrt((g.double() ** 2).mean())) for g in _first_minibatch_gradients(digits, hidden)]
    scales = measure_layers(optim_lib.SGD, {"lr": 0.1}, digits, epochs=1, hidden=hidden)
    assert scales.gradient_rms.shape == (47, 4) and scales.layers == 4  # 1500 images in minibatches of 32
    np.testing.assert_allclose(scales.gradient_rms[0], expected, rtol=1e-5)  # float32 weights


def test_sgds_step_in_units_of_the_learning_rate_is_its_gradient(digits):
    scales = measure_layers(optim_lib.SGD, {"lr": 0.05}, digits, epochs=1, hidden=(32, 32))
    np.testing.assert_allclose(scales.step_rms, scales.gradient_rms, rtol=1e-3)  # float32 rounding of x - lr g


def test_adams_first_step_is_the_same_length_in_every_layer(digits):
    gradients = _first_minibatch_gradients(digits, (16, 16, 16))
    nonzero = [float((g != 0).double().mean()) for g in gradients]  # a zero gradient gives a zero step
    scales = measure_layers(optim_lib.Adam, {"lr": 1e-3, "eps": 1e-30}, digits, epochs=1, hidden=(16, 16, 16))
    np.testing.assert_allclose(scales.step_rms[0], np.sqrt(nonzero), rtol=1e-3)
    assert scales.gradient_rms[0, -1] > 3 * scales.gradient_rms[0, 0]  # while the gradients differ fourfold


def test_the_watched_run_is_the_trainers_run(digits):
    scales = measure_layers(optim_lib.RMSprop, {"lr": 1e-3}, digits, epochs=2, seed=1, hidden=(32,))
    plain = train_network(optim_lib.RMSprop, {"lr": 1e-3}, digits, epochs=2, seed=1, hidden=(32,))
    np.testing.assert_array_equal(scales.run.train_losses, plain.train_losses)
    np.testing.assert_array_equal(scales.run.test_accuracies, plain.test_accuracies)


def test_median_checks_its_arguments(digits):
    scales = measure_layers(optim_lib.SGD, {"lr": 0.1}, digits, epochs=1)
    np.testing.assert_array_equal(scales.median("step", start=10), np.median(scales.step_rms[10:], axis=0))
    with pytest.raises(ValueError, match="which must be 'gradient' or 'step'; got 'steps'"):
        scales.median("steps")
    with pytest.raises(ValueError, match=r"start must be in \[0, 47\); got 47"):
        scales.median("step", start=47)
