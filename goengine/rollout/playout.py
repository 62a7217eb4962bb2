"""Playouts that pick every move with the rollout policy (a linear softmax over the features
of `features.py`), in numba.

`weights` is the kernel form of a rollout model: float64 [NUM_FEATURES] holding exp(w) of each
feature's weight w (`RolloutModel.kernel_weights`), so a candidate's unnormalised probability
is the product of its features' entries. Like `goengine.playout.random_playout`, a playout
applies simple ko only, never plays suicide or fills its own single-point eye, passes only
when it has no candidate, ends after two consecutive passes or `max_moves` moves, and is scored
by area.

On boards of INCREMENTAL_FROM_SIZE and up the playout keeps the move weights up to date
incrementally (`incremental.py`: same weights, same distribution, about twice as fast on
19x19); on smaller boards, where a move changes a larger share of the board, recomputing every
candidate's features (`reference_playout`) is as fast.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..board import INFO, SIZE, play
from ..rng import draw_cumulative
from ..scoring import area_score
from .features import CACHE_COLS, NUM_SLOTS, candidate_features
from .incremental import incremental_playout, new_scratch

INCREMENTAL_FROM_SIZE = 13


@nb.njit(cache=True, inline="always")
def _score(feats, i, weights):
    p = 1.0
    for j in range(NUM_SLOTS):
        f = feats[i, j]
        if f >= 0:
            p *= weights[f]
    return p


@nb.njit(cache=True)
def sample_candidate(feats, k, weights, rng, cumulative):
    """Index of a candidate drawn from the softmax over the first k rows of `feats`."""
    total = 0.0
    for i in range(k):
        total += _score(feats, i, weights)
        cumulative[i] = total
    return draw_cumulative(cumulative, k, rng)


@nb.njit(cache=True)
def best_candidate(feats, k, weights):
    """Index of the most probable of the first k candidates (the first on ties)."""
    best = 0
    best_p = -1.0
    for i in range(k):
        p = _score(feats, i, weights)
        if p > best_p:
            best_p = p
            best = i
    return best


@nb.njit(cache=True)
def policy_playout(b, to_play, passes, last_move, prev_move, max_moves, rng, owner, stack, weights):
    """Play rollout-policy moves on `b` (mutated) from `to_play`, with `passes` consecutive
    passes already made and `last_move`, `prev_move` the locs of the last two moves (0 pass,
    -1 unknown). Returns (Black's area minus White's area, moves played)."""
    if b[INFO, SIZE] >= INCREMENTAL_FROM_SIZE:
        cache, point_weights, mark, lists, locs, cumulative, small = new_scratch(b.shape[1])
        return incremental_playout(b, to_play, passes, last_move, prev_move, max_moves, rng, owner, stack,
                                   weights, cache, point_weights, mark, lists, locs, cumulative, small)
    return reference_playout(b, to_play, passes, last_move, prev_move, max_moves, rng, owner, stack, weights)


@nb.njit(cache=True)
def reference_playout(b, to_play, passes, last_move, prev_move, max_moves, rng, owner, stack, weights):
    """policy_playout recomputing every candidate's features for every move."""
    n_locs = b.shape[1]
    cache = np.zeros((n_locs, CACHE_COLS), np.int64)
    locs = np.empty(n_locs, np.int64)
    feats = np.empty((n_locs, NUM_SLOTS), np.int64)
    cumulative = np.empty(n_locs, np.float64)
    color = to_play
    moves = 0
    while moves < max_moves and passes < 2:
        k = candidate_features(b, color, last_move, prev_move, cache, locs, feats)
        loc = 0
        if k > 0:
            loc = locs[sample_candidate(feats, k, weights, rng, cumulative)]
            passes = 0
        else:
            passes += 1
        play(b, loc, color)
        prev_move = last_move
        last_move = loc
        color = 3 - color
        moves += 1
    return area_score(b, owner, stack), moves
