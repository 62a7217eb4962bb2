"""ASCII boards: how tests write positions and how `showboard` draws them.

    parse('''
        . X O .
        X O . O
        . X O .
        . . . .
    ''')

Rows are given from the top; `X` (or `B`, `#`) is black, `O` (or `W`) white, `.` (or `+`) empty.
"""

from __future__ import annotations

import numpy as np

from .board import BLACK, COLOR, EMPTY, WHITE, board_size, new_board, set_stones
from .coords import GTP_COLUMNS, loc_of

_SYMBOLS = {"X": BLACK, "B": BLACK, "#": BLACK, "O": WHITE, "W": WHITE, ".": EMPTY, "+": EMPTY}


def parse_rows(text: str) -> list[list[int]]:
    rows = []
    for line in text.strip().splitlines():
        cells = [c for c in line.strip() if not c.isspace()]
        if not cells:
            continue
        try:
            rows.append([_SYMBOLS[c.upper()] for c in cells])
        except KeyError as e:
            raise ValueError(f"unknown board symbol {e.args[0]!r} in {line!r}") from None
    size = len(rows)
    if any(len(r) != size for r in rows):
        raise ValueError(f"an ASCII board must be square; got {[len(r) for r in rows]}")
    return rows


def parse(text: str) -> np.ndarray:
    """A board array from an ASCII diagram."""
    rows = parse_rows(text)
    size = len(rows)
    board = new_board(size)
    set_stones(board, {loc_of(r, c, size): v for r, row in enumerate(rows) for c, v in enumerate(row) if v})
    return board


def render(board: np.ndarray) -> str:
    size = board_size(board)
    letters = "   " + " ".join(GTP_COLUMNS[:size])
    lines = [letters]
    for r in range(size):
        cells = " ".join(".XO"[int(board[COLOR, loc_of(r, c, size)])] for c in range(size))
        lines.append(f"{size - r:2d} {cells} {size - r:2d}")
    lines.append(letters)
    return "\n".join(lines)
