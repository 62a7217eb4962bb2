"""Coordinates: every name a point on the board goes by, and the conversions between them.

For a board of size N the padded board has stride W = N + 2: a one-point wall surrounds the
playing area, so neighbours never need bounds checks. Rows count from the top, as on screen.

| system    | type    | top-left        | top-right        | bottom-left     | bottom-right       | pass       |
|-----------|---------|-----------------|------------------|-----------------|--------------------|------------|
| loc       | int     | W + 1           | W + N            | N*W + 1         | N*W + N            | PASS_LOC=0 |
| (row,col) | ints    | (0, 0)          | (0, N-1)         | (N-1, 0)        | (N-1, N-1)         | None       |
| action    | int     | 0               | N - 1            | N*(N-1)         | N*N - 1            | N*N        |
| vertex    | str GTP | "A<N>" ("A19")  | "T19" on 19x19   | "A1"            | "T1" on 19x19      | "pass"     |
| sgf_point | str SGF | "aa"            | "sa" on 19x19    | "as" on 19x19   | "ss" on 19x19      | "" ("tt")  |

- loc = (row + 1) * W + (col + 1); loc 0 is a wall point, so it can stand for pass.
- action = row * N + col, pass = N * N: the network's policy index, row-major from the top-left.
- GTP vertex: a column letter from "ABCDEFGHJKLMNOPQRSTUVWXYZ" (no "I", 25 columns at most) and a
  row number counted from the bottom (1..N). Letters are read case-insensitively.
- SGF point: column letter then row letter, "a" = first, from the top-left. A pass is written
  as "" and read as "" or, on boards up to 19x19, "tt".
"""

from __future__ import annotations

MIN_SIZE = 2
MAX_SIZE = 25
DEFAULT_SIZE = 19  # every command's --size, unless a network says what it was trained on
PASS_LOC = 0
GTP_COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"


def check_size(size: int) -> int:
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"board size must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {size!r}")
    return size


def stride(size: int) -> int:
    return size + 2


def num_locs(size: int) -> int:
    return (size + 2) * (size + 2)


def pass_action(size: int) -> int:
    return size * size


# --- loc <-> (row, col) <-> action ---------------------------------------------------------

def loc_of(row: int, col: int, size: int) -> int:
    return (row + 1) * (size + 2) + col + 1


def row_col_of(loc: int, size: int) -> tuple[int, int]:
    w = size + 2
    return loc // w - 1, loc % w - 1


def on_board(loc: int, size: int) -> bool:
    if loc == PASS_LOC:
        return False
    row, col = row_col_of(loc, size)
    return 0 <= row < size and 0 <= col < size


def action_of_loc(loc: int, size: int) -> int:
    if loc == PASS_LOC:
        return size * size
    row, col = row_col_of(loc, size)
    return row * size + col


def loc_of_action(action: int, size: int) -> int:
    if action == size * size:
        return PASS_LOC
    if not 0 <= action < size * size:
        raise ValueError(f"action {action} out of range for a {size}x{size} board")
    return loc_of(action // size, action % size, size)


def locs_of_actions(actions, size: int):
    """loc_of_action over an integer array (numpy), without the range check."""
    import numpy as np

    a = np.asarray(actions, np.int64)
    return np.where(a == size * size, PASS_LOC, (a // size + 1) * (size + 2) + a % size + 1)


# --- GTP vertices ---------------------------------------------------------------------------

def vertex_of_loc(loc: int, size: int) -> str:
    if loc == PASS_LOC:
        return "pass"
    row, col = row_col_of(loc, size)
    return f"{GTP_COLUMNS[col]}{size - row}"


def loc_of_vertex(vertex: str, size: int) -> int:
    """Parse a GTP vertex ("D4", "d4", "pass"). Raises ValueError naming the problem."""
    text = vertex.strip()
    if text.lower() == "pass":
        return PASS_LOC
    if len(text) < 2:
        raise ValueError(f"invalid vertex {vertex!r}")
    letter = text[0].upper()
    if letter == "I" or letter not in GTP_COLUMNS:
        raise ValueError(f"invalid vertex {vertex!r}: bad column letter")
    col = GTP_COLUMNS.index(letter)
    digits = text[1:]
    if not digits.isdigit():
        raise ValueError(f"invalid vertex {vertex!r}: bad row number")
    number = int(digits)
    if col >= size or not 1 <= number <= size:
        raise ValueError(f"vertex {vertex!r} is off a {size}x{size} board")
    return loc_of(size - number, col, size)


# --- SGF points -----------------------------------------------------------------------------

def sgf_point_of_loc(loc: int, size: int) -> str:
    if loc == PASS_LOC:
        return ""
    row, col = row_col_of(loc, size)
    return chr(ord("a") + col) + chr(ord("a") + row)


def loc_of_sgf_point(point: str, size: int) -> int:
    """Parse an SGF point; "" and (on boards up to 19x19) "tt" are a pass."""
    if point == "" or (point == "tt" and size <= 19):
        return PASS_LOC
    if len(point) != 2 or not point.isalpha() or not point.islower():
        raise ValueError(f"invalid SGF point {point!r}")
    col = ord(point[0]) - ord("a")
    row = ord(point[1]) - ord("a")
    if not (0 <= row < size and 0 <= col < size):
        raise ValueError(f"SGF point {point!r} is off a {size}x{size} board")
    return loc_of(row, col, size)


def all_locs(size: int) -> list[int]:
    """Every on-board loc in action order."""
    return [loc_of(r, c, size) for r in range(size) for c in range(size)]
