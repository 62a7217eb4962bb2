"""Uniform random playouts in numba: the classical Monte-Carlo evaluator.

Each move is drawn uniformly from the empty points that are legal and do not fill the mover's
own single-point eye (`board.is_eyeish`); a player with no such move passes. The playout ends
after two consecutive passes or `max_moves` moves and is scored by area. Playouts apply the
simple-ko rule only and never play suicide: that is what makes them fast, and the move cap ends
any cycle.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .board import COLOR, EMPTY, EMPTY_LIST, EMPTY_POS, INFO, KO_LOC, NUM_EMPTY, SIZE, is_eyeish, is_legal, play
from .game import move_limit
from .rng import randint
from .scoring import area_score


@nb.njit(cache=True, inline="always")
def _playable(b, loc, color, w):
    """Legal (simple ko, no suicide) and not the mover's own eye. A point with an empty
    neighbour is always playable (it cannot be the ko point nor an eye), which decides most
    candidates from the four neighbours alone."""
    if (b[COLOR, loc - w] == EMPTY or b[COLOR, loc - 1] == EMPTY
            or b[COLOR, loc + 1] == EMPTY or b[COLOR, loc + w] == EMPTY):
        return True
    return not is_eyeish(b, loc, color) and is_legal(b, loc, color, False)


@nb.njit(cache=True)
def random_playout(b, to_play, passes, max_moves, rng, owner, stack):
    """Play random moves on `b` (mutated) from `to_play`, with `passes` consecutive passes
    already made. Returns (Black's area minus White's area, moves played)."""
    w = b[INFO, SIZE] + 2
    color = to_play
    moves = 0
    while moves < max_moves and passes < 2:
        k = b[INFO, NUM_EMPTY]
        played = False
        while k > 0:
            i = randint(rng, k)
            loc = b[EMPTY_LIST, i]
            if _playable(b, loc, color, w):
                play(b, loc, color)
                played = True
                break
            # Move the rejected point out of the candidate range; the order of the empty list
            # is free, so only the two positions need updating.
            k -= 1
            last = b[EMPTY_LIST, k]
            b[EMPTY_LIST, i] = last
            b[EMPTY_POS, last] = i
            b[EMPTY_LIST, k] = loc
            b[EMPTY_POS, loc] = k
        if played:
            passes = 0
        else:
            passes += 1
            b[INFO, KO_LOC] = 0
        color = 3 - color
        moves += 1
    return area_score(b, owner, stack), moves


def playout_scratch(board) -> tuple[np.ndarray, np.ndarray]:
    """Scratch arrays `random_playout` needs for scoring."""
    n_locs = board.shape[1]
    return np.empty(n_locs, np.int8), np.empty(n_locs, np.int32)


def default_max_moves(size: int) -> int:
    return move_limit(size, "playout")


@nb.njit(cache=True)
def drop_eye_fills(b, color, mask):
    """Clear from `mask` (bool over actions, pass last) the points that fill `color`'s own
    single-point eye (the moves random playouts never make)."""
    n = b[INFO, SIZE]
    w = n + 2
    for a in range(n * n):
        if mask[a]:
            loc = (a // n + 1) * w + a % n + 1
            if is_eyeish(b, loc, color):
                mask[a] = False


def moves_before_the_end(game) -> "np.ndarray":
    """The moves a player may choose under "pass only at the end": every legal move that fills
    none of the mover's own eyes, or pass alone when none is left."""
    mask = game.legal_mask()
    drop_eye_fills(game.board, game.to_play, mask)
    if mask[:-1].any():
        mask[-1] = False
    else:
        mask[:] = False
        mask[-1] = True
    return mask
