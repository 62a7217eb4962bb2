"""What every trainer here shares, written once: when to train in bf16, how an optimizer is built
(which weights decay, and what `weight_decay` means for each optimizer), the learning rate
applied each step, TensorBoard scalars that are optional, CPU threads, and resume state saved
atomically and read without pickle.

The trainers that use it: the AlphaGo Zero trainer (`training/trainer.py`, also under
DistributedDataParallel in `distributed.py`), the supervised policy (`sl/trainer.py`), the
rollout policy (`rollout/train.py`), policy-gradient RL (`rl/loop.py`) and the value network
(`value/train.py`). What stays theirs is what differs: their losses and batches.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

# goengine.nn before torch: it chooses OpenMP's wait policy, which torch's import fixes
from goengine.nn import physical_cores  # isort: skip
from goengine.nn.runtime import native_bf16  # isort: skip
import torch

from goengine.atomic import atomic_write

OPTIMIZERS = ("sgd", "adamw", "adam")
PRECISIONS = ("auto", "fp32", "bf16")


def bf16_autocast(precision: str, device: torch.device | str) -> bool:
    """Whether to train in bf16 autocast: "auto" on CUDA and on CPUs that compute bf16 natively
    (AMX, AVX-512 BF16; elsewhere it would be emulated and slower), "bf16" always, "fp32" never."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision == "bf16"
    kind = torch.device(device).type
    return kind == "cuda" or (kind == "cpu" and native_bf16())


def decays(name: str, parameter: torch.Tensor) -> bool:
    """Weight decay (L2) applies to conv and linear weights, not to biases or norm scales."""
    return parameter.ndim > 1 and not name.endswith(".bias")


def make_optimizer(model: torch.nn.Module, name: str, learning_rate: float, *, weight_decay: float = 0.0,
                   momentum: float = 0.9, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    """The optimizer `name` over the model's trainable parameters.

    - "sgd": momentum (Nesterov when momentum > 0); `weight_decay` is the L2 coefficient c of
      the loss c * sum w^2 (AlphaGo Zero's 1e-4), which is torch's weight_decay 2c, on the
      decaying weights only.
    - "adamw": decoupled decay `weight_decay` on the decaying weights only.
    - "adam": Adam with `weight_decay` as torch's coupled L2 on every parameter (the small
      rollout and value networks)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if name == "adam":
        return torch.optim.Adam([p for _, p in named], lr=learning_rate, betas=betas, weight_decay=weight_decay)
    decay = [p for n, p in named if decays(n, p)]
    other = [p for n, p in named if not decays(n, p)]
    rate = 2.0 * weight_decay if name == "sgd" else weight_decay
    groups = [{"params": decay, "weight_decay": rate}, {"params": other, "weight_decay": 0.0}]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=learning_rate, momentum=momentum, nesterov=momentum > 0)
    return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)


def decayed_parameters(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p for n, p in model.named_parameters() if p.requires_grad and decays(n, p)]


def set_learning_rate(optimizer: torch.optim.Optimizer, learning_rate: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = learning_rate


def use_cpu_threads(device: torch.device | str, threads: int = 0) -> None:
    """On the CPU, train with `threads` torch threads (0: one per physical core)."""
    if torch.device(device).type == "cpu":
        torch.set_num_threads(threads or physical_cores())


class Scalars:
    """TensorBoard scalars under `folder`, opened at the first write; nothing at all when
    tensorboard is not installed (it is an extra)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._writer: Any = None

    @property
    def writer(self) -> Optional[Any]:
        """The SummaryWriter (None without tensorboard)."""
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self._writer = False
            else:
                self._writer = SummaryWriter(str(self.folder))
        return self._writer or None

    def add(self, prefix: str, values: dict[str, Optional[float]], step: int) -> None:
        writer = self.writer
        if writer is None:
            return
        for key, value in values.items():
            if value is not None and value == value and abs(value) != float("inf"):
                writer.add_scalar(f"{prefix}/{key}", float(value), step)

    def flush(self) -> None:
        if self._writer:
            self._writer.flush()

    def close(self) -> None:
        if self._writer:
            self._writer.close()
        self._writer = None


def save_state(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write a resume state (tensors, numbers, strings, lists and dicts of them) atomically."""
    return atomic_write(path, lambda f: torch.save(state, f))


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a state written by save_state, without pickle (weights_only)."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)
