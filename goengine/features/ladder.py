"""Ladder reading for the AlphaGo features, on a scratch copy of the board's COLOR row.

Representations: `col` is an int64[L] copy of board[COLOR] (EMPTY 0, BLACK 1, WHITE 2, WALL 3)
that the reader changes and restores; `mark` is an int32[L] stamp array (mark[0] holds the last
stamp, entries are stamped and never cleared, as in `board.count_liberties`); `log` records
every change as loc * 4 + old colour so a line of play can be taken back; `cand`
(int64[LADDER_MAX_PLIES + 1, LADDER_MAX_REPLIES]) holds the moves to try at each ply and
`plies` (int64[LADDER_MAX_PLIES + 1, 4]) the read's stack; `ladder_scratch` makes them all.

Definition. A chain in atari (the prey) is caught in a ladder when, with the prey to move, every
reply fails: the replies are extending at its last liberty and capturing any hunter chain next
to it that is itself in atari (the first LADDER_MAX_REPLIES such moves). A reply fails when the
prey is then left with one liberty (the hunter captures), or with two and one of the hunter's
two ataris at those liberties (a legal move) leaves the prey caught again. Three or more
liberties is an escape. The hunter plays only those ataris: a net (geta) is not a ladder.
Legality inside the read is that of the board: no suicide, simple ko.

Bounds. A line longer than LADDER_MAX_PLIES plies, or a read that has visited more than
LADDER_MAX_NODES positions, counts as an escape: a ladder across a 25x25 board is under 100
plies, and a plain ladder needs a few nodes a ply. Simple ko holds inside the read (without it
a ko next to the prey loops until a bound stops it: thousands of positions for one read);
the board's own ko point bars only the first move, which the caller checks as legality. The
reader uses only the stones, never the board's chain rows, so it works on any colour array.
"""

from __future__ import annotations

import numba as nb
import numpy as np

EMPTY = 0
LADDER_MAX_PLIES = 200
LADDER_MAX_NODES = 4096
LADDER_MAX_REPLIES = 8


@nb.njit(cache=True)
def flood(col, start, w, mark, stones, libs, max_libs):
    """The chain through `start`: its stones into `stones`, its real liberties into `libs`.
    Stops as soon as `max_libs` liberties are found (the stone list is then partial).
    Returns (liberties found, stones found)."""
    color = col[start]
    stamp = mark[0] + 1
    mark[0] = stamp
    mark[start] = stamp
    stones[0] = start
    num_stones = 1
    num_libs = 0
    i = 0
    while i < num_stones:
        s = stones[i]
        i += 1
        for nb_loc in (s - w, s - 1, s + 1, s + w):
            if mark[nb_loc] == stamp:
                continue
            c = col[nb_loc]
            if c == color:
                mark[nb_loc] = stamp
                stones[num_stones] = nb_loc
                num_stones += 1
            elif c == EMPTY:
                mark[nb_loc] = stamp
                libs[num_libs] = nb_loc
                num_libs += 1
                if num_libs >= max_libs:
                    return num_libs, num_stones
    return num_libs, num_stones


@nb.njit(cache=True, inline="always")
def _empty_neighbours(col, loc, w):
    return ((col[loc - w] == EMPTY) + (col[loc - 1] == EMPTY) + (col[loc + 1] == EMPTY)
            + (col[loc + w] == EMPTY))


@nb.njit(cache=True)
def place(col, loc, color, w, mark, tmp, tmp_libs, log, log_len):
    """Put a `color` stone on the empty `loc` and take off opponent chains left without a
    liberty, logging every change. Returns (new log length, the point the opponent may not
    retake at once by simple ko, or 0)."""
    col[loc] = color
    log[log_len] = loc * 4 + EMPTY
    log_len += 1
    other = 3 - color
    captured = 0
    ko = 0
    lone = True
    empties = 0
    for nb_loc in (loc - w, loc - 1, loc + 1, loc + w):
        c = col[nb_loc]
        if c == color:
            lone = False
        elif c == EMPTY:
            empties += 1
        elif c == other and _empty_neighbours(col, nb_loc, w) == 0:
            num_libs, num_stones = flood(col, nb_loc, w, mark, tmp, tmp_libs, 1)
            if num_libs == 0:
                captured += num_stones
                ko = nb_loc
                for i in range(num_stones):
                    s = tmp[i]
                    col[s] = EMPTY
                    log[log_len] = s * 4 + other
                    log_len += 1
    # A lone stone that took one stone and has that point as its only liberty makes a ko.
    if captured != 1 or not lone or empties != 0:
        ko = 0
    return log_len, ko


@nb.njit(cache=True)
def undo(col, log, log_len, target):
    """Take back logged changes until the log is `target` long."""
    while log_len > target:
        log_len -= 1
        e = log[log_len]
        col[e // 4] = e % 4


@nb.njit(cache=True)
def _enter(col, prey, hunter_turn, ply, w, mark, stones, libs, stones2, libs2, cand, plies, budget):
    """Set up ply `ply` of a read: 1 when the hunter has won there, 0 when the prey has
    escaped, -1 with the moves to try in cand[ply, :plies[ply, 0]]."""
    budget[0] -= 1
    if budget[0] < 0 or ply >= LADDER_MAX_PLIES:
        return 0
    plies[ply, 1] = 0
    if hunter_turn:
        num_libs, _ = flood(col, prey, w, mark, stones, libs, 3)
        if num_libs == 1:
            return 0 if libs[0] == plies[ply, 3] else 1
        if num_libs == 0:
            return 1
        if num_libs >= 3:
            return 0
        # An atari whose other liberty has three empty neighbours besides it lets the prey
        # extend to three liberties: it cannot win, so it is not tried.
        num_cand = 0
        for k in range(2):
            a = libs[k]
            other = libs[1 - k]
            free = _empty_neighbours(col, other, w)
            if a == other - w or a == other - 1 or a == other + 1 or a == other + w:
                free -= 1
            if free < 3:
                cand[ply, num_cand] = a
                num_cand += 1
        if num_cand == 0:
            return 0
        plies[ply, 0] = num_cand
        return -1
    num_libs, num_stones = flood(col, prey, w, mark, stones, libs, 2)
    if num_libs >= 2:
        return 0
    if num_libs == 0:
        return 1
    hunter = 3 - col[prey]
    cand[ply, 0] = libs[0]
    num_cand = 1
    seen = mark[0]
    for i in range(num_stones):
        s = stones[i]
        for nb_loc in (s - w, s - 1, s + 1, s + w):
            # Hunter stones stamped after `seen` were flooded already at this ply.
            if col[nb_loc] != hunter or mark[nb_loc] > seen or _empty_neighbours(col, nb_loc, w) >= 2:
                continue
            hunter_libs, _ = flood(col, nb_loc, w, mark, stones2, libs2, 2)
            if hunter_libs != 1:
                continue
            m = libs2[0]
            new = True
            for j in range(num_cand):
                if cand[ply, j] == m:
                    new = False
            if new and num_cand < cand.shape[1]:
                cand[ply, num_cand] = m
                num_cand += 1
    plies[ply, 0] = num_cand
    return -1


@nb.njit(cache=True)
def hunter_wins(col, prey, hunter_turn, ko, w, mark, stones, libs, stones2, libs2, log, log_len,
                cand, plies, budget):
    """Whether the chain through `prey` is caught in a ladder, with the hunter to move
    (`hunter_turn`) or the prey, who may not play `ko` (0: no ko). A depth-first read with an
    explicit stack: plies[ply] holds (moves to try, moves tried, log length on entering the
    ply, the ko point there). `col` is left as found."""
    ply = 0
    plies[0, 2] = log_len
    plies[0, 3] = ko
    result = _enter(col, prey, hunter_turn, 0, w, mark, stones, libs, stones2, libs2, cand, plies, budget)
    while True:
        hunter_moves = hunter_turn == (ply % 2 == 0)
        if result >= 0:
            if ply == 0:
                return result == 1
            undo(col, log, plies[ply, 2], plies[ply - 1, 2])
            ply -= 1
            hunter_moves = not hunter_moves
            # The hunter needs one winning atari; the prey one escaping reply.
            if hunter_moves != (result == 1):
                result = -1
            continue
        tried = plies[ply, 1]
        if tried >= plies[ply, 0]:
            result = 0 if hunter_moves else 1
            continue
        plies[ply, 1] = tried + 1
        m = cand[ply, tried]
        if m == plies[ply, 3]:
            continue
        mover = 3 - col[prey] if hunter_moves else col[prey]
        new_len, new_ko = place(col, m, mover, w, mark, stones2, libs2, log, plies[ply, 2])
        if _empty_neighbours(col, m, w) == 0 and flood(col, m, w, mark, stones2, libs2, 1)[0] == 0:
            undo(col, log, new_len, plies[ply, 2])
            continue
        ply += 1
        plies[ply, 2] = new_len
        plies[ply, 3] = new_ko
        result = _enter(col, prey, not hunter_moves, ply, w, mark, stones, libs, stones2, libs2, cand,
                        plies, budget)


@nb.njit(cache=True)
def ladder_scratch(num_locs):
    """The scratch arrays a ladder read needs: (mark, stones, libs, stones2, libs2, log, cand,
    plies, budget). A line changes each point at most a few times, so the log needs a few L."""
    mark = np.zeros(num_locs, np.int32)
    stones = np.empty(num_locs, np.int64)
    libs = np.empty(num_locs, np.int64)
    stones2 = np.empty(num_locs, np.int64)
    libs2 = np.empty(num_locs, np.int64)
    log = np.empty(num_locs + 4 * LADDER_MAX_PLIES + 16, np.int64)
    cand = np.empty((LADDER_MAX_PLIES + 1, LADDER_MAX_REPLIES), np.int64)
    plies = np.empty((LADDER_MAX_PLIES + 1, 4), np.int64)
    budget = np.zeros(1, np.int64)
    return mark, stones, libs, stones2, libs2, log, cand, plies, budget


@nb.njit(cache=True)
def is_ladder_capture(col, loc, color, prey, w, mark, stones, libs, stones2, libs2, log, cand,
                      plies, budget):
    """Whether `color` playing the legal move `loc`, an atari on the two-liberty opponent chain
    through `prey`, catches it in a ladder."""
    budget[0] = LADDER_MAX_NODES
    new_len, ko = place(col, loc, color, w, mark, stones2, libs2, log, 0)
    caught = hunter_wins(col, prey, False, ko, w, mark, stones, libs, stones2, libs2, log, new_len,
                         cand, plies, budget)
    undo(col, log, new_len, 0)
    return caught


@nb.njit(cache=True)
def is_ladder_escape(col, loc, color, w, mark, stones, libs, stones2, libs2, log, cand, plies,
                     budget):
    """Whether `color` extending at `loc`, the last liberty of an own chain, leaves a chain the
    opponent cannot catch in a ladder."""
    budget[0] = LADDER_MAX_NODES
    new_len, ko = place(col, loc, color, w, mark, stones2, libs2, log, 0)
    caught = hunter_wins(col, loc, True, ko, w, mark, stones, libs, stones2, libs2, log, new_len,
                         cand, plies, budget)
    undo(col, log, new_len, 0)
    return not caught
