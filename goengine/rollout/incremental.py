"""Rollout-policy playouts that update move weights incrementally, in numba.

`features.candidate_features` recomputes every candidate's features for every move, which costs
time in proportion to the empty points (about 14 us a move on 19x19). Most features of a point
depend only on the stones near it, and a move changes few of those. So a playout here keeps, for
each colour and each point, the product of the weights of its *positional* features
(`point_weight`: pattern, save, capture, self-atari, atari, line; 0 for a point that is not a
candidate for that colour) and after each move recomputes it only where it may have changed.
It also keeps every point's liberty state (from Black's view) and the liberty counts of the
chains the move did not touch. The features of the last two moves (response, distance to the
last move, distance to the move before) change every move; they are applied while sampling,
with a few operations per point. The weights and the distribution are those of
`playout.reference_playout`; only the order of the floating-point products differs, so with the
same generator both play the same moves but for a rare rounding tie (the benchmark
`benchmarks/rollout_policy.py` reports it). About 2x faster on 19x19; no faster on 9x9, where
a move changes a larger share of the board.

Where a point's positional features can change after a move at m (see `features.py` for what
each feature reads):
- the touched chains T: the chain now holding m, the opponent chains next to m, and the
  chains next to the captured stones. These are exactly the chains whose liberties or stones
  changed.
- m and the captured stones change colour: their 8-neighbourhoods change.
- a stone of a chain in T: its 4 neighbours (the chain's liberties: candidate status and the
  tactical features read the chain's liberties); its diagonal neighbours too when its state
  (liberties up to 3) changed, since their 3x3 patterns see it.
- the rescue and freed-liberty parts of the capture feature also read the chains next to an
  opponent chain in atari. So when a chain A in T touches a chain O of the other colour that
  has one liberty, O's liberty is recomputed too.
- the simple-ko point before and after the move.
`tests/test_rollout_incremental.py` checks every maintained weight against a fresh computation
after every move of many playouts.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..board import COLOR, EMPTY, EMPTY_LIST, HEAD, INFO, KO_LOC, NEXT, NUM_EMPTY, SIZE, WALL, play
from ..rng import draw_cumulative
from ..scoring import area_score
from .features import (CACHE_COLS, DIAMOND_DC, DIAMOND_DR, DIST_LAST, DIST_PREV, LINE, NUM_SLOTS, PATTERN,
                       PATTERN_BITS, RING_DC, RING_DR, S_ATARI, S_CAPTURE, S_SAVE, S_SELF_ATARI, STATE_COL, VIEW,
                       _diamond_codes, _hash, _is_candidate, _least_ring_code, _needs_tactics, _response_feature,
                       _tactics, chain_liberties, fill_states)

__all__ = ["incremental_playout", "init_weights", "new_scratch", "play_and_update",
           "point_weight", "sample_move"]


@nb.njit(cache=True)
def new_scratch(num_locs):
    """Work arrays for `incremental_playout` (reusable across playouts of one board size):
    cache, point_weights, mark, lists, locs, cumulative, small."""
    return (np.zeros((num_locs, CACHE_COLS), np.int64),   # liberty and state cache (features.py)
            np.zeros((2, num_locs), np.float64),          # positional weights [colour - 1, loc]
            np.zeros(num_locs, np.int64),                 # dirty-set stamps (mark[0]: the stamp)
            np.empty((4, num_locs), np.int64),            # captured stones, dirty points, chain heads,
                                                          # liberty states before the move (by stone)
            np.empty(num_locs, np.int64),                 # candidate locs of a move
            np.empty(num_locs, np.float64),               # cumulative weights of a move
            np.empty(NUM_SLOTS + 11, np.int64))           # feature row and tactics scratch


# Point states (features.py) are kept from Black's view in cache[:, STATE_COL] and updated with
# the stones whose chains a move touches; features.VIEW[colour - 1] reads them for a mover.


@nb.njit(cache=True)
def point_weight(b, loc, color, cache, weights, small):
    """Product of the weights of the positional features of `loc` as a move of `color` (0 when
    it is not a candidate). `small` is int64[NUM_SLOTS + 11] scratch. The cache must hold this
    position's liberty counts and Black's-view states (init_weights, play_and_update)."""
    if b[COLOR, loc] != EMPTY:
        return 0.0
    n = b[INFO, SIZE]
    w = n + 2
    if not _is_candidate(b, loc, color, w, cache):
        return 0.0
    view = VIEW[color - 1]
    raw = np.int64(0)
    for i in range(8):
        raw |= view[cache[loc + RING_DR[i] * w + RING_DC[i], STATE_COL]] << (3 * i)
    p = weights[PATTERN + _hash(_least_ring_code(raw), PATTERN_BITS)]
    if _needs_tactics(cache, loc, w, view):
        row = small[:NUM_SLOTS]
        row[S_SAVE] = -1
        row[S_CAPTURE] = -1
        row[S_SELF_ATARI] = -1
        row[S_ATARI] = -1
        _tactics(b, loc, color, w, cache, row, small[NUM_SLOTS:NUM_SLOTS + 4],
                 small[NUM_SLOTS + 4:NUM_SLOTS + 8], small[NUM_SLOTS + 8:NUM_SLOTS + 11])
        for j in (S_SAVE, S_CAPTURE, S_SELF_ATARI, S_ATARI):
            if row[j] >= 0:
                p *= weights[row[j]]
    row_ = loc // w - 1
    col = loc % w - 1
    edge = min(min(row_, col), min(n - 1 - row_, n - 1 - col))
    return p * weights[LINE + min(edge, 4)]


@nb.njit(cache=True)
def init_weights(b, cache, point_weights, weights, small):
    """Compute every point's state and every empty point's positional weight for both colours
    (under a new liberty stamp: no cached count is trusted; stamps start at 1)."""
    fill_states(b, 1, cache)
    point_weights[:, :] = 0.0
    for i in range(b[INFO, NUM_EMPTY]):
        loc = b[EMPTY_LIST, i]
        point_weights[0, loc] = point_weight(b, loc, 1, cache, weights, small)
        point_weights[1, loc] = point_weight(b, loc, 2, cache, weights, small)


@nb.njit(cache=True)
def sample_move(b, color, last_move, prev_move, cache, point_weights, weights, locs, cumulative, rng):
    """Draw a move for `color` from the rollout policy: the positional weights times the
    response and distance factors of the last two moves. Returns 0 (pass) with no candidate."""
    n = b[INFO, SIZE]
    w = n + 2
    has_last = last_move > 0 and b[COLOR, last_move] != EMPTY and b[COLOR, last_move] != WALL
    has_prev = prev_move > 0
    codes = np.empty(8, np.int64)
    last_row = last_move // w if has_last else 0
    last_col = last_move % w if has_last else 0
    prev_row = prev_move // w if has_prev else 0
    prev_col = prev_move % w if has_prev else 0
    if has_last:
        _diamond_codes(b, last_move, cache, codes, VIEW[color - 1])
    weights_row = point_weights[color - 1]
    total = 0.0
    k = 0
    for i in range(b[INFO, NUM_EMPTY]):
        loc = b[EMPTY_LIST, i]
        p = weights_row[loc]
        if p == 0.0:
            continue
        prow = loc // w
        pcol = loc - prow * w
        if has_last:
            dr = prow - last_row
            dc = pcol - last_col
            ar = abs(dr)
            ac = abs(dc)
            if ar + ac <= 2:
                for slot in range(12):
                    if DIAMOND_DR[slot] == dr and DIAMOND_DC[slot] == dc:
                        p *= weights[_response_feature(codes, slot)]
            d = ar + ac + max(ar, ac)
            if d <= 16:
                p *= weights[DIST_LAST + d - 2]
        if has_prev:
            ar = abs(prow - prev_row)
            ac = abs(pcol - prev_col)
            d = ar + ac + max(ar, ac)
            if 2 <= d <= 16:
                p *= weights[DIST_PREV + d - 2]
        total += p
        cumulative[k] = total
        locs[k] = loc
        k += 1
    if k == 0:
        return 0
    return locs[draw_cumulative(cumulative, k, rng)]


@nb.njit(cache=True, inline="always")
def _mark(b, loc, mark, stamp, dirty, count):
    if b[COLOR, loc] == EMPTY and mark[loc] != stamp:
        mark[loc] = stamp
        dirty[count] = loc
        count += 1
    return count


@nb.njit(cache=True, inline="always")
def _mark_around(b, s, w, mark, stamp, dirty, count):
    for dr in (-w, 0, w):
        for dc in (-1, 0, 1):
            count = _mark(b, s + dr + dc, mark, stamp, dirty, count)
    return count


@nb.njit(cache=True, inline="always")
def _add_head(heads, n, h):
    for j in range(n):
        if heads[j] == h:
            return n
    heads[n] = h
    return n + 1


@nb.njit(cache=True)
def _touched_heads(b, loc, color, w, captured, n_stones, heads):
    """Heads of the chains next to `loc` (either colour) and of `color`'s chains next to the
    captured stones: before the move, the chains it will touch; after it, those it touched
    (the mover's chains next to loc are then one chain, holding loc, counted even when alone).
    Returns their number."""
    n = 0
    if b[COLOR, loc] == color:
        n = _add_head(heads, n, b[HEAD, loc])
    for nb_ in (loc - w, loc - 1, loc + 1, loc + w):
        c = b[COLOR, nb_]
        if c == 1 or c == 2:
            n = _add_head(heads, n, b[HEAD, nb_])
    for j in range(n_stones):
        s = captured[j]
        for nb_ in (s - w, s - 1, s + 1, s + w):
            if b[COLOR, nb_] == color:
                n = _add_head(heads, n, b[HEAD, nb_])
    return n


@nb.njit(cache=True)
def play_and_update(b, loc, color, cache, point_weights, weights, mark, lists, small):
    """Play `loc` (a candidate of `color`, or 0 to pass) and bring the positional weights up to
    date (see the module docstring for which points)."""
    w = b[INFO, SIZE] + 2
    other = 3 - color
    old_ko = b[INFO, KO_LOC]
    captured = lists[0]
    dirty = lists[1]
    heads = lists[2]
    # The stones this move captures, found before the board forgets them.
    n_heads = 0
    if loc != 0:
        for nb_ in (loc - w, loc - 1, loc + 1, loc + w):
            if b[COLOR, nb_] == other and chain_liberties(b, b[HEAD, nb_], cache) == 1:
                n_heads = _add_head(heads, n_heads, b[HEAD, nb_])
    n_stones = 0
    for j in range(n_heads):
        h = heads[j]
        s = h
        while True:
            captured[n_stones] = s
            n_stones += 1
            s = b[NEXT, s]
            if s == h:
                break
    # The liberty state (count up to 3) of every stone whose chain the move touches, before it:
    # a stone whose state does not change leaves its diagonal neighbours' patterns alone.
    old_state = lists[3]
    if loc != 0:
        n_heads = _touched_heads(b, loc, color, w, captured, n_stones, heads)
        for j in range(n_heads):
            h = heads[j]
            state = min(chain_liberties(b, h, cache), 3)
            s = h
            while True:
                old_state[s] = state
                s = b[NEXT, s]
                if s == h:
                    break
        old_state[loc] = -1
    play(b, loc, color)
    stamp = mark[0] + 1
    mark[0] = stamp  # loc 0 is never a point, so its slot holds the stamp
    count = 0
    if old_ko != 0:
        count = _mark(b, old_ko, mark, stamp, dirty, count)
    if b[INFO, KO_LOC] != 0:
        count = _mark(b, b[INFO, KO_LOC], mark, stamp, dirty, count)
    if loc != 0:
        for j in range(n_stones):
            cache[captured[j], STATE_COL] = 0
            count = _mark_around(b, captured[j], w, mark, stamp, dirty, count)
        # Touched chains: the mover's chain at loc, opponent chains next to loc, and the
        # mover's chains next to the captured stones.
        n_heads = _touched_heads(b, loc, color, w, captured, n_stones, heads)
        # Only these chains' liberties changed: forget their cached counts, keep the others.
        for t in range(n_heads):
            cache[heads[t], 0] = 0
        for t in range(n_heads):
            h = heads[t]
            chain_color = b[COLOR, h]
            state = min(chain_liberties(b, h, cache), 3)
            black_view = state if chain_color == 1 else 3 + state
            s = h
            while True:
                cache[s, STATE_COL] = black_view
                if old_state[s] != state:
                    count = _mark_around(b, s, w, mark, stamp, dirty, count)
                else:  # same state: only its liberties' candidate and tactics may change
                    for nb_ in (s - w, s - 1, s + 1, s + w):
                        count = _mark(b, nb_, mark, stamp, dirty, count)
                # An opponent chain in atari next to this one: the capture feature of its
                # liberty reads this chain's liberties (rescue, freed liberties).
                for nb_ in (s - w, s - 1, s + 1, s + w):
                    if b[COLOR, nb_] == 3 - chain_color:
                        o = b[HEAD, nb_]
                        if chain_liberties(b, o, cache) == 1:
                            count = _mark(b, cache[o, 2], mark, stamp, dirty, count)
                s = b[NEXT, s]
                if s == h:
                    break
    for j in range(count):
        x = dirty[j]
        point_weights[0, x] = point_weight(b, x, 1, cache, weights, small)
        point_weights[1, x] = point_weight(b, x, 2, cache, weights, small)


@nb.njit(cache=True)
def incremental_playout(b, to_play, passes, last_move, prev_move, max_moves, rng, owner, stack, weights,
                        cache, point_weights, mark, lists, locs, cumulative, small):
    """`playout.policy_playout` with incremental weights; the scratch arrays come from
    `new_scratch`. Returns (Black's area minus White's area, moves played)."""
    mark[:] = 0
    init_weights(b, cache, point_weights, weights, small)
    color = to_play
    moves = 0
    while moves < max_moves and passes < 2:
        loc = sample_move(b, color, last_move, prev_move, cache, point_weights, weights, locs, cumulative, rng)
        passes = passes + 1 if loc == 0 else 0
        play_and_update(b, loc, color, cache, point_weights, weights, mark, lists, small)
        prev_move = last_move
        last_move = loc
        color = 3 - color
        moves += 1
    return area_score(b, owner, stack), moves
