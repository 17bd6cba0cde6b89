"""The network trainer with an optimizer that has a train()/eval() pair (schedule-free AdamW):
gradients in train mode, at y; every record in eval mode, at the average x; the run ends in
eval mode. The oracle is the schedulefree package (1.4.1) stepped by hand on the same network
with autograd's gradients, switched as its documentation asks."""

from __future__ import annotations

import numpy as np
import pytest
import schedulefree
import torch
import torch.nn.functional as F

import optim_lib
from optim_lib.digits import load_digits
from optim_lib.network import build_network, train_network

SETTINGS = {"lr": 0.01, "betas": (0.8, 0.999), "warmup_steps": 3, "weight_decay": 0.01}


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _by_hand(data, epochs: int, seed: int = 0):
    """Full-batch steps (one per epoch, so the order of the examples does not matter) of the
    package's optimizer, gradients by autograd at the train-mode point y; after each epoch the
    test loss at x (eval mode) and at y (train mode)."""
    network = build_network((64,), generator=torch.Generator().manual_seed(seed))
    optimizer = schedulefree.AdamWScheduleFree(network.parameters(), **SETTINGS)
    at_x, at_y = [], []
    for _ in range(epochs):
        optimizer.train()
        optimizer.zero_grad()
        F.cross_entropy(network(data.X_train), data.y_train).backward()
        optimizer.step()
        with torch.no_grad():
            at_y.append(float(F.cross_entropy(network(data.X_test), data.y_test)))
            optimizer.eval()
            at_x.append(float(F.cross_entropy(network(data.X_test), data.y_test)))
    return at_x, at_y, network


@pytest.mark.parametrize("cls", [optim_lib.AdamWScheduleFree, schedulefree.AdamWScheduleFree],
                         ids=["optim_lib", "schedulefree"])
def test_gradients_at_y_and_records_at_x_as_the_package_asks(digits, cls):
    run = train_network(cls, SETTINGS, digits, batch_size=1500, epochs=6)
    at_x, at_y, _ = _by_hand(digits, epochs=6)
    np.testing.assert_allclose(run.test_losses[1:], at_x, rtol=1e-5)
    # Not a test that cannot fail: the loss at y is a different number.
    assert np.abs(np.array(at_x) - np.array(at_y)).max() > 1e-3


def test_the_returned_network_holds_x(digits):
    run = train_network(schedulefree.AdamWScheduleFree, SETTINGS, digits, batch_size=1500, epochs=4)
    _, _, network = _by_hand(digits, epochs=4)  # in eval mode at the end: x
    for ours, theirs in zip(run.network.parameters(), network.parameters()):
        torch.testing.assert_close(ours.detach(), theirs.detach(), rtol=0, atol=1e-5)


def test_minibatch_runs_of_optim_lib_and_the_package_agree(digits):
    """With minibatches the training and test curves of the two classes are the same."""
    ours = train_network(optim_lib.AdamWScheduleFree, SETTINGS, digits, epochs=3, record_every=500)
    theirs = train_network(schedulefree.AdamWScheduleFree, SETTINGS, digits, epochs=3, record_every=500)
    np.testing.assert_allclose(ours.train_losses, theirs.train_losses, rtol=1e-5)
    np.testing.assert_allclose(ours.test_losses, theirs.test_losses, rtol=1e-5)


def test_an_optimizer_without_modes_is_trained_as_before(digits):
    """torch.optim.AdamW has no train()/eval(): nothing is called on it (it would fail)."""
    run = train_network(torch.optim.AdamW, {"lr": 1e-3}, digits, epochs=2)
    assert run.diverged_at is None and run.test_losses[-1] < run.test_losses[0]
