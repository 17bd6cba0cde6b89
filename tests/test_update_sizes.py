"""The step-length measurement of the network experiment (optim_lib.update_sizes).

Oracles: autograd's gradient of the first minibatch (SGD's first step is the learning rate
times it), the hand fact that Adam's and Lion's first steps are both the learning rate times
the sign of the first gradient (chapter 7; Chen et al. 2023, Algorithm 2 with m_0 = 0), and
train_network itself (the watched run is the same run).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib.digits import load_digits
from optim_lib.network import build_network, train_network
from optim_lib.update_sizes import network_update_rms


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_sgds_first_step_is_the_rms_of_the_first_minibatch_gradient(digits):
    # train_network draws the weights, then the first epoch's order, from one generator.
    generator = torch.Generator().manual_seed(0)
    network = build_network((64,), generator=generator)
    first = torch.randperm(digits.n_train, generator=generator)[:32]
    loss = torch.nn.functional.cross_entropy(network(digits.X_train[first]), digits.y_train[first])
    gradients = torch.autograd.grad(loss, list(network.parameters()))
    count = sum(g.numel() for g in gradients)
    expected = float(torch.sqrt(sum((g.double() ** 2).sum() for g in gradients) / count))
    _, sizes = network_update_rms(optim_lib.SGD, {"lr": 0.1}, digits, epochs=1)
    assert len(sizes) == 47  # 1500 images in minibatches of 32
    assert sizes[0] == pytest.approx(expected, rel=1e-5)  # float32 weights


def test_lions_and_adams_first_steps_are_both_the_sign_of_the_gradient(digits):
    _, lion = network_update_rms(optim_lib.Lion, {"lr": 1e-3}, digits, epochs=1)
    _, adam = network_update_rms(optim_lib.Adam, {"lr": 1e-3, "eps": 1e-30}, digits, epochs=1)
    assert lion[0] == pytest.approx(adam[0], rel=1e-5)
    assert 0.5 < lion[0] < 1  # some pixels are 0 in every image: their weights get no gradient


def test_lions_steps_are_never_longer_than_its_learning_rate(digits):
    _, sizes = network_update_rms(optim_lib.Lion, {"lr": 1e-3}, digits, epochs=2)
    assert np.all(sizes <= 1 + 1e-4)  # float32 rounding of x +- lr
    _, with_decay = network_update_rms(optim_lib.Lion, {"lr": 1e-3, "weight_decay": 1.0}, digits, epochs=2)
    assert not np.array_equal(sizes, with_decay)  # the decay's shrink is part of the change


def test_the_watched_run_is_the_trainers_run(digits):
    run, _ = network_update_rms(optim_lib.AdamW, {"lr": 3e-3}, digits, epochs=2, seed=1)
    plain = train_network(optim_lib.AdamW, {"lr": 3e-3}, digits, epochs=2, seed=1)
    np.testing.assert_array_equal(run.train_losses, plain.train_losses)
    np.testing.assert_array_equal(run.test_accuracies, plain.test_accuracies)
