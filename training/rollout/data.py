"""Positions for training the rollout policy, and the numba kernel that turns a batch of them
into candidate features.

A `Positions` set holds P positions of one board size N (L = (N+2)^2 padded points):

| field   | dtype | shape  | meaning                                                       |
|---------|-------|--------|---------------------------------------------------------------|
| stones  | int8  | [P, L] | the COLOR row of the board before the move (board.py)          |
| info    | int64 | [P, 7] | columns I_* below                                             |

info columns: the player to move, the simple-ko point and the colour barred from it (0, 0 when
none), the last move and the one before it (locs; 0 pass, -1 none), the move played (the target,
a loc), and the index of the game the position came from.

Positions come from the expert-position shards of supervised training
(`positions_from_shards`) or from SGF games (`positions_from_sgf`): a few drawn at random from
each game, passes excluded as targets; any other source can use `PositionBuilder`. A batch is filled by `fill_batch` in one numba call: each board is rebuilt
from its stones and its candidates' features computed with `goengine.rollout.features`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import numba as nb
import numpy as np

from goengine.board import COLOR, INFO, KO_COLOR, KO_LOC, SIZE, WALL, play, rebuild
from goengine.coords import PASS_LOC
from goengine.rollout.features import CACHE_COLS, NUM_SLOTS, candidate_features
from goengine.sgf import replay

I_TO_PLAY, I_KO_LOC, I_KO_COLOR, I_LAST, I_PREV, I_TARGET, I_GAME = range(7)
NUM_INFO = 7


@dataclass(frozen=True)
class Positions:
    size: int
    stones: np.ndarray  # int8 [P, L]
    info: np.ndarray    # int64 [P, NUM_INFO]

    def __len__(self) -> int:
        return int(self.info.shape[0])

    def subset(self, index: np.ndarray) -> "Positions":
        return Positions(self.size, self.stones[index], self.info[index])

    def save(self, path: str) -> None:
        np.savez_compressed(path, size=self.size, stones=self.stones, info=self.info)

    @classmethod
    def load(cls, path: str) -> "Positions":
        with np.load(path) as data:
            return cls(int(data["size"]), data["stones"], data["info"])


class PositionBuilder:
    """Collects positions one at a time, then `build()`s a `Positions`."""

    def __init__(self, size: int):
        self.size = size
        self._stones: list[np.ndarray] = []
        self._info: list[list[int]] = []

    def add(self, board: np.ndarray, to_play: int, last: int, prev: int, target: int, game: int) -> None:
        self._stones.append(board[COLOR].astype(np.int8))
        self._info.append([to_play, int(board[INFO, KO_LOC]), int(board[INFO, KO_COLOR]) if board[INFO, KO_LOC] else 0,
                           last, prev, target, game])

    def build(self) -> Positions:
        n_locs = (self.size + 2) ** 2
        stones = np.stack(self._stones) if self._stones else np.zeros((0, n_locs), np.int8)
        info = np.array(self._info, dtype=np.int64).reshape(-1, NUM_INFO)
        return Positions(self.size, stones, info)


def positions_from_records(records: Iterable, size: int = 19, per_game: int = 16, seed: int = 0,
                           max_games: Optional[int] = None) -> Positions:
    """Up to `per_game` positions drawn from each game record (goengine.sgf.SgfGame) of
    the given size (all of a game's positions when per_game <= 0). Handicap stones and setup
    are replayed; a position whose next move is a pass is never drawn."""
    rng = np.random.default_rng(seed)
    builder = PositionBuilder(size)
    games = 0
    for record in records:
        if record.size != size:
            continue
        if max_games is not None and games >= max_games:
            break
        start = replay(record, max_moves=0)
        moves = [(m.color, m.loc) for m in record.moves]
        # The record's setup after the first move (rare) is ignored: positions stop there.
        if any(not hasattr(e, "loc") for e in record.events[:len(moves)]):
            moves = moves[:next(i for i, e in enumerate(record.events) if not hasattr(e, "loc"))]
        playable = [i for i, (_, loc) in enumerate(moves) if loc != PASS_LOC]
        if per_game > 0 and len(playable) > per_game:
            chosen = set(rng.choice(playable, size=per_game, replace=False).tolist())
        else:
            chosen = set(playable)
        board = start.board.copy()
        last, prev = -1, -1
        if start.recent_moves:
            last = start.recent_moves[0]
        for i, (color, loc) in enumerate(moves):
            if i in chosen:
                builder.add(board, color, last, prev, loc, games)
            play(board, loc, color)
            prev, last = last, loc
        games += 1
    return builder.build()


def positions_from_sgf(source, size: int = 19, per_game: int = 16, seed: int = 0,
                       max_games: Optional[int] = None) -> Positions:
    """`positions_from_records` over every game `goengine.sgf_archive.iter_games` reads from
    `source` (files, folders, archives)."""
    from goengine.sgf_archive import iter_games

    records = (record for _, record in iter_games(source, board_size=size))
    return positions_from_records(records, size=size, per_game=per_game, seed=seed, max_games=max_games)


@nb.njit(cache=True)
def _rows_from_shard(packed, size, chosen, out):
    """out[i]: the padded COLOR row (walls included) of shard position chosen[i]."""
    w = size + 2
    for i in range(chosen.shape[0]):
        out[i, :] = WALL
        m = chosen[i]
        for r in range(size):
            for c in range(size):
                p = r * size + c
                out[i, (r + 1) * w + c + 1] = (packed[m, p >> 2] >> (2 * (p & 3))) & 3


def positions_from_shards(paths, per_game: int = 16, seed: int = 0, max_games: Optional[int] = None) -> Positions:
    """Up to `per_game` positions drawn from each game of expert-position shards
    (`training.sl.shards`), never one whose move is a pass."""
    from .shard_io import load_shards

    shard = load_shards(paths)
    n = shard.board_size
    rng = np.random.default_rng(seed)
    games = shard.num_games if max_games is None else min(max_games, shard.num_games)
    chosen = []
    for g in range(games):
        start, end = int(shard.game_offsets[g]), int(shard.game_offsets[g + 1])
        candidates = start + np.flatnonzero(shard.move[start:end] != n * n)
        if per_game > 0 and len(candidates) > per_game:
            candidates = np.sort(rng.choice(candidates, size=per_game, replace=False))
        chosen.append(candidates)
    index = np.concatenate(chosen).astype(np.int64) if chosen else np.zeros(0, np.int64)
    stones = np.zeros((len(index), (n + 2) ** 2), np.int8)
    _rows_from_shard(shard.stones, n, index, stones)

    def locs(actions: np.ndarray) -> np.ndarray:
        rows, cols = actions // n, actions % n
        return np.where(actions == n * n, PASS_LOC, (rows + 1) * (n + 2) + cols + 1)

    number = shard.move_number[index].astype(np.int64)
    info = np.zeros((len(index), NUM_INFO), np.int64)
    info[:, I_TO_PLAY] = shard.to_play[index]
    ko = shard.ko[index].astype(np.int64)
    info[:, I_KO_LOC] = np.where(ko >= 0, locs(np.maximum(ko, 0)), 0)
    info[:, I_KO_COLOR] = np.where(ko >= 0, info[:, I_TO_PLAY], 0)
    info[:, I_LAST] = np.where(number >= 1, locs(shard.move[np.maximum(index - 1, 0)].astype(np.int64)), -1)
    info[:, I_PREV] = np.where(number >= 2, locs(shard.move[np.maximum(index - 2, 0)].astype(np.int64)), -1)
    info[:, I_TARGET] = locs(shard.move[index].astype(np.int64))
    info[:, I_GAME] = shard.game_of(index)
    return Positions(n, stones, info)


@nb.njit(cache=True, nogil=True)
def fill_batch(stones, info, index, size, feats, counts, targets):
    """For positions `index`: feats[i, :counts[i]] the candidates' features (-1 beyond),
    targets[i] the index of the played move among the candidates (-1 when it is none of
    them: an eye-filling or otherwise excluded move)."""
    w = size + 2
    b = np.zeros((8, w * w), np.int64)
    b[INFO, SIZE] = size
    cache = np.zeros((w * w, CACHE_COLS), np.int64)
    locs = np.empty(w * w, np.int64)
    for i in range(index.shape[0]):
        p = index[i]
        for loc in range(w * w):
            b[COLOR, loc] = stones[p, loc]
        rebuild(b)
        b[INFO, KO_LOC] = info[p, I_KO_LOC]
        b[INFO, KO_COLOR] = info[p, I_KO_COLOR]
        k = candidate_features(b, info[p, I_TO_PLAY], info[p, I_LAST], info[p, I_PREV], cache, locs, feats[i])
        counts[i] = k
        for j in range(k, feats.shape[1]):
            for s in range(NUM_SLOTS):
                feats[i, j, s] = -1
        targets[i] = -1
        for j in range(k):
            if locs[j] == info[p, I_TARGET]:
                targets[i] = j


def batch_arrays(size: int, batch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output arrays for `fill_batch`: feats int64 [B, N*N, NUM_SLOTS], counts and targets
    int64 [B]."""
    return (np.full((batch, size * size, NUM_SLOTS), -1, np.int64), np.zeros(batch, np.int64),
            np.zeros(batch, np.int64))
