"""The network probes (optim_lib.network_probes): the Hessian's largest eigenvalue, the loss
along a line between two networks, and each layer's step lengths.

Oracles: the full Hessian from ``torch.autograd.functional.hessian`` and its eigenvalues
(``torch.linalg.eigvalsh``) on networks small enough to build it; the trainer's own record
of the training loss (its NumPy forward pass, another code path); convexity of softmax
regression (a chord lies above a convex function); autograd's first minibatch gradient
(SGD's first step is the learning rate times it); and the hand fact that AdaGrad's first
step moves every coordinate with a non-zero gradient by the learning rate (chapter 4).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import optim_lib
from optim_lib.digits import load_digits
from optim_lib.network import build_network, train_network
from optim_lib.network_probes import largest_curvature, layer_step_rms, loss_along_line


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These tests run hundreds of small autograd passes; on a busy 2-core machine two torch
    threads made them 30 times slower (the notebooks' own choice, restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def exact_hessian_eigenvalues(network, data):
    """All eigenvalues of the training loss's Hessian, from the full matrix."""
    parameters = [p.detach().double() for p in network.parameters()]
    shapes = [p.shape for p in parameters]
    flat = torch.cat([p.reshape(-1) for p in parameters])
    X, y = data.X_train.double(), data.y_train

    def loss(vector):
        tensors, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            tensors.append(vector[start : start + size].reshape(shape))
            start += size
        out = X
        for i in range(0, len(tensors) - 2, 2):
            out = torch.relu(out @ tensors[i].T + tensors[i + 1])
        out = out @ tensors[-2].T + tensors[-1]
        return torch.nn.functional.cross_entropy(out, y)

    return torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, flat))


@pytest.fixture(scope="module")
def few_digits():
    """200 training images: the full Hessian is then quick to build."""
    return load_digits(test_size=1597)


@pytest.mark.parametrize("hidden", [(), (4,), (2, 2)])
def test_largest_curvature_is_the_hessians_top_eigenvalue(few_digits, hidden):
    run = train_network(optim_lib.SGD, {"lr": 0.3}, few_digits, hidden=hidden, epochs=5)
    eigenvalues = exact_hessian_eigenvalues(run.network, few_digits)
    top = float(eigenvalues[eigenvalues.abs().argmax()])
    assert top > 0
    assert largest_curvature(run.network, few_digits) == pytest.approx(top, rel=5e-3)
    assert largest_curvature(run.network, few_digits, iterations=300) == pytest.approx(top, rel=1e-6)


def test_largest_curvature_leaves_the_network_alone(digits):
    network = build_network(seed=3)
    before = [p.detach().clone() for p in network.parameters()]
    largest_curvature(network, digits, iterations=2)
    for p, old in zip(network.parameters(), before):
        assert p.dtype == torch.float32 and torch.equal(p.detach(), old) and p.grad is None


def test_the_line_starts_and_ends_at_the_trainers_recorded_losses(digits):
    a = train_network(optim_lib.SGD, {"lr": 0.3}, digits, epochs=2, seed=0)
    b = train_network(optim_lib.SGD, {"lr": 0.3}, digits, epochs=2, seed=1)
    ends = loss_along_line(a.network, b.network, digits, [0.0, 1.0])
    np.testing.assert_allclose(ends, [a.train_losses[-1], b.train_losses[-1]], rtol=1e-5)


def test_softmax_regressions_loss_lies_below_the_chord(digits):
    # Softmax regression (no hidden layer) has a convex loss: no point of the line is above the chord.
    a = train_network(optim_lib.SGD, {"lr": 0.3}, digits, hidden=(), epochs=2, seed=0)
    b = train_network(optim_lib.SGD, {"lr": 0.03}, digits, hidden=(), epochs=2, seed=1)
    fractions = np.linspace(0, 1, 11)
    losses = loss_along_line(a.network, b.network, digits, fractions)
    chord = (1 - fractions) * losses[0] + fractions * losses[-1]
    assert np.all(losses <= chord + 1e-12)


def test_networks_of_different_shapes_are_refused(digits):
    with pytest.raises(ValueError, match="same shapes"):
        loss_along_line(build_network((64,)), build_network((32,)), digits, [0.5])
    with pytest.raises(ValueError, match="fractions"):
        loss_along_line(build_network(), build_network(seed=1), digits, [float("nan")])
    with pytest.raises(ValueError, match="iterations"):
        largest_curvature(build_network(), digits, iterations=0)
    with pytest.raises(TypeError, match="network"):
        largest_curvature("a network", digits)


def test_sgds_first_step_per_layer_is_the_rms_of_that_layers_gradient(digits):
    generator = torch.Generator().manual_seed(0)
    network = build_network((16, 16), generator=generator)
    first = torch.randperm(digits.n_train, generator=generator)[:32]
    loss = torch.nn.functional.cross_entropy(network(digits.X_train[first]), digits.y_train[first])
    weights = [p for name, p in network.named_parameters() if name.endswith("weight")]
    expected = [float((g.double() ** 2).mean().sqrt()) for g in torch.autograd.grad(loss, weights)]
    _, sizes = layer_step_rms(optim_lib.SGD, {"lr": 0.1}, digits, epochs=1, hidden=(16, 16))
    assert sizes.shape == (47, 3)
    np.testing.assert_allclose(sizes[0], expected, rtol=1e-5)


def test_adagrads_first_step_moves_every_coordinate_with_a_gradient_by_lr(digits):
    generator = torch.Generator().manual_seed(0)
    network = build_network((64,), generator=generator)
    first = torch.randperm(digits.n_train, generator=generator)[:32]
    loss = torch.nn.functional.cross_entropy(network(digits.X_train[first]), digits.y_train[first])
    weights = [p for name, p in network.named_parameters() if name.endswith("weight")]
    moving = [float((g != 0).double().mean()) for g in torch.autograd.grad(loss, weights)]
    _, sizes = layer_step_rms(optim_lib.Adagrad, {"lr": 0.01}, digits, epochs=1)
    # |step| = lr * |g| / (|g| + eps) = lr (to 1e-10 / |g|) where g != 0, else 0.
    np.testing.assert_allclose(sizes[0], np.sqrt(moving), rtol=1e-4)


def test_the_watched_run_is_the_trainers_run(digits):
    run, _ = layer_step_rms(optim_lib.Adagrad, {"lr": 0.03}, digits, epochs=2, seed=1)
    plain = train_network(optim_lib.Adagrad, {"lr": 0.03}, digits, epochs=2, seed=1)
    np.testing.assert_array_equal(run.train_losses, plain.train_losses)
    np.testing.assert_array_equal(run.test_accuracies, plain.test_accuracies)
