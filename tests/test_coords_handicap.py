"""Coordinate systems at the corners of several boards, and the fixed handicap points of the GTP
specification (section 4.1.1) on every size from 7x7 to 25x25.

GNU Go's own `fixed_handicap` answers are compared elsewhere; here the expectations come from the
specification's text: the 19x19, 13x13 and 9x9 tables written out, and its rule for the other
sizes (corner points on the third line up to 12x12 and on the fourth from 13x13; edge and centre
points on the middle line of odd boards; at most 4 stones on 7x7 and on even boards, 9 on odd
boards from 9x9, none below 7x7).
"""

from __future__ import annotations

import pytest

from goengine.coords import (PASS_LOC, action_of_loc, all_locs, loc_of, loc_of_action, loc_of_sgf_point,
                             loc_of_vertex, row_col_of, sgf_point_of_loc, vertex_of_loc)
from goengine.handicap import (fixed_handicap_locs, fixed_handicap_vertices, max_fixed_handicap,
                               parse_free_handicap)

SPEC_TABLES = {
    19: {2: "D4 Q16", 3: "D4 Q16 D16", 4: "D4 Q16 D16 Q4", 5: "D4 Q16 D16 Q4 K10",
         6: "D4 Q16 D16 Q4 D10 Q10", 7: "D4 Q16 D16 Q4 D10 Q10 K10",
         8: "D4 Q16 D16 Q4 D10 Q10 K4 K16", 9: "D4 Q16 D16 Q4 D10 Q10 K4 K16 K10"},
    13: {2: "D4 K10", 3: "D4 K10 D10", 4: "D4 K10 D10 K4", 5: "D4 K10 D10 K4 G7",
         6: "D4 K10 D10 K4 D7 K7", 7: "D4 K10 D10 K4 D7 K7 G7",
         8: "D4 K10 D10 K4 D7 K7 G4 G10", 9: "D4 K10 D10 K4 D7 K7 G4 G10 G7"},
    9: {2: "C3 G7", 3: "C3 G7 C7", 4: "C3 G7 C7 G3", 5: "C3 G7 C7 G3 E5",
        6: "C3 G7 C7 G3 C5 G5", 7: "C3 G7 C7 G3 C5 G5 E5",
        8: "C3 G7 C7 G3 C5 G5 E3 E7", 9: "C3 G7 C7 G3 C5 G5 E3 E7 E5"},
}
LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"


def spec_vertices(size: int, stones: int) -> list[str]:
    """The specification's rule, in its own terms: columns and rows counted from 1."""
    near = 3 if size <= 12 else 4
    far = size + 1 - near
    mid = (size + 1) // 2

    def v(col: int, row: int) -> str:
        return f"{LETTERS[col - 1]}{row}"

    corners = [v(near, near), v(far, far), v(near, far), v(far, near)]
    sides = [v(near, mid), v(far, mid)]
    top_bottom = [v(mid, near), v(mid, far)]
    centre = [v(mid, mid)]
    placements = {2: corners[:2], 3: corners[:3], 4: corners, 5: corners + centre, 6: corners + sides,
                  7: corners + sides + centre, 8: corners + sides + top_bottom,
                  9: corners + sides + top_bottom + centre}
    return placements[stones]


@pytest.mark.parametrize("size", sorted(SPEC_TABLES))
def test_spec_tables(size):
    for stones, vertices in SPEC_TABLES[size].items():
        assert fixed_handicap_vertices(size, stones) == vertices.split()
        assert spec_vertices(size, stones) == vertices.split()  # the rule reproduces the tables


@pytest.mark.parametrize("size", range(7, 26))
def test_every_size(size):
    expected_max = 9 if size % 2 == 1 and size >= 9 else 4
    assert max_fixed_handicap(size) == expected_max
    for stones in range(2, expected_max + 1):
        assert fixed_handicap_vertices(size, stones) == spec_vertices(size, stones), (size, stones)
        locs = fixed_handicap_locs(size, stones)
        assert [vertex_of_loc(loc, size) for loc in locs] == spec_vertices(size, stones)
        assert len(set(locs)) == stones
    for stones in (0, 1, expected_max + 1):
        with pytest.raises(ValueError):
            fixed_handicap_locs(size, stones)


@pytest.mark.parametrize("size", range(2, 7))
def test_no_fixed_handicap_below_7x7(size):
    assert max_fixed_handicap(size) == 0
    with pytest.raises(ValueError):
        fixed_handicap_locs(size, 2)


def test_free_handicap():
    assert parse_free_handicap(["D4", "q16"], 19) == [loc_of_vertex("D4", 19), loc_of_vertex("Q16", 19)]
    for bad in (["D4"], ["D4", "D4"], ["D4", "pass"], ["D4", "I5"], ["D4", "U1"]):
        with pytest.raises(ValueError):
            parse_free_handicap(bad, 19)
    every = [vertex_of_loc(loc, 3) for loc in all_locs(3)]
    assert len(parse_free_handicap(every[:-1], 3)) == 8  # all points but one
    with pytest.raises(ValueError):
        parse_free_handicap(every, 3)


# --- coordinates -------------------------------------------------------------------------------

# size: top-left, top-right, bottom-left, bottom-right as (vertex, sgf point)
CORNERS = {
    2: [("A2", "aa"), ("B2", "ba"), ("A1", "ab"), ("B1", "bb")],
    9: [("A9", "aa"), ("J9", "ia"), ("A1", "ai"), ("J1", "ii")],
    19: [("A19", "aa"), ("T19", "sa"), ("A1", "as"), ("T1", "ss")],
    25: [("A25", "aa"), ("Z25", "ya"), ("A1", "ay"), ("Z1", "yy")],
}


@pytest.mark.parametrize("size", sorted(CORNERS))
def test_corners(size):
    n, w = size, size + 2
    row_cols = [(0, 0), (0, n - 1), (n - 1, 0), (n - 1, n - 1)]
    locs = [w + 1, w + n, n * w + 1, n * w + n]
    actions = [0, n - 1, n * (n - 1), n * n - 1]
    for (vertex, sgf), rc, loc, action in zip(CORNERS[size], row_cols, locs, actions):
        assert loc_of(*rc, size) == loc and row_col_of(loc, size) == rc
        assert action_of_loc(loc, size) == action and loc_of_action(action, size) == loc
        assert vertex_of_loc(loc, size) == vertex
        assert loc_of_vertex(vertex, size) == loc and loc_of_vertex(vertex.lower(), size) == loc
        assert sgf_point_of_loc(loc, size) == sgf and loc_of_sgf_point(sgf, size) == loc


@pytest.mark.parametrize("size", range(2, 26))
def test_round_trips(size):
    locs = all_locs(size)
    assert len(set(locs)) == size * size
    assert [action_of_loc(loc, size) for loc in locs] == list(range(size * size))
    for loc in locs:
        assert loc_of_vertex(vertex_of_loc(loc, size), size) == loc
        assert loc_of_sgf_point(sgf_point_of_loc(loc, size), size) == loc
    assert "I" not in "".join(vertex_of_loc(loc, size)[0] for loc in locs)


def test_passes():
    for size in (2, 9, 19, 25):
        assert action_of_loc(PASS_LOC, size) == size * size
        assert loc_of_action(size * size, size) == PASS_LOC
        assert vertex_of_loc(PASS_LOC, size) == "pass" and sgf_point_of_loc(PASS_LOC, size) == ""
        assert loc_of_vertex("pass", size) == loc_of_vertex("PASS", size) == PASS_LOC
        assert loc_of_sgf_point("", size) == PASS_LOC
    assert loc_of_sgf_point("tt", 19) == PASS_LOC and loc_of_sgf_point("tt", 9) == PASS_LOC
    assert loc_of_sgf_point("tt", 20) == loc_of(19, 19, 20)  # a point once the board reaches it
    assert loc_of_sgf_point("tt", 25) == loc_of_vertex("U6", 25)


@pytest.mark.parametrize("text,size", [("I5", 19), ("i5", 19), ("U1", 19), ("A20", 19), ("A0", 19),
                                       ("Z1", 19), ("A26", 25), ("", 19), ("D", 19), ("4D", 19),
                                       ("D-4", 19), ("K10", 9)])
def test_bad_vertices(text, size):
    with pytest.raises(ValueError):
        loc_of_vertex(text, size)


@pytest.mark.parametrize("text,size", [("zz", 19), ("ta", 19), ("at", 19), ("AA", 19), ("a", 19),
                                       ("abc", 19), ("za", 25), ("jj", 9)])
def test_bad_sgf_points(text, size):
    with pytest.raises(ValueError):
        loc_of_sgf_point(text, size)


def test_action_range():
    with pytest.raises(ValueError):
        loc_of_action(82, 9)
    with pytest.raises(ValueError):
        loc_of_action(-1, 9)
