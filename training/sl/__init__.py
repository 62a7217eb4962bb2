"""AlphaGo stage 1: the supervised policy network learned from expert games.

Data: `filters` (which games), `build` (SGF archives -> shards), `shards` (the shard format and
readers: `iter_shard_samples`, `load_shards`, `position_board`, `position_history`),
`samples` (numba feature encoding of shard positions, the training stream), `accuracy`
(top-1 / top-5 counts). Torch: `trainer` (SLConfig, SLRun), `evaluate`. Commands: `cli`
(train-sl), `eval_cli` (eval-policy). This file re-exports the torch-free parts only.
"""

from .accuracy import BUCKETS, AccuracyCounter, format_report
from .build import ShardSpec, build_shards, ensure_shards, game_positions, read_games
from .filters import FILTER_REASONS, GameFilter, rank_value
from .samples import MoveBatch, ShardStream, encode_positions
from .shards import (FORMAT_VERSION, Sample, Shard, colors_of, concat_shards, iter_shard_samples, load_shard,
                     load_shards, position_board, position_history, save_shard, select_games, shard_paths)

__all__ = [
    "BUCKETS", "AccuracyCounter", "format_report",
    "ShardSpec", "build_shards", "ensure_shards", "game_positions", "read_games",
    "FILTER_REASONS", "GameFilter", "rank_value",
    "MoveBatch", "ShardStream", "encode_positions",
    "FORMAT_VERSION", "Sample", "Shard", "colors_of", "concat_shards", "iter_shard_samples", "load_shard",
    "load_shards", "position_board", "position_history", "save_shard", "select_games", "shard_paths",
]
