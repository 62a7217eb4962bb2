"""Shards of expert positions: the compact on-disk form of replayed SGF games, and readers.

A shard is one `.npz` file (numpy's zip of arrays, written compressed and atomically) holding
whole games, their positions stored one after another in move order. N is the board size, G
the games, P the positions (one per move of each game, passes included), S = ceil(N*N / 4).

| key             | dtype   | shape   | meaning                                                    |
|-----------------|---------|---------|------------------------------------------------------------|
| format_version  | int64   | []      | FORMAT_VERSION                                             |
| board_size      | int64   | []      | N                                                          |
| game_offsets    | int64   | [G + 1] | game g's positions are game_offsets[g] .. [g + 1] - 1      |
| game_names      | str     | [G]     | "<archive>:<member>" or the SGF path (sgf_archive names)   |
| game_winner     | int8    | [G]     | 1 black won, 2 white won, 0 draw, void or unknown (RE)      |
| game_komi       | float32 | [G]     | komi                                                       |
| game_handicap   | int8    | [G]     | HA (0 for even games)                                      |
| game_ranks      | int8    | [G, 2]  | black's and white's rank as `filters.rank_value`           |
| stones          | uint8   | [P, S]  | the position before the move, 2 bits per point (below)     |
| to_play         | uint8   | [P]     | colour making the move: 1 black, 2 white                   |
| move            | int16   | [P]     | the move played, an action: row * N + col, pass = N * N    |
| ko              | int16   | [P]     | the simple-ko point barred to `to_play` (action), -1 none  |
| move_number     | int16   | [P]     | 0-based index of the move in its game                      |

Stones: point p = row * N + col (action order, from the top-left) is bits 2*(p % 4) .. +1 of
byte p // 4: 0 empty, 1 black, 2 white. Handicap stones (games kept with --allow-handicap) are
part of the first position. The first position of the game holding position m is
m - move_number[m], so the history a feature set needs is read from the positions before m:
colour rows stones[m - j] for j <= min(move_number[m], 7), and moves move[m - 1 - j] for
j < min(move_number[m], 8). That is what `position_history` returns; `position_board` rebuilds
the goengine board (chains, liberties, ko point) of one position. A game keeps no SGF text:
the arrays replay it exactly, and 19x19 costs about 95 bytes a position before compression
(consecutive positions differ by a stone or a capture, so zlib shrinks shards about tenfold).

`iter_shard_samples(paths)` yields one `Sample` per position for readers that want Python
objects (value and rollout training); `load_shard` / `load_shards` give the arrays.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

import numba as nb
import numpy as np

from goengine.board import COLOR, INFO, KO_COLOR, KO_LOC, new_board, rebuild
from goengine.coords import PASS_LOC, loc_of_action

from goengine.atomic import atomic_write

FORMAT_VERSION = 1
HISTORY = 8
SHARD_SUFFIX = ".npz"


class Shard(NamedTuple):
    board_size: int
    game_offsets: np.ndarray
    game_names: np.ndarray
    game_winner: np.ndarray
    game_komi: np.ndarray
    game_handicap: np.ndarray
    game_ranks: np.ndarray
    stones: np.ndarray
    to_play: np.ndarray
    move: np.ndarray
    ko: np.ndarray
    move_number: np.ndarray

    @property
    def num_games(self) -> int:
        return int(self.game_offsets.shape[0] - 1)

    @property
    def num_positions(self) -> int:
        return int(self.move.shape[0])

    def game_of(self, positions: np.ndarray | int) -> np.ndarray:
        """The game index of each position."""
        return np.searchsorted(self.game_offsets, positions, side="right") - 1


_GAME_FIELDS = ("game_names", "game_winner", "game_komi", "game_handicap", "game_ranks")
_POSITION_FIELDS = ("stones", "to_play", "move", "ko", "move_number")
_DTYPES = {"game_offsets": np.int64, "game_winner": np.int8, "game_komi": np.float32,
           "game_handicap": np.int8, "game_ranks": np.int8, "stones": np.uint8, "to_play": np.uint8,
           "move": np.int16, "ko": np.int16, "move_number": np.int16}


def packed_width(size: int) -> int:
    return (size * size + 3) // 4


def empty_shard(size: int) -> Shard:
    return Shard(size, np.zeros(1, np.int64), np.zeros(0, "<U1"), np.zeros(0, np.int8),
                 np.zeros(0, np.float32), np.zeros(0, np.int8), np.zeros((0, 2), np.int8),
                 np.zeros((0, packed_width(size)), np.uint8), np.zeros(0, np.uint8),
                 np.zeros(0, np.int16), np.zeros(0, np.int16), np.zeros(0, np.int16))


# --- packing ---------------------------------------------------------------------------------

@nb.njit(cache=True, nogil=True)
def pack_colors(color_row, size, out):
    """The COLOR row of a board (int [L], padded) into `out` (uint8[S]), 2 bits a point."""
    w = size + 2
    out[:] = 0
    for r in range(size):
        for c in range(size):
            p = r * size + c
            out[p >> 2] |= np.uint8(color_row[(r + 1) * w + c + 1] << (2 * (p & 3)))


@nb.njit(cache=True, nogil=True)
def unpack_colors(packed, size, color_row):
    """The inverse of `pack_colors`: writes every on-board point of `color_row`, leaving the
    wall border as it is."""
    w = size + 2
    for r in range(size):
        for c in range(size):
            p = r * size + c
            color_row[(r + 1) * w + c + 1] = (packed[p >> 2] >> (2 * (p & 3))) & 3


def colors_of(shard: Shard, m: int) -> np.ndarray:
    """uint8[N, N] colours of position m (0 empty, 1 black, 2 white), row 0 the top."""
    n = shard.board_size
    bits = np.unpackbits(shard.stones[m][:, None], axis=1, bitorder="little").reshape(-1, 2)
    return (bits[: n * n, 0] + 2 * bits[: n * n, 1]).astype(np.uint8).reshape(n, n)


# --- one position ----------------------------------------------------------------------------

def position_board(shard: Shard, m: int) -> np.ndarray:
    """The goengine board of position m (chains, liberties, hash rebuilt; the ko point set)."""
    n = shard.board_size
    board = new_board(n)
    unpack_colors(shard.stones[m], n, board[COLOR])
    rebuild(board)
    ko = int(shard.ko[m])
    if ko >= 0:
        board[INFO, KO_LOC] = loc_of_action(ko, n)
        board[INFO, KO_COLOR] = int(shard.to_play[m])
    return board


def position_history(shard: Shard, m: int, history: int = HISTORY) -> tuple[np.ndarray, int, np.ndarray, int]:
    """(color_hist int8[H, L], hist_len, move_hist int64[H], moves_len) of position m, as the
    feature encoders (`goengine.features.encode`) take them: row 0 / entry 0 the most recent."""
    n = shard.board_size
    t = int(shard.move_number[m])
    wall = new_board(n)[COLOR]
    color_hist = np.zeros((history, wall.shape[0]), np.int8)
    hist_len = min(t + 1, history)
    for j in range(hist_len):
        color_hist[j] = wall
        unpack_colors(shard.stones[m - j], n, color_hist[j])
    move_hist = np.full(history, -1, np.int64)
    moves_len = min(t, history)
    for j in range(moves_len):
        a = int(shard.move[m - 1 - j])
        move_hist[j] = PASS_LOC if a == n * n else loc_of_action(a, n)
    return color_hist, hist_len, move_hist, moves_len


class Sample(NamedTuple):
    """One position of a shard, for readers that work position by position."""
    shard: Shard
    index: int  # position index in the shard
    game: int  # game index in the shard

    @property
    def game_name(self) -> str:
        return str(self.shard.game_names[self.game])

    @property
    def winner(self) -> int:
        return int(self.shard.game_winner[self.game])

    @property
    def komi(self) -> float:
        return float(self.shard.game_komi[self.game])

    @property
    def move_number(self) -> int:
        return int(self.shard.move_number[self.index])

    @property
    def to_play(self) -> int:
        return int(self.shard.to_play[self.index])

    @property
    def move(self) -> int:
        """The action played (pass = N*N)."""
        return int(self.shard.move[self.index])

    @property
    def colors(self) -> np.ndarray:
        return colors_of(self.shard, self.index)

    @property
    def recent_moves(self) -> list[int]:
        """Actions of the moves before this position, most recent first (up to HISTORY)."""
        t = min(self.move_number, HISTORY)
        return [int(a) for a in self.shard.move[self.index - t:self.index][::-1]]

    def board(self) -> np.ndarray:
        return position_board(self.shard, self.index)

    def history(self, history: int = HISTORY) -> tuple[np.ndarray, int, np.ndarray, int]:
        return position_history(self.shard, self.index, history)


def iter_shard_samples(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> Iterator[Sample]:
    """Every position of the given shard files (or of every shard in a folder), game by game
    in the order stored."""
    for path in shard_paths(paths):
        shard = load_shard(path)
        games = shard.game_of(np.arange(shard.num_positions))
        for m in range(shard.num_positions):
            yield Sample(shard, m, int(games[m]))


# --- files -----------------------------------------------------------------------------------

def shard_paths(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Shard files named directly, or every *.npz in a named folder (sorted)."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        out += sorted(p.glob("*" + SHARD_SUFFIX)) if p.is_dir() else [p]
    return out


def save_shard(path: str | os.PathLike, shard: Shard) -> Path:
    """Write the shard compressed and atomically."""
    arrays = {"format_version": np.int64(FORMAT_VERSION), "board_size": np.int64(shard.board_size),
              "game_offsets": shard.game_offsets}
    for name in _GAME_FIELDS + _POSITION_FIELDS:
        arrays[name] = getattr(shard, name)
    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def load_shard(path: str | os.PathLike) -> Shard:
    with np.load(path, allow_pickle=False) as data:
        version = int(data["format_version"])
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: shard format {version}, this code reads {FORMAT_VERSION}")
        fields = {name: data[name] for name in ("game_offsets",) + _GAME_FIELDS + _POSITION_FIELDS}
        return Shard(board_size=int(data["board_size"]), **fields)


def load_shards(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> Shard:
    """The shards (files, or folders of them) joined into one."""
    return concat_shards([load_shard(p) for p in shard_paths(paths)])


# --- joining and selecting -------------------------------------------------------------------

def concat_shards(shards: Sequence[Shard]) -> Shard:
    if not shards:
        raise ValueError("no shards to join")
    sizes = {s.board_size for s in shards}
    if len(sizes) != 1:
        raise ValueError(f"shards of different board sizes {sorted(sizes)}")
    if len(shards) == 1:
        return shards[0]
    offsets = [np.zeros(1, np.int64)]
    base = 0
    for s in shards:
        offsets.append(s.game_offsets[1:] + base)
        base += s.num_positions
    fields = {name: np.concatenate([getattr(s, name) for s in shards])
              for name in _GAME_FIELDS + _POSITION_FIELDS}
    return Shard(board_size=shards[0].board_size, game_offsets=np.concatenate(offsets), **fields)


def select_games(shard: Shard, games: np.ndarray | Sequence[int]) -> Shard:
    """A shard of the given games, in the given order."""
    games = np.asarray(games, np.int64)
    starts = shard.game_offsets[games]
    lengths = shard.game_offsets[games + 1] - starts
    offsets = np.zeros(games.shape[0] + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    positions = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    fields = {name: getattr(shard, name)[games] for name in _GAME_FIELDS}
    fields.update({name: getattr(shard, name)[positions] for name in _POSITION_FIELDS})
    return Shard(board_size=shard.board_size, game_offsets=offsets, **fields)


def check_shard(shard: Shard) -> None:
    """Raise ValueError when the arrays disagree with each other (shapes, offsets, dtypes)."""
    g, p = shard.num_games, shard.num_positions
    if shard.game_offsets[0] != 0 or shard.game_offsets[-1] != p or np.any(np.diff(shard.game_offsets) < 1):
        raise ValueError("game_offsets must start at 0, end at the position count and increase")
    for name in _GAME_FIELDS:
        if getattr(shard, name).shape[0] != g:
            raise ValueError(f"{name} has {getattr(shard, name).shape[0]} rows for {g} games")
    for name in _POSITION_FIELDS:
        if getattr(shard, name).shape[0] != p:
            raise ValueError(f"{name} has {getattr(shard, name).shape[0]} rows for {p} positions")
    for name, dtype in _DTYPES.items():
        if getattr(shard, name).dtype != dtype:
            raise ValueError(f"{name} is {getattr(shard, name).dtype}, expected {np.dtype(dtype)}")
    if shard.stones.shape[1] != packed_width(shard.board_size):
        raise ValueError("stones rows have the wrong width for the board size")
    expected = np.arange(p) - np.repeat(shard.game_offsets[:-1], np.diff(shard.game_offsets))
    if not np.array_equal(shard.move_number, expected):
        raise ValueError("move_number must count 0, 1, ... within each game")
