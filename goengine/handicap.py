"""Handicap placements: the fixed points of the GTP specification, and validation of free ones.

GTP's `fixed_handicap` is defined on boards of 7x7 and larger: up to 9 stones on odd sizes from
9x9, up to 4 on 7x7 and on even sizes. The corner points sit on the third line on boards up to
12x12 and on the fourth line from 13x13.
"""

from __future__ import annotations

from .coords import loc_of_vertex, vertex_of_loc, loc_of


def max_fixed_handicap(size: int) -> int:
    if size < 7:
        return 0
    if size % 2 == 1 and size > 7:
        return 9
    return 4


def fixed_handicap_locs(size: int, stones: int) -> list[int]:
    """The locs of `stones` fixed handicap stones in GTP order. Raises ValueError when the
    number is not available on this size."""
    limit = max_fixed_handicap(size)
    if not 2 <= stones <= limit:
        if limit == 0:
            raise ValueError(f"no fixed handicap on a {size}x{size} board")
        raise ValueError(f"fixed handicap must be 2 to {limit} stones on {size}x{size}, got {stones}")
    edge = 2 if size <= 12 else 3  # zero-based line of the corner points
    low, high, mid = edge, size - 1 - edge, size // 2

    def at(col: int, row_from_bottom: int) -> int:
        return loc_of(size - 1 - row_from_bottom, col, size)

    bottom_left, top_right = at(low, low), at(high, high)
    top_left, bottom_right = at(low, high), at(high, low)
    centre = at(mid, mid)
    left, right = at(low, mid), at(high, mid)
    bottom, top = at(mid, low), at(mid, high)
    corners = [bottom_left, top_right, top_left, bottom_right]
    if stones <= 4:
        return corners[:stones]
    if stones == 5:
        return corners + [centre]
    sides = corners + [left, right]
    if stones == 6:
        return sides
    if stones == 7:
        return sides + [centre]
    if stones == 8:
        return sides + [bottom, top]
    return sides + [bottom, top, centre]


def fixed_handicap_vertices(size: int, stones: int) -> list[str]:
    return [vertex_of_loc(loc, size) for loc in fixed_handicap_locs(size, stones)]


def parse_free_handicap(vertices: list[str], size: int) -> list[int]:
    """Validate a `set_free_handicap` list: 2 or more distinct points, fewer than the board
    has, no pass."""
    if len(vertices) < 2:
        raise ValueError("a free handicap needs at least 2 stones")
    if len(vertices) >= size * size:
        raise ValueError("too many handicap stones")
    locs = [loc_of_vertex(v, size) for v in vertices]
    if any(loc == 0 for loc in locs):
        raise ValueError("a handicap stone cannot be a pass")
    if len(set(locs)) != len(locs):
        raise ValueError("repeated handicap vertex")
    return locs
