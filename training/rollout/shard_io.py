"""The one place the rollout trainer reaches into the supervised-learning shard format
(`training.sl.shards`), so a change there shows up here alone."""

from __future__ import annotations

from training.sl.shards import load_shards

__all__ = ["load_shards"]
