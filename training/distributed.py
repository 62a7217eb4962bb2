"""Training on several processes with torch DistributedDataParallel: one process per GPU (NCCL),
or several on a CPU (gloo). Started by `spawn` here (what the loop does when
`training.processes` > 1) or by `torchrun`, which sets the same environment variables (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) that `init_from_env` reads.

Every rank draws the same global batch (same replay window, same seed) and trains on its
1/R share; DDP averages the gradients. Two things make that the gradient of the global batch
itself, to float tolerance, rather than an approximation of it:
- masked means (policy, ownership, score) divide by the mask's sum over all ranks
  (`DistributedTrainer.masked_mean`), not by the rank's own;
- batch norm normalises with the statistics of the global batch (`SyncedBatchNorm2d`, which
  sums over ranks with autograd-aware all_reduce, so the backward pass is global too). torch's
  own SyncBatchNorm runs only on GPUs; this one runs on the CPU as well, with the same state
  dict keys as nn.BatchNorm2d, so checkpoints do not change.
Only rank 0 writes checkpoints, optimizer state and TensorBoard scalars.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any, Callable, Optional

# goengine.nn before torch: it chooses OpenMP's wait policy, which torch's import fixes
from goengine.nn import NetConfig  # isort: skip
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .trainer import Trainer, TrainConfig


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: str
    bn_group: Any = None  # the process group batch norm statistics travel in


def init_from_env(device_type: str = "cpu") -> DistContext:
    """Join the process group described by the environment (torchrun's variables)."""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    cuda = device_type == "cuda"
    if cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world)
    # Statistics in their own group, so their all_reduces never queue among DDP's gradient ones.
    bn_group = dist.new_group(backend="nccl" if cuda else "gloo")
    return DistContext(rank, world, local_rank, f"cuda:{local_rank}" if cuda else "cpu", bn_group)


class _SumOverRanks(torch.autograd.Function):
    """all_reduce(SUM) with its gradient: each rank's input feeds every rank's output, so the
    gradient that comes back to it is the sum of every rank's output gradient."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, group: Any) -> torch.Tensor:
        ctx.group = group
        out = x.clone()
        dist.all_reduce(out, group=group)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        grad = grad.clone()
        dist.all_reduce(grad, group=ctx.group)
        return grad, None


def sum_over_ranks(x: torch.Tensor, group: Any = None) -> torch.Tensor:
    return _SumOverRanks.apply(x, group)


class SyncedBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training-mode statistics are those of the batch over all ranks."""

    group: Any = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not dist.is_initialized():
            return super().forward(x)
        dims = (0, 2, 3)
        count = sum_over_ranks(x.new_tensor([x.numel() / x.shape[1]]), self.group)
        mean = sum_over_ranks(x.sum(dim=dims), self.group) / count
        centered = x - mean[None, :, None, None]
        var = sum_over_ranks(centered.pow(2).sum(dim=dims), self.group) / count
        with torch.no_grad():
            self.num_batches_tracked += 1
            factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
            n = float(count)
            self.running_mean.mul_(1 - factor).add_(factor * mean.detach())
            self.running_var.mul_(1 - factor).add_(factor * var.detach() * n / max(n - 1.0, 1.0))
        y = centered * torch.rsqrt(var + self.eps)[None, :, None, None]
        return y * self.weight[None, :, None, None] + self.bias[None, :, None, None]


def use_synced_batchnorm(model: nn.Module, group: Any = None) -> nn.Module:
    """Turn every BatchNorm2d of `model` into a SyncedBatchNorm2d in place (same parameters,
    buffers and state dict keys)."""
    for module in model.modules():
        if type(module) is nn.BatchNorm2d:
            module.__class__ = SyncedBatchNorm2d
            module.group = group
    return model


class DistributedTrainer(Trainer):
    """A Trainer on one rank of a DDP group: `to_device` takes this rank's share of the
    global batch; metrics returned by `train_steps` are averaged over the ranks."""

    def __init__(self, model: nn.Module, net_config: NetConfig, train_config: TrainConfig, ctx: DistContext,
                 tb_writer: Optional[Any] = None):
        if train_config.batch_size % ctx.world_size:
            raise ValueError(f"batch_size {train_config.batch_size} does not split over {ctx.world_size} processes")
        self.ctx = ctx
        use_synced_batchnorm(model, ctx.bn_group)
        super().__init__(model, net_config, train_config.with_(device=ctx.device),
                         tb_writer=tb_writer if ctx.rank == 0 else None)
        cuda = self.device.type == "cuda"
        # Buffers need no broadcast at each step: synced statistics keep them equal on every rank.
        self.ddp = DistributedDataParallel(self.model, device_ids=[self.device.index] if cuda else None,
                                           forward_sync_buffers=False)

    def forward(self, x: torch.Tensor):
        return self.ddp(x)

    def masked_mean(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # Scaled by R over the global count: DDP's average over ranks then gives the global mean.
        total = mask.sum().detach().clone()
        dist.all_reduce(total)
        return (values * mask).sum() * self.ctx.world_size / total.clamp(min=1.0)

    def to_device(self, batch) -> dict[str, torch.Tensor]:
        share = len(batch) // self.ctx.world_size
        if share * self.ctx.world_size != len(batch):
            raise ValueError(f"a batch of {len(batch)} does not split over {self.ctx.world_size} processes")
        lo = self.ctx.rank * share
        return super().to_device(type(batch)(*(field[lo:lo + share] for field in batch)))

    def global_terms(self, terms: dict[str, torch.Tensor]) -> dict[str, float]:
        """The terms of one step over the whole batch (each rank's term is one R-th of it)."""
        names = sorted(terms)
        values = torch.stack([terms[k].detach().float().reshape(()) for k in names])
        dist.all_reduce(values)
        return {k: float(v) / self.ctx.world_size for k, v in zip(names, values)}

    def train_steps(self, batches, num_steps: int, progress=None) -> dict[str, float]:
        was = self.ddp.training
        self.ddp.train()
        try:
            metrics = super().train_steps(batches, num_steps, progress=progress if self.ctx.rank == 0 else None)
        finally:
            self.ddp.train(was)
        averaged = [k for k in metrics if k not in ("steps", "step", "learning_rate", "samples_per_s", "l2")]
        values = torch.tensor([metrics[k] for k in averaged], dtype=torch.float64)
        dist.all_reduce(values)
        metrics.update({k: float(v) / self.ctx.world_size for k, v in zip(averaged, values)})
        return metrics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_entry(rank: int, fn: Callable, world_size: int, port: int, device_type: str, args: tuple) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    if device_type == "cpu":
        cores = os.cpu_count() or 1
        torch.set_num_threads(max(1, cores // world_size))
    ctx = init_from_env(device_type)
    try:
        fn(ctx, *args)
    finally:
        dist.destroy_process_group()


def spawn(fn: Callable, world_size: int, args: tuple = (), device_type: str = "cpu") -> None:
    """Run `fn(ctx, *args)` on `world_size` local processes joined in one process group
    (`fn` must be importable by name: a module-level function)."""
    import torch.multiprocessing as tmp

    tmp.spawn(_rank_entry, args=(fn, world_size, free_port(), device_type, args), nprocs=world_size, join=True)
