"""Encoding positions into feature planes: the numba dispatcher the search calls, and the
whole-game encoder the dataset code calls.

The arrays a caller keeps (the search keeps exactly these while it replays a path):
- `board`: the board array of the current position (`board.py`).
- `color_hist`: int8 or int64 [H, L] COLOR rows, row 0 the current position, row 1 the one
  before the last move, ...; `hist_len` rows are valid (missing history planes stay zero).
- `move_hist`: int64 [H] locs of the most recent moves, index 0 the last (0 pass, -1 none);
  `moves_len` entries are valid.
- `to_play`: BLACK (1) or WHITE (2).
- `out`: uint8 [C, N, N], row 0 the top row (action order); filled completely.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numba as nb
import numpy as np

from ..board import BLACK, COLOR, EMPTY, INFO, SIZE, play
from .agz import encode_agz
from .alphago import encode_alphago, encode_alphago_value
from .registry import AGZ, ALPHAGO, ALPHAGO_VALUE, FeatureSet, get_feature_set


@nb.njit(cache=True)
def encode(feature_code, board, color_hist, hist_len, move_hist, moves_len, to_play, out):
    """Fill `out` with the planes of feature set `feature_code` (registry.py)."""
    if feature_code == AGZ:
        encode_agz(board, color_hist, hist_len, to_play, out)
    elif feature_code == ALPHAGO:
        encode_alphago(board, move_hist, moves_len, to_play, out)
    elif feature_code == ALPHAGO_VALUE:
        encode_alphago_value(board, move_hist, moves_len, to_play, out)
    else:
        raise ValueError("unknown feature-set code")


@nb.njit(cache=True)
def push_position(board, color_hist, hist_len, move_hist, moves_len, loc):
    """After `loc` was played on `board`, shift the histories by one: the board's COLOR row
    becomes color_hist row 0 and `loc` move_hist[0]. Returns (hist_len, moves_len)."""
    for t in range(color_hist.shape[0] - 1, 0, -1):
        color_hist[t] = color_hist[t - 1]
    color_hist[0] = board[COLOR]
    for t in range(move_hist.shape[0] - 1, 0, -1):
        move_hist[t] = move_hist[t - 1]
    move_hist[0] = loc
    return min(hist_len + 1, color_hist.shape[0]), min(moves_len + 1, move_hist.shape[0])


@nb.njit(cache=True)
def encode_game_positions(feature_code, history, board, moves, colors, out):
    """Replay `moves` (int64[M] locs, 0 pass) played by `colors` (int64[M]) from `board` (the
    position after any setup; left untouched) and encode the position before each move, for
    the player making it, into out[i] (uint8[M, C, N, N]). Stops at the first move onto an
    occupied point. Returns the number of positions encoded."""
    b = board.copy()
    num_locs = b.shape[1]
    color_hist = np.zeros((history, num_locs), np.int8)
    move_hist = np.full(history, -1, np.int64)
    color_hist[0] = b[COLOR]
    hist_len = 1
    moves_len = 0
    for i in range(moves.shape[0]):
        loc = moves[i]
        if loc != 0 and b[COLOR, loc] != EMPTY:
            return i
        encode(feature_code, b, color_hist, hist_len, move_hist, moves_len, colors[i], out[i])
        play(b, loc, colors[i])
        hist_len, moves_len = push_position(b, color_hist, hist_len, move_hist, moves_len, loc)
    return moves.shape[0]


def encode_game(feature_set: FeatureSet | str, board: np.ndarray, moves: Sequence[int],
                colors: Optional[Sequence[int]] = None, first_to_play: int = BLACK) -> np.ndarray:
    """uint8[M, C, N, N]: the features of the position before each of `moves` (locs) from
    `board` (after setup). Colours alternate from `first_to_play` unless `colors` is given.
    Raises ValueError on a move onto an occupied point."""
    fs = get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set
    locs = np.asarray(moves, dtype=np.int64).reshape(-1)
    if colors is None:
        cols = np.where(np.arange(locs.shape[0]) % 2 == 0, first_to_play, 3 - first_to_play).astype(np.int64)
    else:
        cols = np.asarray(colors, dtype=np.int64).reshape(-1)
        if cols.shape != locs.shape:
            raise ValueError(f"{locs.shape[0]} moves but {cols.shape[0]} colours")
    n = int(board[INFO, SIZE])
    out = np.zeros((locs.shape[0], fs.num_planes, n, n), np.uint8)
    done = encode_game_positions(fs.code, fs.history, board, locs, cols, out)
    if done != locs.shape[0]:
        raise ValueError(f"move {done + 1} (loc {int(locs[done])}) is on an occupied point")
    return out
