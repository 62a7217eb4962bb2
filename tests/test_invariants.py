"""The invariant checker accepts consistent boards and names each kind of corruption."""

from __future__ import annotations

import pytest

from goengine.ascii_board import parse
from goengine.board import (COLOR, EMPTY_LIST, EMPTY_POS, HASH, HEAD, INFO, KO_COLOR, KO_LOC, LIBS, NEXT,
                            NUM_EMPTY, STONES, WHITE, new_board, play)
from goengine.coords import loc_of_vertex
from goengine.invariants import check_board

POSITION = """
    . X O . .
    X X O . .
    . O O X .
    . . X . .
    . . . . .
"""


def _board():
    board = parse(POSITION)
    check_board(board)
    return board


def at(vertex: str) -> int:
    return loc_of_vertex(vertex, 5)


def test_consistent_boards_pass():
    check_board(new_board(2))
    check_board(new_board(25))
    board = _board()
    play(board, at("A3"), WHITE)  # captures nothing, joins the white chain
    check_board(board)


@pytest.mark.parametrize("corrupt,message", [
    (lambda b: b.__setitem__((LIBS, b[HEAD, at("B5")]), 7), "LIBS"),
    (lambda b: b.__setitem__((STONES, b[HEAD, at("B5")]), 1), "STONES"),
    (lambda b: b.__setitem__((HEAD, at("A4")), at("C5")), "heads"),
    (lambda b: b.__setitem__((NEXT, at("A4")), at("A4")), "NEXT ring"),
    (lambda b: b.__setitem__((HEAD, at("E1")), at("B5")), "holds no stone"),
    (lambda b: b.__setitem__((INFO, NUM_EMPTY), b[INFO, NUM_EMPTY] - 1), "EMPTY_LIST"),
    (lambda b: b.__setitem__((EMPTY_POS, b[EMPTY_LIST, 0]), 3), "EMPTY_POS"),
    (lambda b: b.__setitem__((INFO, HASH), b[INFO, HASH] ^ 1), "HASH"),
    (lambda b: b.__setitem__((COLOR, 0), 0), "border"),
    (lambda b: b[INFO].__setitem__([KO_LOC, KO_COLOR], [at("E1"), WHITE]), "ko point"),
])
def test_corruption_is_named(corrupt, message):
    board = _board()
    corrupt(board)
    with pytest.raises(AssertionError, match=message):
        check_board(board)


def test_chain_without_liberties_is_caught():
    board = parse("""
        X O .
        O . .
        . . .
    """)  # setup may leave a chain with no liberties, which play never does
    with pytest.raises(AssertionError, match="no liberties"):
        check_board(board)
