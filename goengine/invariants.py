"""A from-scratch consistency check of a board array, for tests and debugging.

`check_board(board)` recomputes everything the kernels in `board.py` maintain incrementally from
the COLOR row alone (chains by flood fill, heads, the NEXT rings, stone and pseudo-liberty counts,
the empty list and the Zobrist hash) and raises AssertionError naming the first disagreement.
It is plain Python: slow (about a millisecond on 19x19) and independent of the kernels it checks.
"""

from __future__ import annotations

import numpy as np

from .board import (BLACK, COLOR, EMPTY, EMPTY_LIST, EMPTY_POS, HASH, HEAD, INFO, KO_COLOR, KO_LOC,
                    LIBS, NEXT, NUM_EMPTY, SIZE, STONES, WALL, WHITE, ZOBRIST)
from .coords import vertex_of_loc


def _fail(board: np.ndarray, message: str) -> None:
    from .ascii_board import render
    raise AssertionError(f"{message}\n{render(board)}")


def _chains(colors: np.ndarray, size: int) -> list[list[int]]:
    """Every chain as a list of locs, found by flood fill over the COLOR row."""
    w = size + 2
    seen: set[int] = set()
    chains = []
    for row in range(size):
        for col in range(size):
            start = (row + 1) * w + col + 1
            if colors[start] not in (BLACK, WHITE) or start in seen:
                continue
            members, frontier = [start], [start]
            seen.add(start)
            while frontier:
                p = frontier.pop()
                for n in (p - w, p - 1, p + 1, p + w):
                    if colors[n] == colors[start] and n not in seen:
                        seen.add(n)
                        members.append(n)
                        frontier.append(n)
            chains.append(members)
    return chains


def check_board(board: np.ndarray) -> None:
    """Raise AssertionError unless every field of `board` agrees with its COLOR row."""
    size = int(board[INFO, SIZE])
    w = size + 2
    if board.shape[1] != w * w:
        _fail(board, f"INFO[SIZE] = {size} does not match {board.shape[1]} points")
    colors = board[COLOR]
    name = lambda loc: vertex_of_loc(int(loc), size)  # noqa: E731

    for loc in range(w * w):
        row, col = divmod(loc, w)
        on_board = 1 <= row <= size and 1 <= col <= size
        c = colors[loc]
        if on_board and c not in (EMPTY, BLACK, WHITE):
            _fail(board, f"point {name(loc)} has colour {c}")
        if not on_board and c != WALL:
            _fail(board, f"border loc {loc} has colour {c}, not WALL")
        if c in (EMPTY, WALL) and (board[HEAD, loc] != 0 or board[NEXT, loc] != 0):
            _fail(board, f"loc {loc} holds no stone but HEAD={board[HEAD, loc]} NEXT={board[NEXT, loc]}")

    for members in _chains(colors, size):
        where = name(members[0])
        heads = {int(board[HEAD, s]) for s in members}
        if len(heads) != 1:
            _fail(board, f"chain at {where} has several heads {sorted(heads)}")
        head = heads.pop()
        if head not in members:
            _fail(board, f"chain at {where} has head {head}, which is not one of its stones")
        ring, s = [], head
        while True:
            ring.append(s)
            s = int(board[NEXT, s])
            if s == head or len(ring) > len(members):
                break
        if len(ring) != len(members) or set(ring) != set(members):
            _fail(board, f"NEXT ring of chain at {where} visits {len(ring)} stones, the chain has "
                         f"{len(members)}")
        if board[STONES, head] != len(members):
            _fail(board, f"STONES of chain at {where} is {board[STONES, head]}, should be {len(members)}")
        pseudo = sum(1 for s in members for n in (s - w, s - 1, s + 1, s + w) if colors[n] == EMPTY)
        if board[LIBS, head] != pseudo:
            _fail(board, f"LIBS of chain at {where} is {board[LIBS, head]}, should be {pseudo}")
        if pseudo == 0:
            _fail(board, f"chain at {where} has no liberties")

    empties = {loc for loc in range(w * w) if colors[loc] == EMPTY}
    count = int(board[INFO, NUM_EMPTY])
    listed = [int(x) for x in board[EMPTY_LIST, :count]]
    if count != len(empties) or set(listed) != empties:
        _fail(board, f"EMPTY_LIST holds {count} entries, {len(set(listed))} distinct; there are "
                     f"{len(empties)} empty points")
    for i, loc in enumerate(listed):
        if board[EMPTY_POS, loc] != i:
            _fail(board, f"EMPTY_POS[{name(loc)}] = {board[EMPTY_POS, loc]}, but it is entry {i}")

    expected = np.int64(0)
    for loc in range(w * w):
        if colors[loc] in (BLACK, WHITE):
            expected ^= ZOBRIST[colors[loc], loc]
    if board[INFO, HASH] != expected:
        _fail(board, f"INFO[HASH] = {board[INFO, HASH]}, recomputed {expected}")

    ko = int(board[INFO, KO_LOC])
    if ko != 0:
        barred = int(board[INFO, KO_COLOR])
        if colors[ko] != EMPTY or barred not in (BLACK, WHITE):
            _fail(board, f"ko point {ko} (barred to colour {barred}) is not an empty point")
        # The point of a just-captured single stone: only the capturer's stones surround it.
        if any(colors[n] not in (3 - barred, WALL) for n in (ko - w, ko - 1, ko + 1, ko + w)):
            _fail(board, f"ko point {name(ko)} is not surrounded by the capturer's stones")
