"""optim_lib's optimizers under torch.distributed, against torch.optim's (the oracle): the same
model, data and seed on 2 gloo processes started here on 127.0.0.1, with
DistributedDataParallel, with ZeroRedundancyOptimizer (its state consolidated, saved and
loaded into a fresh run that resumes), and with FSDP2's fully_shard. Each run is bounded in
time; the processes are stopped at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from browser_support import free_port

REPO = Path(__file__).resolve().parents[1]
WORKER = REPO / "tests" / "distributed_worker.py"
TIMEOUT_S = 180


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    """Every case's parameters, from one 2-process run (about 30 s)."""
    out = tmp_path_factory.mktemp("distributed") / "results.pt"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    processes = [subprocess.Popen([sys.executable, str(WORKER), str(rank), str(port), str(out)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for rank in (0, 1)]
    try:
        logs = [process.communicate(timeout=TIMEOUT_S)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert all(process.returncode == 0 for process in processes), "\n".join(logs)[-4000:]
    return torch.load(out, weights_only=False)


def _largest_difference(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(a, b, strict=True))


def _initial() -> list[torch.Tensor]:
    from distributed_worker import model

    return [p.detach() for p in model().parameters()]


@pytest.mark.parametrize("name", ["AdamW", "SGD"])
@pytest.mark.parametrize("case", ["ddp", "zero", "fsdp"])
def test_optim_lib_equals_torch_optim_across_processes(results, case, name):
    ours, theirs = results[(case, "optim_lib", name)], results[(case, "torch", name)]
    if case == "zero":
        ours, theirs = ours["uninterrupted"], theirs["uninterrupted"]
    assert _largest_difference(ours, theirs) <= 1e-15
    assert _largest_difference(ours, _initial()) > 1e-2  # the runs trained


@pytest.mark.parametrize("library", ["optim_lib", "torch"])
@pytest.mark.parametrize("name", ["AdamW", "SGD"])
def test_a_zero_run_resumed_from_its_consolidated_state_continues_exactly(results, library, name):
    run = results[("zero", library, name)]
    assert _largest_difference(run["resumed"], run["uninterrupted"]) == 0.0
