"""Training samples from a replay window: positions drawn uniformly, encoded in numba, each
under one of the eight board symmetries at random.

`SampleStream(window, net_config, batch_size, seed)` is an endless iterator of `TrainingBatch`es (no
epochs). Every batch is made by one numba call (`_fill_batch`) that rebuilds each sampled
position from the window's stored stones (`GameArrays.stones`, one int8 row per position, 18x
smaller than AlphaGo Zero's 18 planes) and encodes it for the network's feature set. So
features are computed per batch, memory stays small whatever the feature set, and old games
serve a network with new features. Measured on 9x9 with AGZ features: replaying each game
from its start for every sample was about 10x slower than this; encoding every position once
(to cache the planes) runs at about 1M positions/s against this stream's 0.16-0.2M samples/s
on one thread, but a cache would hold 18x the bytes of the stones. Both are far above what the
trainer consumes (b6c64, batch 256, bf16 on an H100: about 19k samples/s). The kernel releases
the GIL, so `prefetch > 0` builds batches on a background thread while the trainer computes:
on that H100 it raised the whole path from 0.73 to 0.92 of the raw step rate.

A `TrainingBatch` (B samples, N board size, C feature planes, A = N*N + 1 actions; every target is from
the point of view of the player to move in the sample position):

| field            | dtype   | shape        | meaning                                             |
|------------------|---------|--------------|-----------------------------------------------------|
| features         | uint8   | [B, C, N, N] | the network's feature set (NetConfig.feature_set)    |
| policy_target    | float32 | [B, A]       | search policy, normalised to sum 1; zero rows where  |
|                  |         |              | the move had no full search                          |
| policy_mask      | float32 | [B]          | 1 where policy_target is a target, else 0            |
| value_target     | float32 | [B]          | game result: +1 won, -1 lost, 0 draw                 |
| ownership_target | float32 | [B, N*N]     | final owner: +1 own, -1 opponent's, 0 neither        |
| ownership_mask   | float32 | [B]          | 0 for resigned games and records without ownership   |
| score_target     | float32 | [B]          | final margin (komi included); 0 where masked         |
| score_mask       | float32 | [B]          | 0 for resigned games (no score)                      |
| symmetry         | int64   | [B]          | the symmetry k (goengine.symmetry) applied           |

Features, policy and ownership are all transformed by the same symmetry, so a target still
points at the stones it belongs to; the pass action never moves.
"""

from __future__ import annotations

import queue
import threading
from typing import NamedTuple, Optional

import numba as nb
import numpy as np

from goengine.board import BLACK, COLOR, INFO, SIZE, new_board, play, rebuild
from goengine.features import AGZ, encode, get_feature_set
from goengine.symmetry import NUM_SYMMETRIES, point_permutation

from .replay import GameArrays, ReplayWindow


class TrainingBatch(NamedTuple):
    features: np.ndarray
    policy_target: np.ndarray
    policy_mask: np.ndarray
    value_target: np.ndarray
    ownership_target: np.ndarray
    ownership_mask: np.ndarray
    score_target: np.ndarray
    score_mask: np.ndarray
    symmetry: np.ndarray

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.features.shape[0])


def empty_batch(batch_size: int, num_planes: int, size: int) -> TrainingBatch:
    a = size * size + 1
    return TrainingBatch(
        features=np.zeros((batch_size, num_planes, size, size), np.uint8),
        policy_target=np.zeros((batch_size, a), np.float32), policy_mask=np.zeros(batch_size, np.float32),
        value_target=np.zeros(batch_size, np.float32),
        ownership_target=np.zeros((batch_size, size * size), np.float32),
        ownership_mask=np.zeros(batch_size, np.float32), score_target=np.zeros(batch_size, np.float32),
        score_mask=np.zeros(batch_size, np.float32), symmetry=np.zeros(batch_size, np.int64))


@nb.njit(cache=True, nogil=True, inline="always")
def _sample_features(feature_code, history, empty_board, point_locs, locs, colors, stones, m, t,
                     b, color_hist, move_hist, scratch):
    """Encode the position before move m (move t of its game) into `scratch` [C, N, N]; `b`,
    `color_hist` and `move_hist` are working space."""
    num_points = point_locs.shape[0]
    hist_len = min(t + 1, history)
    moves_len = min(t, history)
    for j in range(history):
        if j < hist_len:
            color_hist[j] = empty_board[COLOR]  # the wall border, as a board's COLOR row has
            row = stones[m - j]
            for p in range(num_points):
                color_hist[j, point_locs[p]] = row[p]
        else:
            color_hist[j] = 0
    move_hist[:] = -1
    for j in range(moves_len):
        move_hist[j] = locs[m - 1 - j]
    if feature_code != AGZ:
        # Sets other than AGZ read chains, liberties and the ko point from the board: rebuild
        # the position before the previous move and play that move, which sets the ko point
        # exactly as a replay from the start does.
        b[COLOR] = empty_board[COLOR]
        b[INFO] = empty_board[INFO]  # rebuild() recomputes every row but COLOR and INFO
        row = stones[m - 1] if t > 0 else stones[m]
        for p in range(num_points):
            b[COLOR, point_locs[p]] = row[p]
        rebuild(b)
        if t > 0:
            play(b, locs[m - 1], colors[m - 1])
    encode(feature_code, b, color_hist, hist_len, move_hist, moves_len, colors[m], scratch)


@nb.njit(cache=True, nogil=True, inline="always")
def _sample_targets(i, g, m, k, mover, num_points, full_search, policy_offsets, policy_actions,
                    policy_weights, result, score, ownership, has_ownership, point_perm, inverse_perm,
                    policy_target, policy_mask, value_target, ownership_target, ownership_mask,
                    score_target, score_mask):
    """Row i of every target for move m of game g under symmetry k, from the mover's view."""
    policy_target[i, :] = 0.0
    policy_mask[i] = 0.0
    if full_search[m]:
        total = 0.0
        for e in range(policy_offsets[m], policy_offsets[m + 1]):
            total += policy_weights[e]
        if total > 0.0:
            for e in range(policy_offsets[m], policy_offsets[m + 1]):
                a = policy_actions[e]
                j = a if a == num_points else inverse_perm[k, a]
                policy_target[i, j] += policy_weights[e] / total
            policy_mask[i] = 1.0

    sign = 1.0 if mover == BLACK else -1.0
    value_target[i] = sign * result[g]
    if np.isnan(score[g]):
        score_target[i] = 0.0
        score_mask[i] = 0.0
    else:
        score_target[i] = sign * score[g]
        score_mask[i] = 1.0
    if has_ownership[g]:
        for p in range(num_points):
            owner = ownership[g, point_perm[k, p]]
            ownership_target[i, p] = 1.0 if owner == mover else (0.0 if owner == 0 else -1.0)
        ownership_mask[i] = 1.0
    else:
        ownership_target[i, :] = 0.0
        ownership_mask[i] = 0.0


@nb.njit(cache=True, nogil=True)
def _fill_batch(feature_code, history, empty_board,
                game_offsets, locs, colors, stones, full_search, policy_offsets, policy_actions,
                policy_weights, result, score, ownership, has_ownership,
                sample_game, sample_move, sample_sym, point_perm, inverse_perm,
                features, policy_target, policy_mask, value_target, ownership_target, ownership_mask,
                score_target, score_mask):
    """Fill row i of every output for (game sample_game[i], position before move sample_move[i],
    symmetry sample_sym[i]); `features` is viewed as uint8[B, C, N*N].

    The histories come from the stored stones and moves; the result equals
    `encode_game_positions` over the whole game (tests/test_training.py checks it)."""
    n = empty_board[INFO, SIZE]
    w = n + 2
    num_points = n * n
    point_locs = np.empty(num_points, np.int64)
    for p in range(num_points):
        point_locs[p] = (p // n + 1) * w + p % n + 1
    num_planes = features.shape[1]
    scratch = np.zeros((num_planes, n, n), np.uint8)
    flat = scratch.reshape(num_planes, num_points)
    b = empty_board.copy()
    color_hist = np.zeros((history, b.shape[1]), np.int8)
    move_hist = np.full(history, -1, np.int64)
    for i in range(sample_game.shape[0]):
        g = sample_game[i]
        t = sample_move[i]
        m = game_offsets[g] + t
        _sample_features(feature_code, history, empty_board, point_locs, locs, colors, stones, m, t,
                         b, color_hist, move_hist, scratch)
        k = sample_sym[i]
        for c in range(num_planes):
            for p in range(num_points):
                features[i, c, p] = flat[c, point_perm[k, p]]
        _sample_targets(i, g, m, k, colors[m], num_points, full_search, policy_offsets, policy_actions,
                        policy_weights, result, score, ownership, has_ownership, point_perm, inverse_perm,
                        policy_target, policy_mask, value_target, ownership_target, ownership_mask,
                        score_target, score_mask)


def _permutation_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """point_perm[k]: transformed[..., p] = original[..., point_perm[k, p]]; inverse_perm[k] the
    inverse map (where original point q lands)."""
    perm = np.stack([point_permutation(k, size) for k in range(NUM_SYMMETRIES)]).astype(np.int64)
    inverse = np.argsort(perm, axis=1).astype(np.int64)
    return perm, inverse


class SampleStream:
    """Endless batches of `batch_size` samples from `window` for a network of `net_config`.

    Positions are drawn uniformly (with replacement) from the window's sample positions; with
    `max_samples_per_game` = c, a game of m > c positions has each drawn with weight c/m, so no
    game contributes more than c positions' worth of samples on average. `symmetries=False`
    keeps every sample in its original orientation. The window is read afresh for every batch,
    so `window.refresh()` takes effect at the next batch (the next-but-`prefetch` with a
    background thread). `prefetch` batches are built ahead on a background thread (use 2 when
    training on a GPU; on a CPU the trainer needs every core); call `close()` (or use `with`)
    to stop it.
    """

    def __init__(self, window: ReplayWindow, net_config, batch_size: int, seed: int = 0, *,
                 max_samples_per_game: Optional[int] = None, symmetries: bool = True, prefetch: int = 0):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.window = window
        self.feature_set = get_feature_set(net_config.feature_set)
        if self.feature_set.num_planes != net_config.in_planes:
            raise ValueError(f"feature set {self.feature_set.name} has {self.feature_set.num_planes} planes, "
                             f"the network takes {net_config.in_planes}")
        self.batch_size = int(batch_size)
        self.max_samples_per_game = max_samples_per_game
        self.symmetries = symmetries
        self.rng = np.random.default_rng(seed)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._weights_for: tuple[Optional[GameArrays], Optional[np.ndarray]] = (None, None)
        self.prefetch = int(prefetch)
        self._queue: Optional[queue.Queue] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        if self.prefetch > 0:
            self._queue = queue.Queue(maxsize=self.prefetch)
            self._thread = threading.Thread(target=self._produce, name="sample-stream", daemon=True)
            self._thread.start()

    # --- the data ------------------------------------------------------------------------------

    def _size_tables(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if size not in self._tables:
            self._tables[size] = (new_board(size), *_permutation_tables(size))
        return self._tables[size]

    def _game_cdf(self, games: GameArrays) -> np.ndarray:
        """Cumulative sampling weight per game (cached per window version)."""
        cached_games, cdf = self._weights_for
        if cached_games is not games or cdf is None:
            weights = games.playable.astype(np.float64)
            if self.max_samples_per_game is not None:
                weights = np.minimum(weights, float(self.max_samples_per_game))
            cdf = np.cumsum(weights)
            self._weights_for = (games, cdf)
        return cdf

    def sample_indices(self, games: GameArrays, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(game, move-within-game) of `count` random sample positions."""
        cdf = self._game_cdf(games)
        if cdf.shape[0] == 0 or cdf[-1] <= 0:
            raise ValueError("the replay window has no positions to sample")
        draws = self.rng.random(count) * cdf[-1]
        game = np.minimum(np.searchsorted(cdf, draws, side="right"), cdf.shape[0] - 1)
        if self.max_samples_per_game is None:
            # The draw already lands uniformly inside its game's span of the cdf.
            start = cdf[game] - games.playable[game]
            move = np.minimum((draws - start).astype(np.int64), games.playable[game] - 1)
        else:
            move = (self.rng.random(count) * games.playable[game]).astype(np.int64)
        return game.astype(np.int64), move.astype(np.int64)

    def make_batch(self, games: GameArrays, game_index: np.ndarray, move_index: np.ndarray,
                   symmetry: np.ndarray) -> TrainingBatch:
        """The samples (game_index[i], position before move move_index[i], symmetry[i]) of
        `games`, in order. Raises ValueError for a position that is not a sample position."""
        game_index = np.asarray(game_index, np.int64)
        move_index = np.asarray(move_index, np.int64)
        symmetry = np.asarray(symmetry, np.int64)
        if np.any((game_index < 0) | (game_index >= games.num_games)):
            raise ValueError("game index out of range")
        if np.any((move_index < 0) | (move_index >= games.playable[game_index])):
            raise ValueError("move index is not a sample position of its game")
        if np.any((symmetry < 0) | (symmetry >= NUM_SYMMETRIES)):
            raise ValueError("symmetry must be in 0..7")
        return self._fill(games, game_index, move_index, symmetry)

    def _fill(self, games: GameArrays, game_index: np.ndarray, move_index: np.ndarray,
              symmetry: np.ndarray) -> TrainingBatch:
        size = games.size
        board, perm, inverse = self._size_tables(size)
        fs = self.feature_set
        out = empty_batch(game_index.shape[0], fs.num_planes, size)
        _fill_batch(fs.code, fs.history, board,
                    games.game_offsets, games.locs, games.colors, games.stones, games.full_search,
                    games.policy_offsets, games.policy_actions, games.policy_weights, games.result,
                    games.score, games.ownership, games.has_ownership,
                    game_index, move_index, symmetry, perm, inverse,
                    out.features.reshape(out.features.shape[0], fs.num_planes, size * size),
                    out.policy_target, out.policy_mask, out.value_target, out.ownership_target,
                    out.ownership_mask, out.score_target, out.score_mask)
        out.symmetry[:] = symmetry
        return out

    def next_batch(self) -> TrainingBatch:
        """One batch, built on the calling thread."""
        games = self.window.games
        game_index, move_index = self.sample_indices(games, self.batch_size)
        if self.symmetries:
            symmetry = self.rng.integers(0, NUM_SYMMETRIES, self.batch_size).astype(np.int64)
        else:
            symmetry = np.zeros(self.batch_size, np.int64)
        return self._fill(games, game_index, move_index, symmetry)

    # --- iteration and the background thread --------------------------------------------------

    def _produce(self) -> None:
        assert self._queue is not None
        while not self._stop.is_set():
            try:
                item: object = self.next_batch()
            except BaseException as e:  # handed to the consumer, which re-raises it
                item = e
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(item, BaseException):
                return

    def __iter__(self) -> "SampleStream":
        return self

    def __next__(self) -> TrainingBatch:
        if self._queue is None:
            return self.next_batch()
        if self._thread is None:
            raise RuntimeError("the sample stream is closed")
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> "SampleStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
