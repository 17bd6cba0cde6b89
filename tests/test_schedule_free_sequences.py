"""Schedule-free AdamW's three sequences on the 2-D landscapes: x is run_trajectory's path (and
the schedulefree package's in eval mode), y is the package's parameter in train mode, z its
state, and y lies between z and x as the interpolation says."""

from __future__ import annotations

import numpy as np
import pytest
import schedulefree
import torch

from optim_lib import AdamWScheduleFree, QUADRATIC, run_trajectory
from optim_lib.landscapes import LANDSCAPES
from optim_lib.trajectories import schedule_free_sequences

SETTINGS = {"lr": 0.5, "betas": (0.8, 0.99), "warmup_steps": 5, "r": 1.0, "weight_decay": 0.01}


def _package(settings, landscape, steps):
    """The package stepped by hand in train mode: y (the parameter) and z (its state) after each step."""
    p = torch.tensor(landscape.start, dtype=torch.float64, requires_grad=True)
    opt = schedulefree.AdamWScheduleFree([p], **settings)
    opt.train()
    ys, zs = [p.detach().clone()], [p.detach().clone()]
    for _ in range(steps):
        p.grad = torch.tensor(landscape.grad(*p.tolist()), dtype=torch.float64)
        opt.step()
        ys.append(p.detach().clone())
        zs.append(opt.state[p]["z"].clone())
    return torch.stack(ys).numpy(), torch.stack(zs).numpy()


@pytest.mark.parametrize("landscape", [QUADRATIC, LANDSCAPES["rotated"]], ids=lambda landscape: landscape.name)
def test_the_three_sequences_are_the_packages(landscape):
    sequences = schedule_free_sequences(SETTINGS, landscape, steps=40)
    ys, zs = _package(SETTINGS, landscape, 40)
    np.testing.assert_allclose(sequences["y"].path, ys, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sequences["z"].path, zs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sequences["x"].path, run_trajectory(schedulefree.AdamWScheduleFree, SETTINGS,
                                                                   landscape, steps=40).path, rtol=0, atol=1e-12)


def test_y_is_the_interpolation_of_z_and_x():
    sequences = schedule_free_sequences(SETTINGS, steps=30)
    z, y, x = (sequences[name].path for name in ("z", "y", "x"))
    np.testing.assert_allclose(y, 0.2 * z + 0.8 * x, rtol=0, atol=1e-12)
    assert np.abs(z - x).max() > 0.1  # three different paths


def test_a_diverging_run_stops_all_three_paths_and_says_when():
    sequences = schedule_free_sequences({"lr": 1e12}, steps=10)  # Adam-scaled steps are about lr long
    steps = {sequence.diverged_at for sequence in sequences.values()}
    assert len(steps) == 1 and steps.pop() is not None
    assert len({len(sequence.path) for sequence in sequences.values()}) == 1


def test_bad_hyperparameters_are_refused_by_the_optimizers_checks():
    with pytest.raises(ValueError, match="lr"):
        schedule_free_sequences({"lr": -1.0})
    with pytest.raises(ValueError, match="steps"):
        schedule_free_sequences({"lr": 0.1}, steps=-1)


def test_the_optimizer_class_checks_what_it_always_checks():
    with pytest.raises(ValueError):
        AdamWScheduleFree([torch.zeros(2)], betas=(0.0, 0.9))  # x could not be recovered
    with pytest.raises(ValueError, match="beta"):
        schedule_free_sequences({"betas": (0.0, 0.9)})
