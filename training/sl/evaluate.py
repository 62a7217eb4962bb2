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
from goengine.nn import NetConfig, TorchEvaluator  # isort: skip
import torch
from torch import nn

from .accuracy import AccuracyCounter
from .samples import encode_positions, position_values
from .shards import Shard, select_games


def spread_games(shard: Shard, max_games: Optional[int]) -> Shard:
    """At most `max_games` games spread evenly over the shard (all when None or 0)."""
    if not max_games or max_games >= shard.num_games:
        return shard
    picks = np.unique(np.linspace(0, shard.num_games - 1, max_games).round().astype(np.int64))
    return select_games(shard, picks)


def evaluate_policy(model: nn.Module, config: NetConfig, shard: Shard, *, device: str | torch.device = "cpu",
                    batch_size: int = 256, symmetries: bool = False,
                    progress: Optional[Callable[[int, int], None]] = None) -> dict[str, Any]:
    """The accuracy report (`AccuracyCounter.report`) of `model` on every position of `shard`,
    plus "games" and "seconds", and for a network with a value head "value_mse" and
    "value_sign_acc" over the positions of decided games (`position_values`). `symmetries`
    averages each position over the 8 board symmetries (8x the work).
    `progress(done, total)` is called after each batch."""
    if config.kind == "value":
        raise ValueError("the network has no policy head")
    has_value = config.kind != "policy"
    was_training = model.training
    # the policy player's own evaluator, so that --symmetries scores what it plays; keep the
    # caller's thread count (the evaluator would otherwise set it process-wide) and fp32
    evaluator = TorchEvaluator(model, config, device=device, batch_size=batch_size,
                               symmetry="average" if symmetries else "none",
                               threads=torch.get_num_threads(), bf16=False)
    counter = AccuracyCounter(shard.board_size ** 2 + 1)
    total = shard.num_positions
    outcomes = position_values(shard)
    value_error, value_agree, value_count = 0.0, 0, 0
    value_sum = value_square = 0.0
    start = time.perf_counter()
    try:
        for first in range(0, total, batch_size):
            indices = np.arange(first, min(first + batch_size, total))
            features, targets = encode_positions(shard, indices, config.feature_set)
            logits, value = evaluator.evaluate(features)
            counter.add(logits, targets, shard.move_number[indices])
            if has_value:
                z = outcomes[indices]
                known = ~np.isnan(z)
                v = value[known]
                value_error += float(np.square(v - z[known]).sum())
                value_agree += int((np.sign(v) == z[known]).sum())
                value_count += int(known.sum())
                value_sum += float(v.sum())
                value_square += float(np.square(v).sum())
            if progress is not None:
                progress(int(indices[-1]) + 1, total)
    finally:
        model.train(was_training)
    report = counter.report()
    if value_count:
        report["value_mse"] = round(value_error / value_count, 4)
        report["value_sign_acc"] = round(value_agree / value_count, 4)
        report["value_positions"] = value_count
        mean = value_sum / value_count
        report["value_std"] = round(float(np.sqrt(max(value_square / value_count - mean * mean, 0.0))), 4)
    report["games"] = shard.num_games
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report
