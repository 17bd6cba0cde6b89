"""Where the optimizer state lives when several processes train one model: a small run of
``world_size`` processes (gloo, on 127.0.0.1) that reports, for each process, how many
parameters it holds and how many bytes of optimizer state.

Three ways to train the same model, optim_lib's AdamW in each:

- ``"ddp"``: DistributedDataParallel; every process keeps the whole optimizer state.
- ``"zero"``: ZeroRedundancyOptimizer (ZeRO stage 1, Rajbhandari et al., 2020): each process
  keeps the state of its share of the parameters only, steps those, and broadcasts them.
- ``"fsdp"``: FSDP2's ``fully_shard``: each process keeps a shard (a slice along the first
  dimension) of every parameter, so of its gradient and its state too (ZeRO stage 3).

:func:`sharded_state` starts the processes, waits a bounded time, stops them in any case and
returns what each reported. Run as a script (``python -m optim_lib.distributed RANK WORLD
PORT OUT``), this module is one of those processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .rules._checks import check_whole

CASES = ("ddp", "zero", "fsdp")
WIDTH = 128
"""The model: two ``Linear(WIDTH, WIDTH)`` layers with a tanh between them, float32 (33 024
parameters; each weight 16 384, each bias 128), so that two processes can share it evenly."""


@dataclass(frozen=True)
class RankState:
    """What one process holds after a training step of one case: ``parameters`` (numbers
    of the model it keeps, a shard or all), ``state_parameters`` (numbers whose optimizer
    state it keeps) and ``state_bytes`` (bytes of its optimizer state tensors, torch's
    one-element ones included)."""

    case: str
    rank: int
    parameters: int
    state_parameters: int
    state_bytes: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(world_size: int, port: int, out: Path, timeout: float) -> None:
    """Run the processes as fresh Python interpreters (``python -m optim_lib.distributed``)."""
    package_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    processes = [subprocess.Popen(
        [sys.executable, "-m", "optim_lib.distributed", str(rank), str(world_size), str(port), str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for rank in range(world_size)]
    logs = []
    try:
        for process in processes:
            logs.append(process.communicate(timeout=timeout)[0])
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"the {world_size}-process run did not finish in {timeout} s") from error
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    if any(process.returncode != 0 for process in processes):
        raise RuntimeError("a process of the run failed:\n" + "\n".join(logs)[-3000:])


def sharded_state(world_size: int = 2, *, timeout: float = 60.0, start: str = "spawn") -> list[RankState]:
    """Train the model (:data:`WIDTH`) for one step on ``world_size`` processes in each case
    of :data:`CASES` and return every process's :class:`RankState`, case by case, rank by
    rank. The processes run on this machine (gloo on 127.0.0.1, one thread each); they are
    stopped after ``timeout`` seconds at the latest. ``start="spawn"`` starts each as a
    fresh interpreter (``python -m optim_lib.distributed``; importing torch there takes
    seconds); ``start="fork"`` forks this process, whose torch is already imported (POSIX
    only; the children then share this process's imported modules, so fork before this
    process runs threads of its own that the children would need).

    Raises:
        ValueError: ``world_size`` < 1, ``timeout`` not positive, or ``start`` neither
            "spawn" nor "fork".
        RuntimeError: a process failed or did not finish in time (with the end of its log).
    """
    check_whole("world_size", world_size, 1)
    if not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    if start not in ("spawn", "fork"):
        raise ValueError(f"start must be 'spawn' or 'fork'; got {start!r}")
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        if start == "fork":  # the children inherit the imported torch: no second import
            # Imported once, here, for all the children: DistributedDataParallel's constructor
            # imports torch._dynamo (seconds), and each child would import it again.
            import torch._dynamo  # noqa: F401
            import torch.distributed.fsdp  # noqa: F401
            import torch.distributed.optim  # noqa: F401

            context = multiprocessing.get_context("fork")
            processes = [context.Process(target=_worker, args=(rank, world_size, port, out), daemon=True)
                         for rank in range(world_size)]
            for process in processes:
                process.start()
            deadline = time.monotonic() + timeout
            try:
                for process in processes:
                    process.join(max(0.0, deadline - time.monotonic()))
                if any(process.is_alive() for process in processes):
                    raise RuntimeError(f"the {world_size}-process run did not finish in {timeout} s")
            finally:
                for process in processes:
                    if process.is_alive():
                        process.kill()
                        process.join()
            if any(process.exitcode != 0 for process in processes):
                raise RuntimeError(f"a process of the run failed (exit codes {[p.exitcode for p in processes]})")
        else:
            _spawn(world_size, port, out, timeout)
        reports = [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(world_size)]
    return [RankState(**report) for case in CASES for ranks in reports for report in ranks if report["case"] == case]


# --- One process of the run -------------------------------------------------------------------


def _model() -> Any:
    import torch

    generator = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(WIDTH, WIDTH), torch.nn.Tanh(), torch.nn.Linear(WIDTH, WIDTH))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    return net


def _local(tensor: Any) -> Any:
    """A tensor's local part (a DTensor's shard; any other tensor itself)."""
    return tensor.to_local() if hasattr(tensor, "to_local") else tensor


def _report(case: str, rank: int, net: Any, optimizer: Any) -> dict[str, Any]:
    import torch

    parameters = sum(_local(p).numel() for p in net.parameters())
    state_parameters = state_bytes = 0
    for p, entry in optimizer.state.items():
        state_parameters += _local(p).numel()
        for value in entry.values():
            if isinstance(value, torch.Tensor):
                value = _local(value)
                state_bytes += value.numel() * value.element_size()
    return {"case": case, "rank": rank, "parameters": parameters,
            "state_parameters": state_parameters, "state_bytes": state_bytes}


def _one_step(net: Any, optimizer: Any, rank: int) -> None:
    import torch

    generator = torch.Generator().manual_seed(rank)
    x = torch.randn(16, WIDTH, generator=generator)
    optimizer.zero_grad()
    net(x).square().mean().backward()
    optimizer.step()


def _worker(rank: int, world_size: int, port: int, out: Path) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.optim import ZeroRedundancyOptimizer

    from .optimizers import AdamW

    torch.set_num_threads(1)  # this process's own setting: the processes share the cores
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    reports = []
    try:
        net = torch.nn.parallel.DistributedDataParallel(_model())
        optimizer = AdamW(net.parameters(), lr=1e-3)
        _one_step(net, optimizer, rank)
        reports.append(_report("ddp", rank, net, optimizer))

        net = torch.nn.parallel.DistributedDataParallel(_model())
        zero = ZeroRedundancyOptimizer(net.parameters(), optimizer_class=AdamW, lr=1e-3)
        _one_step(net, zero, rank)
        reports.append(_report("zero", rank, net, zero.optim))  # zero.optim: this process's own optimizer

        net = _model()
        for layer in net:
            if isinstance(layer, torch.nn.Linear):
                fully_shard(layer)
        fully_shard(net)
        optimizer = AdamW(net.parameters(), lr=1e-3)
        _one_step(net, optimizer, rank)
        reports.append(_report("fsdp", rank, net, optimizer))
    finally:
        dist.barrier()
        dist.destroy_process_group()
    (out / f"rank{rank}.json").write_text(json.dumps(reports))


if __name__ == "__main__":
    _worker(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
