"""Who owns each point at the end: estimated by random playouts from the position, or read from
the network's ownership head when it has one.

Ownership is float64[N*N] in action order (row-major from the top-left), from Black's view:
+1 Black owns the point in every playout, -1 White does, 0 even (or neutral).
"""

from __future__ import annotations

from typing import Optional

import numba as nb
import numpy as np

from .board import BLACK, INFO, SIZE, WHITE
from .evaluator import outputs_in_orientation
from .features.state import encode_state
from .game import GameState
from .playout import default_max_moves, playout_scratch, random_playout
from .rng import new_rng


@nb.njit(cache=True)
def playout_ownership(board, to_play, num_playouts, max_moves, rng, scratch, owner, stack, out):
    """Fill `out` (float64[N*N]) with the mean final ownership over `num_playouts` random
    playouts from `board` (left unchanged; `scratch` is a board-shaped work array)."""
    n = board[INFO, SIZE]
    w = n + 2
    out[:] = 0.0
    for _ in range(num_playouts):
        scratch[:] = board
        random_playout(scratch, to_play, 0, max_moves, rng, owner, stack)
        for row in range(n):
            for col in range(n):
                o = owner[(row + 1) * w + col + 1]
                if o == BLACK:
                    out[row * n + col] += 1.0
                elif o == WHITE:
                    out[row * n + col] -= 1.0
    if num_playouts > 0:
        out /= num_playouts


def rollout_ownership(game: GameState, num_playouts: int = 400, seed: int = 0) -> np.ndarray:
    """Mean ownership over random playouts from the game's position (Black's view). The
    playouts start as if no one had passed, so a finished game is played out too."""
    owner, stack = playout_scratch(game.board)
    out = np.zeros(game.size * game.size, np.float64)
    playout_ownership(game.board, game.to_play, num_playouts, default_max_moves(game.size), new_rng(seed),
                      np.empty_like(game.board), owner, stack, out)
    return out


def network_ownership(game: GameState, evaluator) -> Optional[np.ndarray]:
    """The ownership head's prediction (Black's view), or None when the evaluator has none."""
    if getattr(evaluator, "evaluate_outputs", None) is None or not getattr(getattr(evaluator, "config", None), "ownership", False):
        return None
    features = encode_state(game, evaluator.feature_set)[None]
    # the same answer for the same position, whatever orientations the search draws: all 8
    out = outputs_in_orientation(evaluator, features, "average")
    if out.ownership is None or len(out.ownership) == 0:
        return None
    own = np.asarray(out.ownership[0], np.float64)
    return own if game.to_play == BLACK else -own


def estimate_ownership(game: GameState, evaluator=None, num_playouts: int = 400, seed: int = 0) -> np.ndarray:
    """The network's ownership where there is one, else the playouts' (Black's view)."""
    if evaluator is not None:
        own = network_ownership(game, evaluator)
        if own is not None:
            return own
    return rollout_ownership(game, num_playouts, seed)
