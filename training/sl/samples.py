"""Training batches from shards: positions encoded in numba for any feature set, under random
board symmetries, and an endless, resumable stream over a set of shard files.

`encode_positions(shard, indices, feature_set, symmetries)` returns
- features uint8[B, C, N, N]: the feature set's planes of each position, transformed by its
  symmetry (goengine.symmetry numbering);
- targets int64[B]: the move played, as an action in the transformed frame (pass = N*N fixed).
It equals `goengine.features.encode_game_positions` over the replayed game (tests check it):
the colour history comes from the stored positions before the sample, and for feature sets
that read chains (alphago) the board is rebuilt from the stored stones with the stored ko point.

`ShardStream` walks the shards epoch after epoch: each epoch visits the shard files in a
seeded random order, `shards_in_memory` at a time (a group); the positions of a group are
permuted with a seed of (seed, epoch, group) and cut into batches, the last partial batch
dropped. Its `cursor` (epoch, group, batch) is all the state there is, so a resumed run
continues with exactly the batches it would have drawn.
"""

from __future__ import annotations

import os
from typing import NamedTuple, Optional, Sequence

import numba as nb
import numpy as np

from goengine.board import COLOR, INFO, KO_COLOR, KO_LOC, new_board, rebuild
from goengine.features import AGZ, FeatureSet, encode, get_feature_set
from goengine.symmetry import NUM_SYMMETRIES, point_permutation

from .shards import Shard, concat_shards, load_shard, unpack_colors


@nb.njit(cache=True, nogil=True)
def _fill(feature_code, history, empty_board, stones, to_play, move, ko, move_number,
          indices, symmetries, point_perm, inverse_perm, features, targets):
    """features: uint8[B, C, N*N] (a view); targets: int64[B]. See the module docstring."""
    n = empty_board[INFO, 0]
    w = n + 2
    num_points = n * n
    num_planes = features.shape[1]
    scratch = np.zeros((num_planes, n, n), np.uint8)
    flat = scratch.reshape(num_planes, num_points)
    b = empty_board.copy()
    color_hist = np.zeros((history, b.shape[1]), np.int8)
    move_hist = np.full(history, -1, np.int64)
    for i in range(indices.shape[0]):
        m = indices[i]
        t = move_number[m]
        hist_len = min(t + 1, history)
        moves_len = min(t, history)
        for j in range(history):
            if j < hist_len:
                color_hist[j] = empty_board[COLOR]
                unpack_colors(stones[m - j], n, color_hist[j])
            else:
                color_hist[j] = 0
        move_hist[:] = -1
        for j in range(moves_len):
            a = move[m - 1 - j]
            move_hist[j] = 0 if a == num_points else (a // n + 1) * w + a % n + 1
        mover = to_play[m]
        if feature_code != AGZ:
            b[COLOR] = empty_board[COLOR]
            b[INFO] = empty_board[INFO]
            unpack_colors(stones[m], n, b[COLOR])
            rebuild(b)
            if ko[m] >= 0:
                b[INFO, KO_LOC] = (ko[m] // n + 1) * w + ko[m] % n + 1
                b[INFO, KO_COLOR] = mover
        encode(feature_code, b, color_hist, hist_len, move_hist, moves_len, mover, scratch)
        k = symmetries[i]
        for c in range(num_planes):
            for p in range(num_points):
                features[i, c, p] = flat[c, point_perm[k, p]]
        a = move[m]
        targets[i] = a if a == num_points else inverse_perm[k, a]


_TABLES: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _tables(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(empty board, point_perm[8, N*N], inverse_perm[8, N*N]): transformed[p] =
    original[point_perm[k, p]], and original point q lands on inverse_perm[k, q]."""
    if size not in _TABLES:
        perm = np.stack([point_permutation(k, size) for k in range(NUM_SYMMETRIES)]).astype(np.int64)
        _TABLES[size] = (new_board(size), perm, np.argsort(perm, axis=1).astype(np.int64))
    return _TABLES[size]


def encode_positions(shard: Shard, indices: np.ndarray | Sequence[int], feature_set: FeatureSet | str,
                     symmetries: Optional[np.ndarray | Sequence[int]] = None) -> tuple[np.ndarray, np.ndarray]:
    """(features uint8[B, C, N, N], targets int64[B]) of shard positions `indices` under
    `symmetries` (default: none)."""
    fs = get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set
    indices = np.ascontiguousarray(indices, np.int64)
    if symmetries is None:
        symmetries = np.zeros(indices.shape[0], np.int64)
    symmetries = np.ascontiguousarray(symmetries, np.int64)
    if symmetries.shape != indices.shape:
        raise ValueError("one symmetry per position")
    if indices.size and (indices.min() < 0 or indices.max() >= shard.num_positions):
        raise ValueError("position index out of range")
    if symmetries.size and (symmetries.min() < 0 or symmetries.max() >= NUM_SYMMETRIES):
        raise ValueError("symmetries must be in 0..7")
    n = shard.board_size
    board, perm, inverse = _tables(n)
    features = np.empty((indices.shape[0], fs.num_planes, n, n), np.uint8)
    targets = np.empty(indices.shape[0], np.int64)
    _fill(fs.code, fs.history, board, shard.stones, shard.to_play, shard.move, shard.ko,
          shard.move_number, indices, symmetries, perm, inverse,
          features.reshape(indices.shape[0], fs.num_planes, n * n), targets)
    return features, targets


# Games whose komi lies outside this range teach a value for another game (a handicap-style
# komi of 0.5, or none): their positions get no value target.
VALUE_KOMI_RANGE = (5.0, 8.0)


def position_values(shard: Shard) -> np.ndarray:
    """float32[P]: the game's outcome from the mover's view at each position (+1 the player to
    move won, -1 lost), NaN where there is no outcome to learn (a draw, void or unknown result,
    or a komi outside VALUE_KOMI_RANGE)."""
    per_game = np.full(shard.num_games, np.nan, np.float32)
    komi = shard.game_komi
    usable = (shard.game_winner > 0) & (komi >= VALUE_KOMI_RANGE[0]) & (komi <= VALUE_KOMI_RANGE[1])
    per_game[usable] = shard.game_winner[usable]
    lengths = np.diff(shard.game_offsets)
    winner = np.repeat(per_game, lengths)
    return np.where(np.isnan(winner), np.nan, np.where(winner == shard.to_play, 1.0, -1.0)).astype(np.float32)


class MoveBatch(NamedTuple):
    features: np.ndarray  # uint8[B, C, N, N]
    targets: np.ndarray  # int64[B], actions
    move_number: np.ndarray  # int64[B], 0-based index of the move in its game
    value_targets: np.ndarray  # float32[B], position_values (NaN: no outcome to learn)


class ShardStream:
    """Endless batches from `paths` (shard files). `cursor` = (epoch, group, batch) of the next
    batch; pass a saved cursor back in to resume."""

    def __init__(self, paths: Sequence[str | os.PathLike], feature_set: FeatureSet | str, batch_size: int, *,
                 seed: int = 0, shards_in_memory: int = 4, symmetries: bool = True,
                 cursor: tuple[int, int, int] = (0, 0, 0)):
        if not paths:
            raise ValueError("no shard files to train on")
        if batch_size < 1 or shards_in_memory < 1:
            raise ValueError("batch_size and shards_in_memory must be at least 1")
        self.paths = [os.fspath(p) for p in paths]
        self.feature_set = get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.shards_in_memory = int(shards_in_memory)
        self.symmetries = symmetries
        self.cursor = tuple(int(c) for c in cursor)
        self._loaded: Optional[tuple[tuple[int, int], Shard, np.ndarray, np.ndarray]] = None

    def _groups(self, epoch: int) -> list[list[str]]:
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.paths))
        k = self.shards_in_memory
        return [[self.paths[i] for i in order[j:j + k]] for j in range(0, len(order), k)]

    def _group(self, epoch: int, group: int) -> tuple[Shard, np.ndarray, np.ndarray]:
        """The group's positions joined, their order for this epoch, and their values."""
        if self._loaded is None or self._loaded[0] != (epoch, group):
            shard = concat_shards([load_shard(p) for p in self._groups(epoch)[group]])
            order = np.random.default_rng([self.seed, epoch, group]).permutation(shard.num_positions)
            self._loaded = ((epoch, group), shard, order, position_values(shard))
        return self._loaded[1], self._loaded[2], self._loaded[3]

    def __iter__(self) -> "ShardStream":
        return self

    def __next__(self) -> MoveBatch:
        epoch, group, batch = self.cursor
        for _ in range(len(self.paths) + 2):
            groups = self._groups(epoch)
            if group >= len(groups):
                epoch, group, batch = epoch + 1, 0, 0
                continue
            shard, order, values = self._group(epoch, group)
            start = batch * self.batch_size
            if start + self.batch_size > order.shape[0]:
                group, batch = group + 1, 0
                continue
            indices = order[start:start + self.batch_size]
            if self.symmetries:
                # One symmetry per batch slot, fixed by (seed, epoch, group, batch) so a resume
                # draws the same ones.
                rng = np.random.default_rng([self.seed, epoch, group, batch, 1])
                symmetries = rng.integers(0, NUM_SYMMETRIES, indices.shape[0])
            else:
                symmetries = np.zeros(indices.shape[0], np.int64)
            features, targets = encode_positions(shard, indices, self.feature_set, symmetries)
            self.cursor = (epoch, group, batch + 1)
            return MoveBatch(features, targets, shard.move_number[indices].astype(np.int64), values[indices])
        raise ValueError("the shards hold fewer positions than one batch")
