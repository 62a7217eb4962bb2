"""Incremental rollout-policy weights (goengine/rollout/incremental.py) against the features
recomputed from scratch (goengine/rollout/features.py) after every move of many playouts, and
the incremental playout's moves against the reference playout's distribution."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest

from goengine.board import BLACK, COLOR, EMPTY, EMPTY_LIST, INFO, NUM_EMPTY, new_board
from goengine.playout import playout_scratch, random_playout
from goengine.rng import new_rng
from goengine.rollout import features as F
from goengine.rollout.incremental import (incremental_playout, init_weights, new_scratch, play_and_update,
                                          point_weight, sample_move)
from goengine.rollout.model import RolloutModel
from goengine.rollout.playout import _score


def _weights(seed, scale=1.0):
    raw = np.random.default_rng(seed).normal(0, scale, F.NUM_FEATURES).astype(np.float32)
    return RolloutModel(raw).kernel_weights


@nb.njit(cache=True)
def _fresh(b, cache, weights, small, out):
    """Every empty point's positional weight for both colours, from scratch."""
    out[:, :] = 0.0
    F.fill_states(b, 1, cache)
    for i in range(b[INFO, NUM_EMPTY]):
        loc = b[EMPTY_LIST, i]
        out[0, loc] = point_weight(b, loc, 1, cache, weights, small)
        out[1, loc] = point_weight(b, loc, 2, cache, weights, small)


def _move_weights(b, color, last, prev, scratch, weights, rng):
    """{loc: weight} as sample_move sees them (the differences of its cumulative sums)."""
    cache, point_weights, mark, lists, locs, cumulative, small = scratch
    loc = sample_move(b, color, last, prev, cache, point_weights, weights, locs, cumulative, rng)
    k = int(np.sum(point_weights[color - 1][b[EMPTY_LIST, :b[INFO, NUM_EMPTY]]] > 0))
    values = np.diff(np.concatenate([[0.0], cumulative[:k]]))
    return loc, {int(locs[i]): float(values[i]) for i in range(k)}


def _reference_weights(b, color, last, prev, weights):
    """{loc: weight} of every candidate from features.candidate_features."""
    n_locs = b.shape[1]
    locs = np.zeros(n_locs, np.int64)
    feats = np.zeros((n_locs, F.NUM_SLOTS), np.int64)
    k = F.candidate_features(b, color, last, prev, F.new_cache(n_locs), locs, feats)
    return {int(locs[i]): float(_score(feats, i, weights)) for i in range(k)}


@pytest.mark.parametrize("size,seed,opening", [(5, 1, 0), (7, 2, 10), (9, 3, 0), (9, 4, 30), (13, 5, 40),
                                               (19, 6, 0), (19, 7, 120)])
def test_incremental_weights_equal_a_fresh_computation_after_every_move(size, seed, opening):
    weights = _weights(seed)
    b = new_board(size)
    owner, stack = playout_scratch(b)
    if opening:
        random_playout(b, BLACK, 0, opening, new_rng(seed), owner, stack)
    scratch = new_scratch(b.shape[1])
    cache, point_weights, mark, lists, locs, cumulative, small = scratch
    fresh_cache = F.new_cache(b.shape[1])
    fresh = np.zeros_like(point_weights)
    mark[:] = 0
    init_weights(b, cache, point_weights, weights, small)
    rng = new_rng(seed + 100)
    color, last, prev, passes, moves = BLACK if opening % 2 == 0 else 3 - BLACK, -1, -1, 0, 0
    captures_seen = 0
    while passes < 2 and moves < 3 * size * size:
        loc, got = _move_weights(b, color, last, prev, scratch, weights, rng)
        want = _reference_weights(b, color, last, prev, weights)
        assert got.keys() == want.keys(), f"move {moves}: candidates differ"
        for x, value in want.items():
            assert got[x] == pytest.approx(value, rel=1e-9), f"move {moves}, point {x}"
        stones_before = int(np.sum(b[COLOR] != EMPTY))
        play_and_update(b, loc, color, cache, point_weights, weights, mark, lists, small)
        captures_seen += int(np.sum(b[COLOR] != EMPTY)) < stones_before + (1 if loc else 0)
        _fresh(b, fresh_cache, weights, small, fresh)
        empties = b[EMPTY_LIST, :b[INFO, NUM_EMPTY]]
        np.testing.assert_allclose(point_weights[:, empties], fresh[:, empties], rtol=1e-12,
                                   err_msg=f"move {moves} ({loc})")
        passes = passes + 1 if loc == 0 else 0
        prev, last, color, moves = last, loc, 3 - color, moves + 1
    assert moves > size  # the playout went somewhere
    if size >= 9:
        assert captures_seen > 0  # and the capture paths were exercised


def test_capture_loving_weights_exercise_ataris_and_captures():
    # Large weights on the tactical features make playouts fight: ataris, captures, rescues.
    raw = np.zeros(F.NUM_FEATURES, np.float32)
    raw[F.CAPTURE:F.CAPTURE + 8] = 4.0
    raw[F.ATARI:F.ATARI + 3] = 3.0
    raw[F.SAVE:F.SAVE + 9] = 3.0
    weights = RolloutModel(raw).kernel_weights
    for seed in range(6):
        b = new_board(9)
        scratch = new_scratch(b.shape[1])
        cache, point_weights, mark, lists, locs, cumulative, small = scratch
        mark[:] = 0
        init_weights(b, cache, point_weights, weights, small)
        fresh = np.zeros_like(point_weights)
        rng = new_rng(seed)
        color, last, prev, passes, moves = BLACK, -1, -1, 0, 0
        while passes < 2 and moves < 240:
            loc = sample_move(b, color, last, prev, cache, point_weights, weights, locs, cumulative, rng)
            play_and_update(b, loc, color, cache, point_weights, weights, mark, lists, small)
            _fresh(b, F.new_cache(b.shape[1]), weights, small, fresh)
            empties = b[EMPTY_LIST, :b[INFO, NUM_EMPTY]]
            np.testing.assert_allclose(point_weights[:, empties], fresh[:, empties], rtol=1e-12)
            passes = passes + 1 if loc == 0 else 0
            prev, last, color, moves = last, loc, 3 - color, moves + 1


def test_incremental_playout_moves_follow_the_reference_distribution():
    # The first move from a position has the same distribution either way: compare the
    # frequencies of a few thousand draws with the reference policy's probabilities.
    weights = _weights(11, scale=1.5)
    b0 = new_board(7)
    owner, stack = playout_scratch(b0)
    random_playout(b0, BLACK, 0, 12, new_rng(3), owner, stack)
    want = _reference_weights(b0, BLACK, -1, -1, weights)
    total = sum(want.values())
    scratch = new_scratch(b0.shape[1])
    cache, point_weights, mark, lists, locs, cumulative, small = scratch
    counts: dict[int, int] = {}
    rng = new_rng(5)
    draws = 4000
    init_weights(b0, cache, point_weights, weights, small)
    for _ in range(draws):
        loc = sample_move(b0, BLACK, -1, -1, cache, point_weights, weights, locs, cumulative, rng)
        counts[loc] = counts.get(loc, 0) + 1
    assert set(counts) <= set(want)
    for loc, w in want.items():
        p = w / total
        sd = np.sqrt(p * (1 - p) / draws)
        assert abs(counts.get(loc, 0) / draws - p) < 5 * sd + 1e-3, loc
    # And whole playouts run: legal area scores, every point decided at the end.
    scratch = new_scratch(b0.shape[1])
    for seed in range(5):
        b = b0.copy()
        score, moves = incremental_playout(b, BLACK, 0, -1, -1, 3 * 49, new_rng(seed), owner, stack, weights,
                                           *scratch)
        assert moves > 0 and -49 <= score <= 49
