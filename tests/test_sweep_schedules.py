"""Network sweeps with a learning-rate schedule (warm-up then cosine, made with
torch.optim.lr_scheduler): every run is train_network's with that schedule, and the cache tells
schedules apart by what they do."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optim_lib.digits import load_digits
from optim_lib.network import train_network
from optim_lib.sweeps import CACHE_VARIABLE, schedule_fingerprint, sweep_network


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def warmup_cosine(warmup: int, total: int):
    def make(optimizer):
        return torch.optim.lr_scheduler.SequentialLR(
            optimizer,
            [torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup),
             torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup)],
            milestones=[warmup])
    return make


def test_each_run_is_the_trainer_with_the_schedule(digits):
    schedule = warmup_cosine(10, 2 * 47)
    sweep = sweep_network(torch.optim.AdamW, None, [1e-3, 1e-2], digits, seeds=(0,), epochs=2, scheduler=schedule)
    expected = [train_network(torch.optim.AdamW, {"lr": lr}, digits, epochs=2, scheduler=schedule).final_test_accuracy
                for lr in (1e-3, 1e-2)]
    np.testing.assert_array_equal(sweep.values[:, 0], expected)


def test_the_schedule_changes_the_runs(digits):
    """A schedule that is 0 after the first step leaves the network almost untrained."""
    def stop(optimizer):
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 if step == 0 else 0.0)

    plain = sweep_network(torch.optim.AdamW, None, [1e-2], digits, seeds=(0,), epochs=2)
    stopped = sweep_network(torch.optim.AdamW, None, [1e-2], digits, seeds=(0,), epochs=2, scheduler=stop)
    assert plain.values[0, 0] > 0.8 and stopped.values[0, 0] < 0.5


def test_the_fingerprint_is_what_the_schedule_does():
    steps = 40
    same = schedule_fingerprint(warmup_cosine(5, steps), torch.optim.AdamW, {}, [1e-3], steps)
    assert same == schedule_fingerprint(warmup_cosine(5, steps), torch.optim.AdamW, {}, [1e-3], steps)
    assert same != schedule_fingerprint(warmup_cosine(6, steps), torch.optim.AdamW, {}, [1e-3], steps)
    assert same != schedule_fingerprint(warmup_cosine(5, steps), torch.optim.AdamW, {}, [2e-3], steps)


def test_the_cache_keeps_two_schedules_apart(digits, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path))
    short, long = warmup_cosine(5, 47), warmup_cosine(5, 10 * 47)
    a = sweep_network(torch.optim.AdamW, None, [1e-2], digits, seeds=(0,), epochs=1, scheduler=short)
    b = sweep_network(torch.optim.AdamW, None, [1e-2], digits, seeds=(0,), epochs=1, scheduler=long)
    assert len(list(tmp_path.glob("*.json"))) == 2
    assert a.values[0, 0] != b.values[0, 0] or not math.isfinite(a.values[0, 0])
    again = sweep_network(torch.optim.AdamW, None, [1e-2], digits, seeds=(0,), epochs=1, scheduler=warmup_cosine(5, 47))
    assert len(list(tmp_path.glob("*.json"))) == 2  # answered from the cache
    np.testing.assert_array_equal(again.values, a.values)


def test_a_scheduler_that_is_not_callable_is_refused(digits):
    with pytest.raises(TypeError, match="scheduler must be a function"):
        sweep_network(torch.optim.AdamW, None, [1e-2], digits, seeds=(0,), epochs=1, scheduler="cosine")
