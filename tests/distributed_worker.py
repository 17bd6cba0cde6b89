"""One process of a 2-process run of optim_lib's optimizers under torch.distributed (gloo, on
127.0.0.1), used by tests/test_distributed.py:

    python tests/distributed_worker.py RANK PORT OUT

Three cases, in one process group (starting processes is the slow part): ``ddp``
(DistributedDataParallel), ``zero`` (ZeroRedundancyOptimizer: 10 steps, its state
consolidated on rank 0 and saved, a fresh optimizer loading it on both ranks, 10 more steps;
and an uninterrupted 20-step run) and ``fsdp`` (FSDP2's fully_shard). Each case runs
optim_lib's AdamW and SGD with momentum and torch.optim's on the same model, data and seed,
and rank 0 saves the parameters of every run to OUT (a torch.save file), keyed by
(case, library, optimizer).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import optim_lib  # noqa: E402

STEPS = 20
SETTINGS = {"AdamW": {"lr": 0.01, "weight_decay": 0.1}, "SGD": {"lr": 0.05, "momentum": 0.9}}


def model() -> torch.nn.Module:
    generator = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4)).double()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64) * 0.3)
    return net


def batch(rank: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1000 * step + rank)
    x = torch.randn(32, 8, generator=generator, dtype=torch.float64)
    return x, torch.sin(x[:, :4]) + 0.1 * torch.randn(32, 4, generator=generator, dtype=torch.float64)


def train(net: torch.nn.Module, optimizer: torch.optim.Optimizer, rank: int, steps: range) -> None:
    for step in steps:
        x, y = batch(rank, step)
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        optimizer.step()


def parameters(net: torch.nn.Module) -> list[torch.Tensor]:
    values = []
    for parameter in net.parameters():
        full = parameter.full_tensor() if hasattr(parameter, "full_tensor") else parameter
        values.append(full.detach().clone())
    return values


def ddp(cls: type, name: str, rank: int, out: Path) -> list[torch.Tensor]:
    net = torch.nn.parallel.DistributedDataParallel(model())
    train(net, cls(net.parameters(), **SETTINGS[name]), rank, range(STEPS))
    return parameters(net.module)


def zero(cls: type, name: str, rank: int, out: Path) -> dict[str, list[torch.Tensor]]:
    from torch.distributed.optim import ZeroRedundancyOptimizer

    def new(net: torch.nn.Module) -> ZeroRedundancyOptimizer:
        return ZeroRedundancyOptimizer(net.parameters(), optimizer_class=cls, **SETTINGS[name])

    net = torch.nn.parallel.DistributedDataParallel(model())
    optimizer = new(net)
    train(net, optimizer, rank, range(STEPS))
    uninterrupted = parameters(net.module)

    net = torch.nn.parallel.DistributedDataParallel(model())
    optimizer = new(net)
    train(net, optimizer, rank, range(STEPS // 2))
    optimizer.consolidate_state_dict(to=0)
    saved = out.with_suffix(f".{cls.__module__.split('.')[0]}.{name}.state")
    if rank == 0:
        torch.save({"model": net.module.state_dict(), "optimizer": optimizer.state_dict()}, saved)
    dist.barrier()
    checkpoint = torch.load(saved, weights_only=False)
    net = torch.nn.parallel.DistributedDataParallel(model())
    net.module.load_state_dict(checkpoint["model"])
    optimizer = new(net)
    optimizer.load_state_dict(checkpoint["optimizer"])
    train(net, optimizer, rank, range(STEPS // 2, STEPS))
    return {"uninterrupted": uninterrupted, "resumed": parameters(net.module)}


def fsdp(cls: type, name: str, rank: int, out: Path) -> list[torch.Tensor]:
    from torch.distributed.fsdp import fully_shard

    net = model()
    for layer in net:
        if isinstance(layer, torch.nn.Linear):
            fully_shard(layer)
    fully_shard(net)
    train(net, cls(net.parameters(), **SETTINGS[name]), rank, range(STEPS))
    return parameters(net)


def main() -> None:
    rank, port, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    torch.set_num_threads(1)  # this throwaway process's own setting: two ranks share two cores
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    results = {}
    try:
        for case, run in (("ddp", ddp), ("zero", zero), ("fsdp", fsdp)):
            for name in SETTINGS:
                for library, cls in (("optim_lib", getattr(optim_lib, name)), ("torch", getattr(torch.optim, name))):
                    results[(case, library, name)] = run(cls, name, rank, out)
    finally:
        dist.barrier()
        dist.destroy_process_group()
    if rank == 0:
        torch.save(results, out)


if __name__ == "__main__":
    main()
