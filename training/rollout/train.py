"""Fitting the rollout policy: cross-entropy of the played move over each position's candidates,
minimised by Adam on a `goengine.nn.rollout_policy.RolloutPolicy`; top-1 accuracy measured with
the numba kernels the playouts use.

Accuracy counts every position: one whose played move is not a candidate (an eye-filling move)
is a miss. `covered` is the share of positions whose move is a candidate at all.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import numba as nb
import numpy as np

from goengine.board import COLOR, INFO, KO_COLOR, KO_LOC, SIZE, rebuild
from goengine.rollout.features import CACHE_COLS, NUM_SLOTS, candidate_features
from goengine.rollout.playout import best_candidate

from .data import I_KO_COLOR, I_KO_LOC, I_LAST, I_PREV, I_TARGET, I_TO_PLAY, Positions, batch_arrays, fill_batch


@dataclass(frozen=True)
class RolloutTrainConfig:
    steps: int = 3000
    batch_size: int = 256
    learning_rate: float = 0.01
    weight_decay: float = 0.0
    seed: int = 0
    log_every: int = 250


@nb.njit(cache=True, nogil=True)
def top1_counts(stones, info, size, weights):
    """(hits, covered): positions where the most probable candidate is the move played, and
    positions where the move played is a candidate at all."""
    w = size + 2
    b = np.zeros((8, w * w), np.int64)
    b[INFO, SIZE] = size
    cache = np.zeros((w * w, CACHE_COLS), np.int64)
    locs = np.empty(w * w, np.int64)
    feats = np.empty((w * w, NUM_SLOTS), np.int64)
    hits = 0
    covered = 0
    for p in range(info.shape[0]):
        for loc in range(w * w):
            b[COLOR, loc] = stones[p, loc]
        rebuild(b)
        b[INFO, KO_LOC] = info[p, I_KO_LOC]
        b[INFO, KO_COLOR] = info[p, I_KO_COLOR]
        k = candidate_features(b, info[p, I_TO_PLAY], info[p, I_LAST], info[p, I_PREV], cache, locs, feats)
        target = info[p, I_TARGET]
        for j in range(k):
            if locs[j] == target:
                covered += 1
        if k > 0 and locs[best_candidate(feats, k, weights)] == target:
            hits += 1
    return hits, covered


def accuracy(kernel_weights: np.ndarray, positions: Positions) -> dict:
    """Top-1 accuracy of the policy with `kernel_weights` (exp of the weights) on `positions`."""
    hits, covered = top1_counts(positions.stones, positions.info, positions.size, kernel_weights)
    n = max(len(positions), 1)
    return {"positions": len(positions), "top1": hits / n, "covered": covered / n}


def train_rollout_policy(train: Positions, config: RolloutTrainConfig = RolloutTrainConfig(),
                         model=None, log: Optional[Callable[[str], None]] = print):
    """Fit (or continue fitting) a RolloutPolicy on `train`; returns (model, history) where
    history lists {"step", "loss"} averages over each log interval."""
    import torch

    from goengine.nn.rollout_policy import RolloutPolicy

    from ..harness import make_optimizer

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = RolloutPolicy() if model is None else model
    model.train()
    optimiser = make_optimizer(model, "adam", config.learning_rate, weight_decay=config.weight_decay)
    feats, counts, targets = batch_arrays(train.size, config.batch_size)
    history = []
    running, seen = 0.0, 0
    started = time.monotonic()
    for step in range(1, config.steps + 1):
        index = rng.integers(0, len(train), size=config.batch_size)
        fill_batch(train.stones, train.info, index, train.size, feats, counts, targets)
        keep = targets >= 0
        if not keep.any():
            continue
        logits = model(torch.from_numpy(feats[keep]), torch.from_numpy(counts[keep]))
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(targets[keep]))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        running += float(loss.detach())
        seen += 1
        if step % config.log_every == 0 or step == config.steps:
            history.append({"step": step, "loss": running / max(seen, 1)})
            if log is not None:
                log(f"step {step}: loss {running / max(seen, 1):.4f} ({time.monotonic() - started:.0f} s)")
            running, seen = 0.0, 0
    model.eval()
    return model, history


def config_dict(config: RolloutTrainConfig) -> dict:
    return asdict(config)
