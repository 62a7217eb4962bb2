"""The trainer: AlphaGo Zero's loss on replay batches, an optimizer with a learning-rate
schedule, TensorBoard scalars, and optimizer state that survives a restart.

Loss per batch (B samples; targets from `training.dataset.TrainingBatch`):

| term       | formula                                                          | weight                 |
|------------|------------------------------------------------------------------|------------------------|
| policy     | -sum_a pi(a) log p(a), averaged over samples with policy_mask 1  | 1                      |
| value      | (z - v)^2, averaged over the batch                               | value_loss_weight      |
| ownership  | mean over points of (o - t)^2, averaged over ownership_mask 1    | ownership_loss_weight  |
| score      | Huber(s - target, delta=score_huber_delta), over score_mask 1    | score_loss_weight      |
| L2         | c * sum of squared conv/linear weights (not biases, not norms)   | c = weight_decay (sgd) |

Heads a network lacks (NetOutput fields that are None) contribute nothing. With
optimizer="sgd" (momentum, Nesterov) `weight_decay` is AlphaGo Zero's L2 coefficient c
(1e-4 there): the L2 term is not built into the graph but applied as torch's weight_decay=2c
on the same weights, which gives the identical gradient; the term's value is reported in the
metrics as "l2". With optimizer="adamw" `weight_decay` is AdamW's decoupled decay rate, and
"l2" reports c * sum w^2 with c = weight_decay for comparison only.

Metrics (returned by `train_steps`, and logged under "train/" to a SummaryWriter every
`log_every` steps): loss (the weighted sum, L2 included), policy_loss, value_loss,
ownership_loss, score_loss, l2, policy_entropy (of the network's policy, nats), value_sign_acc
(sign of v equal to the sign of z, over decided games), samples_per_s, learning_rate.

Trainer state (`state_dict()`, `save_trainer_state`) is the step counter and the optimizer's
state: plain tensors, numbers and strings, saved atomically with torch.save and read with
torch.load(weights_only=True). The weights themselves go through goengine.nn.save_checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

# goengine.nn before torch: it chooses OpenMP's wait policy, which torch's import fixes
from goengine.nn import NetConfig  # isort: skip
from goengine.nn.backends import resolve_device
import torch
import torch.nn.functional as F
from torch import nn

from .harness import bf16_autocast, decayed_parameters, load_state, make_optimizer, save_state, set_learning_rate

TRAINER_STATE_VERSION = 1
OPTIMIZERS = ("sgd", "adamw")  # of harness.OPTIMIZERS, the two this trainer offers
LR_SCHEDULES = ("constant", "step", "cosine")
METRIC_NAMES = ("loss", "policy_loss", "value_loss", "ownership_loss", "score_loss", "l2",
                "policy_entropy", "value_sign_acc")


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 256
    optimizer: str = "sgd"              # "sgd" (momentum, Nesterov) or "adamw"
    learning_rate: float = 0.02         # peak rate; the schedule scales it
    momentum: float = 0.9               # sgd (Nesterov whenever momentum > 0)
    adam_betas: tuple[float, float] = (0.9, 0.999)
    lr_schedule: str = "constant"       # "constant", "step" (x lr_gamma at each milestone), "cosine"
    lr_milestones: tuple[int, ...] = ()  # steps at which "step" multiplies the rate by lr_gamma
    lr_gamma: float = 0.1
    cosine_steps: int = 100_000         # "cosine": from learning_rate to min_learning_rate over these
    min_learning_rate: float = 0.0
    warmup_steps: int = 0               # linear ramp from 0 over the first steps (any schedule)
    weight_decay: float = 1e-4          # sgd: L2 coefficient c (AlphaGo Zero); adamw: decoupled decay
    value_loss_weight: float = 1.0
    ownership_loss_weight: float = 1.0
    score_loss_weight: float = 0.02
    score_huber_delta: float = 10.0
    grad_clip_norm: float = 0.0         # 0: no clipping
    steps_per_generation: int = 1000    # for the loop: train_steps(batches, steps_per_generation)
    precision: str = "auto"             # harness.bf16_autocast: auto (bf16 on CUDA and native-bf16 CPUs) | fp32 | bf16
    device: str = "auto"                # "auto" (cuda when available), "cpu", "cuda", "cuda:1", ...
    log_every: int = 50                 # steps between TensorBoard writes

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr_milestones", tuple(int(m) for m in self.lr_milestones))
        object.__setattr__(self, "adam_betas", tuple(float(b) for b in self.adam_betas))
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.learning_rate <= 0 or self.weight_decay < 0:
            raise ValueError("learning_rate must be positive and weight_decay non-negative")
        if self.lr_schedule == "cosine" and self.cosine_steps < 1:
            raise ValueError("a cosine schedule needs cosine_steps >= 1")
        if list(self.lr_milestones) != sorted(self.lr_milestones):
            raise ValueError(f"lr_milestones must be increasing, got {self.lr_milestones}")
        bf16_autocast(self.precision, "cpu")  # checks the name
        if self.log_every < 1 or self.steps_per_generation < 1:
            raise ValueError("log_every and steps_per_generation must be at least 1")

    def with_(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (for the checkpoint's train_config)."""
        data = dataclasses.asdict(self)
        data["lr_milestones"] = list(self.lr_milestones)
        data["adam_betas"] = list(self.adam_betas)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {unknown}")
        return cls(**data)

    def learning_rate_at(self, step: int) -> float:
        """The rate for optimizer step `step` (0-based, counted over the whole run)."""
        if self.lr_schedule == "step":
            lr = self.learning_rate * self.lr_gamma ** sum(1 for m in self.lr_milestones if step >= m)
        elif self.lr_schedule == "cosine":
            progress = min(step, self.cosine_steps) / self.cosine_steps
            lr = self.min_learning_rate + 0.5 * (self.learning_rate - self.min_learning_rate) * (
                1.0 + math.cos(math.pi * progress))
        else:
            lr = self.learning_rate
        if step < self.warmup_steps:
            lr *= (step + 1) / self.warmup_steps
        return lr


class Trainer:
    """Trains `model` (a goengine.nn network built from `net_config`) with `train_config`.

    The model is moved to the configured device. `step` counts optimizer steps over the whole
    run (it drives the schedule and TensorBoard's x axis) and is part of the saved state.
    """

    def __init__(self, model: nn.Module, net_config: NetConfig, train_config: TrainConfig,
                 tb_writer: Optional[Any] = None):
        self.net_config = net_config
        self.config = train_config
        self.device = torch.device(resolve_device(train_config.device))
        self.model = model.to(self.device)
        self.tb_writer = tb_writer
        self.step = 0
        self.autocast = bf16_autocast(train_config.precision, self.device)
        self._decayed_params = decayed_parameters(model)
        c = train_config
        self.optimizer = make_optimizer(model, c.optimizer, c.learning_rate, weight_decay=c.weight_decay,
                                        momentum=c.momentum, betas=c.adam_betas)

    # --- batches to tensors ---------------------------------------------------------------------

    def to_device(self, batch) -> dict[str, torch.Tensor]:
        """A dataset TrainingBatch (numpy) as tensors on the device; features stay uint8 until the step
        so the copy is small. On CUDA the copy goes through pinned memory without blocking."""
        tensors = {}
        cuda = self.device.type == "cuda"
        for name in ("features", "policy_target", "policy_mask", "value_target", "ownership_target",
                     "ownership_mask", "score_target", "score_mask"):
            t = torch.from_numpy(getattr(batch, name))
            if cuda:
                t = t.pin_memory().to(self.device, non_blocking=True)
            tensors[name] = t
        return tensors

    # --- one step -------------------------------------------------------------------------------

    def forward(self, x: torch.Tensor):
        return self.model(x)

    def masked_mean(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The mean of `values` [B] over the samples whose mask is 1."""
        return (values * mask).sum() / mask.sum().clamp(min=1.0)

    def losses(self, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Every loss term and statistic of one batch, as 0-d tensors (loss carries the graph)."""
        c = self.config
        x = tensors["features"].float()
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            out = self.forward(x)
        zero = x.new_zeros(())
        terms = dict.fromkeys(METRIC_NAMES, zero)
        loss = zero
        if out.policy_logits is not None:
            log_p = F.log_softmax(out.policy_logits.float(), dim=1)
            mask = tensors["policy_mask"]
            cross_entropy = -(tensors["policy_target"] * log_p).sum(dim=1)
            terms["policy_loss"] = self.masked_mean(cross_entropy, mask)
            loss = loss + terms["policy_loss"]
            with torch.no_grad():
                terms["policy_entropy"] = -(log_p.exp() * log_p).sum(dim=1).mean()
        if out.value is not None:
            v, z = out.value.float(), tensors["value_target"]
            terms["value_loss"] = F.mse_loss(v, z)
            loss = loss + c.value_loss_weight * terms["value_loss"]
            with torch.no_grad():
                decided = (z != 0).float()
                terms["value_sign_acc"] = self.masked_mean(((v > 0) == (z > 0)).float(), decided)
        if out.ownership is not None:
            mask = tensors["ownership_mask"]
            per_sample = (out.ownership.float() - tensors["ownership_target"]).pow(2).mean(dim=1)
            terms["ownership_loss"] = self.masked_mean(per_sample, mask)
            loss = loss + c.ownership_loss_weight * terms["ownership_loss"]
        if out.score is not None:
            mask = tensors["score_mask"]
            per_sample = F.huber_loss(out.score.float(), tensors["score_target"], reduction="none",
                                      delta=c.score_huber_delta)
            terms["score_loss"] = self.masked_mean(per_sample, mask)
            loss = loss + c.score_loss_weight * terms["score_loss"]
        terms["loss"] = loss
        return terms

    def l2_term(self) -> torch.Tensor:
        """c * sum of squared decayed weights (c = weight_decay), as a 0-d tensor."""
        with torch.no_grad():
            total = sum((p.float().pow(2).sum() for p in self._decayed_params), torch.zeros((), device=self.device))
            return self.config.weight_decay * total

    def train_step(self, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One optimizer step on device tensors; returns the detached terms (no device sync)."""
        set_learning_rate(self.optimizer, self.config.learning_rate_at(self.step))
        terms = self.losses(tensors)
        self.optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        if self.config.grad_clip_norm > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip_norm)
        self.optimizer.step()
        self.step += 1
        return {k: v.detach() for k, v in terms.items()}

    # --- many steps ------------------------------------------------------------------------------

    def train_steps(self, batches: Iterable, num_steps: int,
                    progress: Optional[Callable[[int, dict[str, float]], None]] = None) -> dict[str, float]:
        """`num_steps` optimizer steps on batches drawn from `batches` (an iterator of dataset
        Batches, e.g. a SampleStream). Returns the metrics averaged over these steps (l2 at the
        end), plus "samples_per_s", "learning_rate" (the last one used), "steps" and "step" (the
        run's step count). `progress(step, metrics)` is called every `log_every` steps with the
        averages since the previous call."""
        if num_steps < 1:
            raise ValueError(f"num_steps must be at least 1, got {num_steps}")
        iterator: Iterator = iter(batches)
        was_training = self.model.training
        self.model.train()
        sums = {k: torch.zeros((), device=self.device) for k in METRIC_NAMES if k != "l2"}
        window = {k: torch.zeros((), device=self.device) for k in sums}
        window_steps, window_samples, window_start = 0, 0, time.perf_counter()
        samples, start = 0, time.perf_counter()
        lr = self.config.learning_rate_at(self.step)
        try:
            for _ in range(num_steps):
                batch = next(iterator)
                tensors = self.to_device(batch)
                lr = self.config.learning_rate_at(self.step)
                terms = self.train_step(tensors)
                for k in sums:
                    sums[k] += terms[k]
                    window[k] += terms[k]
                size = int(batch.features.shape[0])
                samples += size
                window_samples += size
                window_steps += 1
                if self.step % self.config.log_every == 0:
                    now = time.perf_counter()
                    averages = {k: float(v) / window_steps for k, v in window.items()}
                    averages["samples_per_s"] = window_samples / max(now - window_start, 1e-9)
                    averages["learning_rate"] = lr
                    self._log(averages)
                    if progress is not None:
                        progress(self.step, averages)
                    for v in window.values():
                        v.zero_()
                    window_steps, window_samples, window_start = 0, 0, time.perf_counter()
            metrics = {k: float(v) / num_steps for k, v in sums.items()}  # float() syncs the device
            elapsed = time.perf_counter() - start
        finally:
            self.model.train(was_training)
        l2 = float(self.l2_term())
        metrics["l2"] = l2
        metrics["loss"] += l2 if self.config.optimizer == "sgd" else 0.0
        metrics.update(samples_per_s=samples / max(elapsed, 1e-9), learning_rate=lr,
                       steps=num_steps, step=self.step)
        return metrics

    def _log(self, averages: dict[str, float]) -> None:
        if self.tb_writer is None:
            return
        averages = dict(averages)
        l2 = float(self.l2_term())
        averages["l2"] = l2
        if self.config.optimizer == "sgd":
            averages["loss"] += l2
        for k, v in averages.items():
            self.tb_writer.add_scalar(f"train/{k}", v, self.step)

    # --- state ------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {"version": TRAINER_STATE_VERSION, "step": self.step, "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state.get("version", -1)) != TRAINER_STATE_VERSION:
            raise ValueError(f"trainer state version {state.get('version')!r}, expected {TRAINER_STATE_VERSION}")
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])


def save_trainer_state(path: str | os.PathLike, trainer: Trainer) -> Path:
    """Write trainer.state_dict() to `path` atomically (temporary file, fsync, rename)."""
    return save_state(path, trainer.state_dict())


def load_trainer_state(path: str | os.PathLike, trainer: Trainer) -> None:
    """Restore a state written by save_trainer_state (read with weights_only=True)."""
    trainer.load_state_dict(load_state(path))
