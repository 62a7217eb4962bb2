"""Features of a `GameState`'s current position, for players and GTP (the search encodes its
own leaves in numba)."""

from __future__ import annotations

import numpy as np

from ..game import HISTORY, GameState
from .encode import encode
from .registry import FeatureSet, get_feature_set


def encode_state(game: GameState, feature_set: FeatureSet | str) -> np.ndarray:
    """uint8[C, N, N] for the player to move in `game`."""
    fs = get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set
    n_locs = game.board.shape[1]
    color_hist = np.zeros((HISTORY, n_locs), np.int64)
    for i, row in enumerate(game.color_history[:HISTORY]):
        color_hist[i] = row
    move_hist = np.full(HISTORY, -1, np.int64)
    for i, loc in enumerate(game.recent_moves[:HISTORY]):
        move_hist[i] = loc
    out = np.zeros((fs.num_planes, game.size, game.size), np.uint8)
    encode(fs.code, game.board, color_hist, len(game.color_history), move_hist, len(game.recent_moves),
           game.to_play, out)
    return out
