"""AlphaGo's input planes (Silver et al. 2016, Extended Data Table 2): uint8 [48 or 49, N, N].

"Own" is the player to move (`to_play`). Move planes (capture size through sensibleness) are
set only on points where `to_play` may legally play by the rules of stones: empty, not the
simple-ko point, and not suicide (multi-stone suicide included). Counts are real liberties.

| planes | feature              | plane k is set where                                          |
|--------|----------------------|---------------------------------------------------------------|
| 0-2    | stone colour         | own stone, opponent stone, empty                              |
| 3      | ones                 | everywhere                                                    |
| 4-11   | turns since          | a stone placed k+1 moves ago (k = 7: 8 or more, or unknown)   |
| 12-19  | liberties            | a stone whose chain has k+1 liberties (k = 7: 8 or more)      |
| 20-27  | capture size         | a move here captures k opponent stones (k = 7: 7 or more)     |
| 28-35  | self-atari size      | a move here leaves k+1 own stones in atari (k = 7: 8 or more) |
| 36-43  | liberties after move | the own chain after a move here has k+1 liberties (7: 8+)     |
| 44     | ladder capture       | a move here ataris an opponent chain that is then caught      |
| 45     | ladder escape        | a move here extends an own chain in atari and it escapes      |
| 46     | sensibleness         | legal and not the mover's own eye (`board.is_eyeish`)         |
| 47     | zeros                |                                                               |
| 48     | player colour        | everywhere when black is to play (alphago-value only)         |

Turns since come from `move_hist` (index 0 the last move): a stone's most recent placing among
the last seven moves, otherwise 8+. Ladders are read as `ladder.py` defines them: a ladder
capture is a legal atari on a two-liberty chain after which that chain is caught; a ladder
escape is a legal extension at the last liberty of an own chain in atari that leaves three or
more liberties, or two from which the opponent cannot ladder it.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..board import (BLACK, COLOR, EMPTY, EMPTY_LIST, HEAD, INFO, KO_LOC, NEXT, NUM_EMPTY, SIZE,
                     STONES, WALL, WHITE, is_eyeish)
from .ladder import is_ladder_capture, is_ladder_escape, ladder_scratch

ALPHAGO_PLANES = 48
ALPHAGO_VALUE_PLANES = 49

OWN, OPPONENT, EMPTY_PLANE, ONES = 0, 1, 2, 3
TURNS_SINCE, LIBERTIES, CAPTURE_SIZE, SELF_ATARI_SIZE, LIBERTIES_AFTER = 4, 12, 20, 28, 36
LADDER_CAPTURE, LADDER_ESCAPE, SENSIBLENESS, ZEROS, PLAYER_COLOUR = 44, 45, 46, 47, 48

# Each chain keeps up to this many of its liberties by point: "liberties after move" stops at
# 8, and a neighbour chain with more than 8 liberties gives 8 or more by itself.
_KEPT_LIBS = 8


@nb.njit(cache=True)
def _chain_liberties(b, lib_count, lib_list):
    """Real liberty counts per chain head into `lib_count`, and up to _KEPT_LIBS of the
    liberties into lib_list[head * _KEPT_LIBS:]: one pass over the empty points."""
    w = b[INFO, SIZE] + 2
    for i in range(b[INFO, NUM_EMPTY]):
        loc = b[EMPTY_LIST, i]
        h0 = h1 = h2 = -1
        for nb_loc in (loc - w, loc - 1, loc + 1, loc + w):
            c = b[COLOR, nb_loc]
            if c != BLACK and c != WHITE:
                continue
            h = b[HEAD, nb_loc]
            if h == h0 or h == h1 or h == h2:
                continue
            h2, h1, h0 = h1, h0, h
            k = lib_count[h]
            if k < _KEPT_LIBS:
                lib_list[h * _KEPT_LIBS + k] = loc
            lib_count[h] = k + 1


@nb.njit(cache=True)
def _touches(b, s, p, own_heads, num_own, w):
    """Whether point `s` is next to `p` or to a chain among own_heads[:num_own]."""
    for nb_loc in (s - w, s - 1, s + 1, s + w):
        if nb_loc == p:
            return True
        h = b[HEAD, nb_loc]
        if h != 0:
            for j in range(num_own):
                if own_heads[j] == h:
                    return True
    return False


@nb.njit(cache=True)
def _extends_to_three(b, q, color, p, lib_count, lib_list, seen, stamp):
    """Whether `color` extending at `q`, once the opponent holds `p`, has three or more
    liberties without counting captures: then an atari at `p` is no ladder and needs no read."""
    w = b[INFO, SIZE] + 2
    count = 0
    for nb_loc in (q - w, q - 1, q + 1, q + w):
        v = b[COLOR, nb_loc]
        if v == EMPTY:
            if nb_loc != p and seen[nb_loc] != stamp:
                seen[nb_loc] = stamp
                count += 1
        elif v == color:
            h = b[HEAD, nb_loc]
            if lib_count[h] > _KEPT_LIBS:
                return True
            for k in range(lib_count[h]):
                lib = lib_list[h * _KEPT_LIBS + k]
                if lib != p and lib != q and seen[lib] != stamp:
                    seen[lib] = stamp
                    count += 1
    return count >= 3


@nb.njit(cache=True)
def _board_planes(b, move_hist, moves_len, to_play, lib_count, out):
    """Stone colour, ones, turns since and liberties."""
    n = b[INFO, SIZE]
    w = n + 2
    for r in range(n):
        for c in range(n):
            loc = (r + 1) * w + c + 1
            v = b[COLOR, loc]
            out[ONES, r, c] = 1
            if v == EMPTY:
                out[EMPTY_PLANE, r, c] = 1
                continue
            out[OWN if v == to_play else OPPONENT, r, c] = 1
            out[TURNS_SINCE + 7, r, c] = 1  # until the move history says otherwise
            out[LIBERTIES + min(lib_count[b[HEAD, loc]], 8) - 1, r, c] = 1
    for i in range(min(moves_len, 7, move_hist.shape[0])):
        loc = move_hist[i]
        if loc <= 0 or b[COLOR, loc] == EMPTY:
            continue
        newer = False
        for j in range(i):
            if move_hist[j] == loc:
                newer = True
        if not newer:
            out[TURNS_SINCE + 7, loc // w - 1, loc % w - 1] = 0
            out[TURNS_SINCE + i, loc // w - 1, loc % w - 1] = 1


@nb.njit(cache=True)
def _neighbour_chains(b, p, to_play, w, own_heads, opp_heads, seen, stamp):
    """The distinct own and opponent chains next to `p` into own_heads / opp_heads, its empty
    neighbours stamped in `seen`. Returns (own chains, opponent chains, empty neighbours)."""
    num_own = 0
    num_opp = 0
    empties = 0
    for nb_loc in (p - w, p - 1, p + 1, p + w):
        v = b[COLOR, nb_loc]
        if v == EMPTY:
            seen[nb_loc] = stamp
            empties += 1
        elif v == to_play:
            h = b[HEAD, nb_loc]
            dup = False
            for j in range(num_own):
                if own_heads[j] == h:
                    dup = True
            if not dup:
                own_heads[num_own] = h
                num_own += 1
        elif v != WALL:
            h = b[HEAD, nb_loc]
            dup = False
            for j in range(num_opp):
                if opp_heads[j] == h:
                    dup = True
            if not dup:
                opp_heads[num_opp] = h
                num_opp += 1
    return num_own, num_opp, empties


@nb.njit(cache=True)
def _liberties_after(b, p, w, own_heads, num_own, opp_heads, num_opp, empties, lib_count, lib_list,
                     seen, stamp):
    """Real liberties (at most 8) of the own chain after a move at `p`, whose empty neighbours
    are already stamped in `seen`: those, the own neighbour chains' other liberties, and the
    captured stones next to the new chain."""
    count = empties
    for j in range(num_own):
        h = own_heads[j]
        if lib_count[h] > _KEPT_LIBS:
            return 8
        for k in range(lib_count[h]):
            lib = lib_list[h * _KEPT_LIBS + k]
            if lib != p and seen[lib] != stamp:
                seen[lib] = stamp
                count += 1
    for j in range(num_opp):
        h = opp_heads[j]
        if lib_count[h] != 1 or count >= 8:
            continue
        s = h
        while True:
            if seen[s] != stamp and _touches(b, s, p, own_heads, num_own, w):
                seen[s] = stamp
                count += 1
            s = b[NEXT, s]
            if s == h:
                break
    return min(count, 8)


@nb.njit(cache=True)
def encode_alphago_planes(board, move_hist, moves_len, to_play, out):
    """Fill out[:48] (uint8[>=48, N, N]) with AlphaGo's planes for `to_play`; `move_hist`
    holds the locs of recent moves, index 0 the last (0 pass, -1 none), `moves_len` valid."""
    b = board
    w = b[INFO, SIZE] + 2
    num_locs = b.shape[1]
    opp = 3 - to_play
    ko = b[INFO, KO_LOC]
    out[:ALPHAGO_PLANES] = 0
    lib_count = np.zeros(num_locs, np.int64)
    lib_list = np.empty(num_locs * _KEPT_LIBS, np.int64)
    _chain_liberties(b, lib_count, lib_list)
    _board_planes(b, move_hist, moves_len, to_play, lib_count, out)

    col = b[COLOR].copy()
    mark, stones, libs, stones2, libs2, log, cand, plies, budget = ladder_scratch(num_locs)
    seen = np.zeros(num_locs, np.int32)
    stamp = 0
    other_stamp = 0  # counts down, so the two kinds of stamp never meet
    own_heads = np.empty(4, np.int64)
    opp_heads = np.empty(4, np.int64)
    for i in range(b[INFO, NUM_EMPTY]):
        p = b[EMPTY_LIST, i]
        if p == ko:
            continue
        r = p // w - 1
        c = p % w - 1
        stamp += 1
        num_own, num_opp, empties = _neighbour_chains(b, p, to_play, w, own_heads, opp_heads, seen, stamp)
        if empties == 4:  # an open point: no capture, no eye, no chain to read
            out[CAPTURE_SIZE, r, c] = 1
            out[LIBERTIES_AFTER + 3, r, c] = 1
            out[SENSIBLENESS, r, c] = 1
            continue
        libs_after = _liberties_after(b, p, w, own_heads, num_own, opp_heads, num_opp, empties,
                                      lib_count, lib_list, seen, stamp)
        if libs_after == 0:
            continue  # suicide
        captured = 0
        for j in range(num_opp):
            if lib_count[opp_heads[j]] == 1:
                captured += b[STONES, opp_heads[j]]
        out[CAPTURE_SIZE + min(captured, 7), r, c] = 1
        out[LIBERTIES_AFTER + libs_after - 1, r, c] = 1
        if libs_after == 1:
            size = 1
            for j in range(num_own):
                size += b[STONES, own_heads[j]]
            out[SELF_ATARI_SIZE + min(size, 8) - 1, r, c] = 1
        if empties > 0 or num_opp > 0 or not is_eyeish(b, p, to_play):
            out[SENSIBLENESS, r, c] = 1

        for j in range(num_opp):
            h = opp_heads[j]
            if lib_count[h] != 2:
                continue
            q = lib_list[h * _KEPT_LIBS]
            if q == p:
                q = lib_list[h * _KEPT_LIBS + 1]
            other_stamp -= 1
            if _extends_to_three(b, q, opp, p, lib_count, lib_list, seen, other_stamp):
                continue
            if is_ladder_capture(col, p, to_play, h, w, mark, stones, libs, stones2, libs2, log, cand,
                                 plies, budget):
                out[LADDER_CAPTURE, r, c] = 1
                break
        in_atari = False
        for j in range(num_own):
            if lib_count[own_heads[j]] == 1:
                in_atari = True
        if in_atari and (libs_after >= 3 or (libs_after == 2 and is_ladder_escape(
                col, p, to_play, w, mark, stones, libs, stones2, libs2, log, cand, plies, budget))):
            out[LADDER_ESCAPE, r, c] = 1


@nb.njit(cache=True)
def encode_alphago(board, move_hist, moves_len, to_play, out):
    """The 48 policy planes into `out` (uint8[48, N, N])."""
    encode_alphago_planes(board, move_hist, moves_len, to_play, out)


@nb.njit(cache=True)
def encode_alphago_value(board, move_hist, moves_len, to_play, out):
    """The 48 planes plus plane 48, ones when black is to play, into `out` (uint8[49, N, N])."""
    encode_alphago_planes(board, move_hist, moves_len, to_play, out)
    out[PLAYER_COLOUR] = 1 if to_play == BLACK else 0
