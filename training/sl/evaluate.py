"""Move-prediction accuracy of a policy network on held-out games (`accuracy.py` figures).

Every position of every game given is evaluated once, in its own orientation, with the
network in eval mode; the expert's move (a pass included) is the target. Any network with a
policy head works (PolicyNet, PolicyValueNet): positions are encoded with the feature set its
config names.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

import numpy as np

# goengine.nn before torch: it chooses OpenMP's wait policy, which torch's import fixes
from goengine.nn import NetConfig  # isort: skip
import torch
from torch import nn

from .accuracy import AccuracyCounter
from .samples import encode_positions
from .shards import Shard, select_games


def spread_games(shard: Shard, max_games: Optional[int]) -> Shard:
    """At most `max_games` games spread evenly over the shard (all when None or 0)."""
    if not max_games or max_games >= shard.num_games:
        return shard
    picks = np.unique(np.linspace(0, shard.num_games - 1, max_games).round().astype(np.int64))
    return select_games(shard, picks)


def evaluate_policy(model: nn.Module, config: NetConfig, shard: Shard, *, device: str | torch.device = "cpu",
                    batch_size: int = 256, progress: Optional[Callable[[int, int], None]] = None) -> dict[str, Any]:
    """The accuracy report (`AccuracyCounter.report`) of `model` on every position of `shard`,
    plus "games" and "seconds". `progress(done, total)` is called after each batch."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    counter = AccuracyCounter(shard.board_size ** 2 + 1)
    total = shard.num_positions
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            for first in range(0, total, batch_size):
                indices = np.arange(first, min(first + batch_size, total))
                features, targets = encode_positions(shard, indices, config.feature_set)
                x = torch.from_numpy(features).to(device).float()
                logits = model(x).policy_logits
                if logits is None:
                    raise ValueError("the network has no policy head")
                counter.add(logits.float().cpu().numpy(), targets, shard.move_number[indices])
                if progress is not None:
                    progress(int(indices[-1]) + 1, total)
    finally:
        model.train(was_training)
    report = counter.report()
    report["games"] = shard.num_games
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report
