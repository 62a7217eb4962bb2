"""Scoring: exact area scoring (Tromp-Taylor) and territory scoring given dead stones.

Area: a player's points are their stones plus the empty regions that reach only their stones.
Territory: empty regions that reach only one player's living stones, plus prisoners (stones
captured during the game and dead stones taken off at the end); no territory inside seki.

Seki is recognised from the position once dead stones are removed: a neutral point (an empty
point of a region reaching both colours) where either player's move would leave the stones it
joins with a single liberty and capture nothing is a shared liberty of a seki; every chain next
to such a point is in seki, and empty regions next to a chain in seki (its eyes) score for no one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numba as nb
import numpy as np

from .board import BLACK, COLOR, EMPTY, HEAD, INFO, NEXT, SIZE, WALL, WHITE, board_size, count_liberties, set_stones
from .coords import all_locs


@nb.njit(cache=True)
def region_owners(b, owner, stack):
    """Fill `owner[loc]` for every empty point: BLACK or WHITE when its region reaches only that
    colour, EMPTY when it reaches both or neither. `owner` is int8[L], `stack` int32[L] scratch.
    Stones get their own colour."""
    n = b[INFO, SIZE]
    w = n + 2
    owner[:] = -1
    for row in range(n):
        for col in range(n):
            start = (row + 1) * w + col + 1
            c = b[COLOR, start]
            if c != EMPTY:
                owner[start] = c
                continue
            if owner[start] != -1:
                continue
            # flood one region, marking it 4 while in progress
            reach = 0
            top = 0
            stack[top] = start
            top += 1
            owner[start] = 4
            first = 0
            while first < top:
                loc = stack[first]
                first += 1
                for nb_loc in (loc - w, loc - 1, loc + 1, loc + w):
                    cc = b[COLOR, nb_loc]
                    if cc == EMPTY:
                        if owner[nb_loc] == -1:
                            owner[nb_loc] = 4
                            stack[top] = nb_loc
                            top += 1
                    elif cc != WALL:
                        reach |= cc
            result = EMPTY
            if reach == BLACK or reach == WHITE:
                result = reach
            for i in range(top):
                owner[stack[i]] = result


@nb.njit(cache=True)
def area_score(b, owner, stack):
    """Black's area minus White's area (stones plus regions that reach only one colour),
    before komi."""
    region_owners(b, owner, stack)
    n = b[INFO, SIZE]
    w = n + 2
    diff = 0
    for row in range(n):
        for col in range(n):
            o = owner[(row + 1) * w + col + 1]
            if o == BLACK:
                diff += 1
            elif o == WHITE:
                diff -= 1
    return diff


def area_score_of(board: np.ndarray) -> int:
    """Convenience wrapper around `area_score` that allocates its own scratch."""
    n_locs = board.shape[1]
    return int(area_score(board, np.empty(n_locs, np.int8), np.empty(n_locs, np.int32)))


@dataclass(frozen=True)
class Score:
    black: float
    white: float  # komi and handicap bonus included
    ownership: np.ndarray  # int8[N*N] in action order: BLACK, WHITE or EMPTY (neutral / seki)

    @property
    def margin(self) -> float:
        """Black's points minus White's: positive means Black wins."""
        return self.black - self.white

    def result_string(self) -> str:
        """The SGF/GTP form: "B+3.5", "W+0.5" or "0" for a draw."""
        m = self.margin
        if m == 0:
            return "0"
        text = f"{abs(m):g}"
        return f"B+{text}" if m > 0 else f"W+{text}"


def seki_chains(board: np.ndarray, owner: np.ndarray) -> set[int]:
    """Heads of chains in seki (see the module docstring)."""
    w = board_size(board) + 2
    mark = np.zeros(board.shape[1], np.int32)
    heads: set[int] = set()
    for loc in all_locs(board_size(board)):
        if board[COLOR, loc] != EMPTY or owner[loc] != EMPTY:
            continue
        neighbours = (loc - w, loc - 1, loc + 1, loc + w)
        if all(_self_atari_without_capture(board, loc, c, mark) for c in (BLACK, WHITE)):
            heads.update(int(board[HEAD, n]) for n in neighbours if board[COLOR, n] in (BLACK, WHITE))
    return heads


def _self_atari_without_capture(board: np.ndarray, loc: int, colour: int, mark: np.ndarray) -> bool:
    w = board_size(board) + 2
    other = 3 - colour
    liberties: set[int] = set()
    for n in (loc - w, loc - 1, loc + 1, loc + w):
        c = board[COLOR, n]
        if c == EMPTY:
            liberties.add(n)
        elif c == other and count_liberties(board, n, mark) == 1:
            return False  # it would capture
        elif c == colour:
            head = board[HEAD, n]
            s = head
            while True:
                for m in (s - w, s - 1, s + 1, s + w):
                    if board[COLOR, m] == EMPTY:
                        liberties.add(m)
                s = board[NEXT, s]
                if s == head:
                    break
    liberties.discard(loc)
    return len(liberties) <= 1


def score(board: np.ndarray, scoring: str, komi: float, dead: Iterable[int] = (),
          captures: tuple[int, int] = (0, 0), white_bonus: int = 0) -> Score:
    """Score a finished position. `dead` are locs of dead stones (any stone of a dead chain marks
    the whole chain); `captures` are (black's, white's) prisoners taken during the game, used by
    territory scoring; `white_bonus` is the handicap compensation the rule set gives White."""
    if scoring not in ("area", "territory"):
        raise ValueError(f"scoring must be 'area' or 'territory', got {scoring!r}")
    work = board.copy()
    removed = {BLACK: 0, WHITE: 0}
    dead_locs: set[int] = set()
    for loc in dead:
        if work[COLOR, loc] not in (BLACK, WHITE):
            continue
        head = work[HEAD, loc]
        s = head
        while True:
            dead_locs.add(int(s))
            s = work[NEXT, s]
            if s == head:
                break
    for loc in dead_locs:
        removed[int(work[COLOR, loc])] += 1
    set_stones(work, {loc: EMPTY for loc in dead_locs})
    n_locs = work.shape[1]
    owner = np.empty(n_locs, np.int8)
    region_owners(work, owner, np.empty(n_locs, np.int32))
    locs = np.array(all_locs(board_size(board)))
    if scoring == "area":
        black = float(np.count_nonzero(owner[locs] == BLACK))
        white = float(np.count_nonzero(owner[locs] == WHITE))
    else:
        seki = seki_chains(work, owner)
        if seki:
            _clear_seki_eyes(work, owner, seki)
        empty = work[COLOR, locs] == EMPTY
        black = float(np.count_nonzero(empty & (owner[locs] == BLACK)) + captures[0] + removed[WHITE])
        white = float(np.count_nonzero(empty & (owner[locs] == WHITE)) + captures[1] + removed[BLACK])
    ownership = owner[locs].astype(np.int8)
    ownership[ownership < 0] = EMPTY
    return Score(black=black, white=white + komi + white_bonus, ownership=ownership)


def _clear_seki_eyes(board: np.ndarray, owner: np.ndarray, seki_heads: set[int]) -> None:
    """Regions that border a chain in seki belong to no one."""
    w = board_size(board) + 2
    seen: set[int] = set()
    for loc in all_locs(board_size(board)):
        if board[COLOR, loc] != EMPTY or loc in seen or owner[loc] not in (BLACK, WHITE):
            continue
        region, frontier, touches_seki = [loc], [loc], False
        seen.add(loc)
        while frontier:
            p = frontier.pop()
            for n in (p - w, p - 1, p + 1, p + w):
                if board[COLOR, n] == EMPTY and n not in seen:
                    seen.add(n)
                    region.append(n)
                    frontier.append(n)
                elif board[COLOR, n] in (BLACK, WHITE) and int(board[HEAD, n]) in seki_heads:
                    touches_seki = True
        if touches_seki:
            for p in region:
                owner[p] = EMPTY
