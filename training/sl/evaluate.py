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

from goengine.symmetry import NUM_SYMMETRIES, apply_features, invert_policy

from .accuracy import AccuracyCounter
from .samples import encode_positions, position_values
from .shards import Shard, select_games


def spread_games(shard: Shard, max_games: Optional[int]) -> Shard:
    """At most `max_games` games spread evenly over the shard (all when None or 0)."""
    if not max_games or max_games >= shard.num_games:
        return shard
    picks = np.unique(np.linspace(0, shard.num_games - 1, max_games).round().astype(np.int64))
    return select_games(shard, picks)


def _outputs(model: nn.Module, features: np.ndarray, device: torch.device,
             average: bool) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(policy logits float[B, A], value float[B] or None). With `average`, the mean over the 8
    symmetries of the logits mapped back to the position's own frame, and of the value: what
    goengine.nn's "average" symmetry mode gives the policy player."""
    if not average:
        out = model(torch.from_numpy(features).to(device).float())
        if out.policy_logits is None:
            raise ValueError("the network has no policy head")
        value = None if out.value is None else out.value.float().cpu().numpy()
        return out.policy_logits.float().cpu().numpy(), value
    logits_sum, value_sum = 0.0, 0.0
    for k in range(NUM_SYMMETRIES):
        logits, value = _outputs(model, np.ascontiguousarray(apply_features(features, k)), device, False)
        logits_sum = logits_sum + invert_policy(logits, k, features.shape[-1])
        value_sum = None if value is None else value_sum + value
    return logits_sum / NUM_SYMMETRIES, None if value_sum is None else value_sum / NUM_SYMMETRIES


def evaluate_policy(model: nn.Module, config: NetConfig, shard: Shard, *, device: str | torch.device = "cpu",
                    batch_size: int = 256, symmetries: bool = False,
                    progress: Optional[Callable[[int, int], None]] = None) -> dict[str, Any]:
    """The accuracy report (`AccuracyCounter.report`) of `model` on every position of `shard`,
    plus "games" and "seconds", and for a network with a value head "value_mse" and
    "value_sign_acc" over the positions of decided games (`position_values`). `symmetries`
    averages each position over the 8 board symmetries (8x the work).
    `progress(done, total)` is called after each batch."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    counter = AccuracyCounter(shard.board_size ** 2 + 1)
    total = shard.num_positions
    outcomes = position_values(shard)
    value_error, value_agree, value_count = 0.0, 0, 0
    value_sum = value_square = 0.0
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            for first in range(0, total, batch_size):
                indices = np.arange(first, min(first + batch_size, total))
                features, targets = encode_positions(shard, indices, config.feature_set)
                logits, value = _outputs(model, features, device, symmetries)
                counter.add(logits, targets, shard.move_number[indices])
                if value is not None:
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
