"""The replay window: the newest self-play games of a run, held as flat numpy arrays.

`ReplayWindow(records_dir, window_games)` reads the chunk files of `selfplay.records` (oldest
first by name) and keeps the newest `window_games` games of one board size. A chunk that cannot
be read is quarantined (`selfplay.records.quarantine_chunk`) and the window does without it. Parsed chunks are
cached by (path, mtime, size), so `refresh()` after new chunks appear reads only the new files.
Chunks are read straight from their npz arrays (the layout documented in `selfplay.records`),
not through `PlayedGame` objects, so a window of millions of moves loads in well under a second.

`window.games` is a `GameArrays` (below): every game of the window concatenated, G games and M
moves (positions) in all. A position is "the position before move m"; every position is a value
sample, and positions whose move had a full search are also policy samples (playout cap
randomisation keeps cheap searches out of the policy loss).

| field            | dtype   | shape       | meaning                                                |
|------------------|---------|-------------|--------------------------------------------------------|
| size             | int     |             | board size N of every game                             |
| game_offsets     | int64   | [G+1]       | moves of game g are [offsets[g], offsets[g+1])         |
| playable         | int64   | [G]         | leading moves of game g that replay onto empty points  |
|                  |         |             | (all of them for a sound record): its sample positions |
| locs             | int64   | [M]         | move played, as a loc (`coords.py`; pass 0)            |
| colors           | int64   | [M]         | colour that played it: the player to move (1 B, 2 W)   |
| stones           | int8    | [M, N*N]    | the position before move m: colour per point (0 empty, |
|                  |         |             | 1 B, 2 W), action order; from one replay at load time  |
| full_search      | bool    | [M]         | its search is a policy target                          |
| policy_offsets   | int64   | [M+1]       | policy entries of move m                               |
| policy_actions   | int16   | [P]         | actions with visits (pass N*N)                         |
| policy_weights   | float32 | [P]         | visit counts or target mass (not normalised)           |
| setup_offsets    | int64   | [G+1]       | setup stones of game g                                 |
| setup_locs       | int64   | [S]         | their locs                                             |
| setup_colors     | int8    | [S]         | their colours                                          |
| result           | float32 | [G]         | +1 Black won, -1 White won, 0 draw                     |
| score            | float32 | [G]         | Black's area minus White's minus komi; NaN if resigned |
| resigned         | int8    | [G]         | 0, or the colour that resigned                         |
| ownership        | int8    | [G, N*N]    | final owner per point (1 B, 2 W, 0 none), action order |
| has_ownership    | bool    | [G]         | ownership is a training target: a game played out to   |
|                  |         |             | the end (not resigned) whose record holds ownership    |

Colours alternate as `selfplay.records` describes (`first_player`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numba as nb
import numpy as np

from goengine.board import COLOR, EMPTY, INFO, SIZE, new_board, play, rebuild
from goengine.coords import locs_of_actions
from selfplay.records import RecordError, chunk_paths, first_player, load_chunk_arrays, quarantine_chunk


@dataclass(frozen=True)
class GameArrays:
    """Games of one board size as flat arrays; see the module docstring for every field."""

    size: int
    game_offsets: np.ndarray
    playable: np.ndarray
    locs: np.ndarray
    colors: np.ndarray
    stones: np.ndarray
    full_search: np.ndarray
    policy_offsets: np.ndarray
    policy_actions: np.ndarray
    policy_weights: np.ndarray
    setup_offsets: np.ndarray
    setup_locs: np.ndarray
    setup_colors: np.ndarray
    result: np.ndarray
    score: np.ndarray
    resigned: np.ndarray
    ownership: np.ndarray
    has_ownership: np.ndarray

    @property
    def num_games(self) -> int:
        return int(self.result.shape[0])

    @property
    def num_positions(self) -> int:
        """Positions that can be sampled (every playable move's position)."""
        return int(self.playable.sum())

    @property
    def num_policy_positions(self) -> int:
        """Sample positions whose move had a full search."""
        starts = self.game_offsets[:-1]
        index = np.arange(self.locs.shape[0]) - np.repeat(starts, np.diff(self.game_offsets))
        in_play = index < np.repeat(self.playable, np.diff(self.game_offsets))
        return int(np.count_nonzero(self.full_search & in_play))

    def select(self, first: int, stop: int) -> "GameArrays":
        """Games [first, stop) as a new GameArrays (offsets rebased to zero)."""
        go, po, so = self.game_offsets, self.policy_offsets, self.setup_offsets
        m0, m1 = int(go[first]), int(go[stop])
        p0, p1 = int(po[m0]), int(po[m1])
        s0, s1 = int(so[first]), int(so[stop])
        return GameArrays(
            size=self.size, game_offsets=go[first:stop + 1] - m0, playable=self.playable[first:stop],
            locs=self.locs[m0:m1], colors=self.colors[m0:m1], stones=self.stones[m0:m1], full_search=self.full_search[m0:m1],
            policy_offsets=po[m0:m1 + 1] - p0, policy_actions=self.policy_actions[p0:p1],
            policy_weights=self.policy_weights[p0:p1], setup_offsets=so[first:stop + 1] - s0,
            setup_locs=self.setup_locs[s0:s1], setup_colors=self.setup_colors[s0:s1],
            result=self.result[first:stop], score=self.score[first:stop],
            resigned=self.resigned[first:stop], ownership=self.ownership[first:stop],
            has_ownership=self.has_ownership[first:stop])


def _rebase_concat(offset_arrays: list[np.ndarray]) -> np.ndarray:
    """Concatenate offset arrays [n_i + 1] (each starting at 0) into one [sum n_i + 1]."""
    parts, base = [np.zeros(1, np.int64)], 0
    for offsets in offset_arrays:
        parts.append(offsets[1:] + base)
        base += int(offsets[-1])
    return np.concatenate(parts).astype(np.int64)


def concat_games(parts: list[GameArrays], size: int) -> GameArrays:
    """All games of `parts` (each of board size `size`) in order, as one GameArrays."""
    parts = [p for p in parts if p.num_games > 0]
    if not parts:
        return empty_games(size)

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return GameArrays(
        size=size, game_offsets=_rebase_concat([p.game_offsets for p in parts]), playable=cat("playable"),
        locs=cat("locs"), colors=cat("colors"), stones=cat("stones"), full_search=cat("full_search"),
        policy_offsets=_rebase_concat([p.policy_offsets for p in parts]),
        policy_actions=cat("policy_actions"), policy_weights=cat("policy_weights"),
        setup_offsets=_rebase_concat([p.setup_offsets for p in parts]), setup_locs=cat("setup_locs"),
        setup_colors=cat("setup_colors"), result=cat("result"), score=cat("score"),
        resigned=cat("resigned"), ownership=np.concatenate([p.ownership for p in parts]),
        has_ownership=cat("has_ownership"))


def empty_games(size: int) -> GameArrays:
    zero = np.zeros(1, np.int64)
    return GameArrays(
        size=size, game_offsets=zero, playable=np.zeros(0, np.int64), locs=np.zeros(0, np.int64),
        colors=np.zeros(0, np.int64), stones=np.zeros((0, size * size), np.int8),
        full_search=np.zeros(0, np.bool_), policy_offsets=zero,
        policy_actions=np.zeros(0, np.int16), policy_weights=np.zeros(0, np.float32),
        setup_offsets=zero, setup_locs=np.zeros(0, np.int64), setup_colors=np.zeros(0, np.int8),
        result=np.zeros(0, np.float32), score=np.zeros(0, np.float32), resigned=np.zeros(0, np.int8),
        ownership=np.zeros((0, size * size), np.int8), has_ownership=np.zeros(0, np.bool_))


@nb.njit(cache=True)
def _replay_games(empty_board, game_offsets, locs, colors, setup_offsets, setup_locs, setup_colors,
                  playable, stones):
    """Replay every game: playable[g] = how many leading moves of game g land on empty points,
    stones[m] = the COLOR of the position before move m (action order) for those moves."""
    n = empty_board[INFO, SIZE]
    w = n + 2
    b = empty_board.copy()
    for g in range(playable.shape[0]):
        b[:] = empty_board
        s0, s1 = setup_offsets[g], setup_offsets[g + 1]
        for s in range(s0, s1):
            b[COLOR, setup_locs[s]] = setup_colors[s]
        if s1 > s0:
            rebuild(b)
        m0, m1 = game_offsets[g], game_offsets[g + 1]
        done = m1 - m0
        for m in range(m0, m1):
            for r in range(n):
                for c in range(n):
                    stones[m, r * n + c] = b[COLOR, (r + 1) * w + c + 1]
            loc = locs[m]
            if loc != 0 and b[COLOR, loc] != EMPTY:
                done = m - m0
                break
            play(b, loc, colors[m])
        playable[g] = done


def load_chunk_games(path: str | os.PathLike, size: Optional[int] = None) -> GameArrays:
    """The games of one chunk file of board size `size` (default: the chunk's last game's size),
    read by `selfplay.records.load_chunk_arrays`. Raises RecordError for a missing, corrupt or
    unknown file."""
    path = Path(path)
    d = load_chunk_arrays(path)
    sizes = d["board_size"].astype(np.int64)
    if size is None:
        if sizes.shape[0] == 0:
            raise RecordError(f"{path}: a chunk without games")
        size = int(sizes[-1])
    keep = np.flatnonzero(sizes == size)
    go, po, so = d["game_offsets"], d["policy_offsets"], d["setup_offsets"]
    move_index = np.concatenate([np.arange(go[g], go[g + 1]) for g in keep]) if keep.size else np.zeros(0, np.int64)
    setup_index = np.concatenate([np.arange(so[g], so[g + 1]) for g in keep]) if keep.size else np.zeros(0, np.int64)
    moves_per_game = (go[keep + 1] - go[keep]).astype(np.int64)
    game_offsets = np.concatenate([[0], np.cumsum(moves_per_game)]).astype(np.int64)

    actions = d["actions"][move_index].astype(np.int64)
    # Policy entries of the kept moves, gathered in move order.
    p_lengths = (po[move_index + 1] - po[move_index]).astype(np.int64)
    policy_offsets = np.concatenate([[0], np.cumsum(p_lengths)]).astype(np.int64)
    p_index = (np.repeat(po[move_index] - policy_offsets[:-1], p_lengths) + np.arange(int(policy_offsets[-1])))
    policy_actions = d["policy_actions"][p_index].astype(np.int16)

    handicap = d["handicap"][keep]
    setup_lengths = (so[keep + 1] - so[keep]).astype(np.int64)
    first = first_player(handicap, setup_lengths).astype(np.int64)
    parity = np.arange(actions.shape[0]) - np.repeat(game_offsets[:-1], moves_per_game)
    first_per_move = np.repeat(first, moves_per_game)
    colors = np.where(parity % 2 == 0, first_per_move, 3 - first_per_move).astype(np.int64)

    resigned = d["resigned"][keep].astype(np.int8)
    ownership = d["ownership"][keep, :size * size].astype(np.int8)
    games = GameArrays(
        size=size, game_offsets=game_offsets, playable=np.zeros(keep.size, np.int64),
        locs=locs_of_actions(actions, size), colors=colors,
        stones=np.zeros((actions.shape[0], size * size), np.int8),
        full_search=d["full_search"][move_index].astype(np.bool_),
        policy_offsets=policy_offsets, policy_actions=policy_actions,
        policy_weights=d["policy_weights"][p_index].astype(np.float32),
        setup_offsets=np.concatenate([[0], np.cumsum(setup_lengths)]).astype(np.int64),
        setup_locs=d["setup_locs"][setup_index].astype(np.int64),
        setup_colors=d["setup_colors"][setup_index].astype(np.int8),
        result=d["result"][keep].astype(np.float32), score=d["score"][keep].astype(np.float32),
        resigned=resigned, ownership=ownership,
        has_ownership=(resigned == 0) & np.any(ownership != 0, axis=1))
    _replay_games(new_board(size), games.game_offsets, games.locs, games.colors, games.setup_offsets,
                  games.setup_locs, games.setup_colors, games.playable, games.stones)
    return games


class ReplayWindow:
    """The newest `window_games` games of board size `board_size` (default: the size of the
    newest game) among the chunk files in `records_dir`.

    `refresh()` picks up new or rewritten chunks (and forgets deleted ones), reading only files
    it has not parsed before; it is cheap when nothing changed (one directory listing and a
    stat per file). The constructor refreshes once. `games` is replaced, never mutated, so a
    reader holding the old `GameArrays` is unaffected by a refresh.
    """

    def __init__(self, records_dir: str | os.PathLike, window_games: int, board_size: Optional[int] = None,
                 report: Optional[Callable[[str], None]] = None):
        if window_games < 1:
            raise ValueError(f"window_games must be at least 1, got {window_games}")
        self.records_dir = Path(records_dir)
        self.window_games = int(window_games)
        self.board_size = board_size
        self.report = report  # where a quarantined chunk is named (None: the logging module)
        self.quarantined: list[Path] = []
        self._cache: dict[Path, tuple[tuple[int, int], GameArrays]] = {}
        self._signature: tuple = ()
        self.games: GameArrays = empty_games(board_size or 2)
        self.version = 0  # bumped whenever `games` changes
        self.refresh()

    def _stamp(self, path: Path) -> tuple[int, int]:
        st = path.stat()
        return st.st_mtime_ns, st.st_size

    def _chunk(self, path: Path, stamp: tuple[int, int]) -> Optional[GameArrays]:
        """The chunk's games; None for a chunk that cannot be read, which is quarantined."""
        cached = self._cache.get(path)
        if cached is None or cached[0] != stamp:
            try:
                cached = (stamp, load_chunk_games(path, self.board_size))
            except RecordError as e:
                self.quarantined.append(quarantine_chunk(path, e, self.report))
                return None
            self._cache[path] = cached
        return cached[1]

    def refresh(self) -> bool:
        """Re-read the folder; returns True when the window changed."""
        paths = chunk_paths(self.records_dir)
        stamps = []
        for p in paths:
            try:
                stamps.append((p, self._stamp(p)))
            except FileNotFoundError:  # removed between the listing and the stat
                continue
        signature = tuple((str(p), s) for p, s in stamps)
        if signature == self._signature:
            return False
        for p, stamp in reversed(stamps if self.board_size is None else ()):
            newest = self._chunk(p, stamp)
            if newest is not None:
                self.board_size = newest.size
                break
        size = self.board_size or 2
        chosen: list[GameArrays] = []
        used: set[Path] = set()
        remaining = self.window_games
        for p, stamp in reversed(stamps):
            if remaining <= 0:
                break
            games = self._chunk(p, stamp)
            if games is None:
                continue
            used.add(p)
            if games.num_games > remaining:
                games = games.select(games.num_games - remaining, games.num_games)
            chosen.append(games)
            remaining -= games.num_games
        # Chunks only ever leave the window at its old end, so parsed ones outside it are dropped.
        for p in list(self._cache):
            if p not in used:
                del self._cache[p]
        self.games = concat_games(list(reversed(chosen)), size)
        self._signature = signature
        self.version += 1
        return True

    @property
    def num_games(self) -> int:
        return self.games.num_games

    @property
    def num_positions(self) -> int:
        """Value samples: every position of the window."""
        return self.games.num_positions

    @property
    def num_policy_positions(self) -> int:
        """Policy samples: positions searched in full."""
        return self.games.num_policy_positions

    def __repr__(self) -> str:
        return (f"ReplayWindow({str(self.records_dir)!r}, window_games={self.window_games}: "
                f"{self.num_games} games, {self.num_positions} positions, "
                f"{self.num_policy_positions} policy positions)")
