"""Random playouts checked one move at a time against the reference game.

`random_playout` with a cap of one move plays exactly the next move of a longer playout (the
generator state and the board carry everything), so stepping it shows every move: each must be
legal under simple ko without suicide and must not fill the mover's own eye, a pass must mean
that no other move was left, the playout must end with two passes or at the cap, and its score
must be the reference's Tromp-Taylor score of the final position.
"""

from __future__ import annotations

import numpy as np
import pytest

from goengine.board import BLACK, COLOR, WHITE, new_board
from goengine.coords import all_locs
from goengine.invariants import check_board
from goengine.playout import default_max_moves, playout_scratch, random_playout
from goengine.rng import new_rng
from goengine.scoring import area_score_of
from reference_board import EMPTY, ReferenceGame


def _position(board: np.ndarray, size: int) -> tuple[int, ...]:
    return tuple(int(board[COLOR, loc]) for loc in all_locs(size))


def step_playout(board: np.ndarray, to_play: int, passes: int, seed: int, cap: int) -> dict:
    size = int(np.sqrt(board.shape[1])) - 2
    owner, stack = playout_scratch(board)
    whole = board.copy()
    whole_score, whole_moves = random_playout(whole, to_play, passes, cap, new_rng(seed), owner, stack)

    rng = new_rng(seed)
    ref = ReferenceGame(size, "simple", suicide=False, position=_position(board, size), to_play=to_play)
    colour, moves, stats = to_play, 0, dict(moves=0, passes=0, captures=0, eyes_left=0)
    while moves < cap and passes < 2:
        before = _position(board, size)
        _, played = random_playout(board, colour, passes, 1, rng, owner, stack)
        assert played == 1
        check_board(board)
        after = _position(board, size)
        placed = [p for p in range(size * size) if before[p] == EMPTY and after[p] == colour]
        if not placed:
            assert after == before
            for p in range(size * size):
                # Nothing was playable: every legal point is the mover's own eye.
                if ref.is_legal(p, colour):
                    assert ref.board.is_eye_like(p, colour), p
                    stats["eyes_left"] += 1
            ref.play(None, colour)
            passes += 1
            stats["passes"] += 1
        else:
            (p,) = placed
            assert ref.is_legal(p, colour), p
            assert not ref.board.is_eye_like(p, colour), p
            captured, _ = ref.play(p, colour)
            assert ref.position == after
            stats["captures"] += bool(captured)
            passes = 0
        colour = 3 - colour
        moves += 1
    assert passes == 2 or moves == cap
    assert (moves, _position(board, size)) == (whole_moves, _position(whole, size))
    assert whole_score == area_score_of(board) == ref.board.area_score()
    stats["moves"] = moves
    return stats


@pytest.mark.parametrize("size,playouts", [(5, 40), (9, 12), (13, 3), (19, 2)])
def test_playouts_from_the_empty_board(size, playouts):
    totals = dict(moves=0, passes=0, captures=0, eyes_left=0)
    for seed in range(playouts):
        stats = step_playout(new_board(size), BLACK, 0, seed, default_max_moves(size))
        for k, v in stats.items():
            totals[k] += v
    assert totals["passes"] >= 2 * playouts and totals["captures"] > 0 and totals["eyes_left"] > 0


def test_playouts_from_the_middle_of_a_game():
    board = new_board(9)
    owner, stack = playout_scratch(board)
    random_playout(board, BLACK, 0, 30, new_rng(99), owner, stack)  # some opening moves
    for seed in range(10):
        step_playout(board.copy(), WHITE, 1, seed, default_max_moves(9))


def test_move_cap_ends_a_playout():
    stats = step_playout(new_board(9), BLACK, 0, 5, 17)
    assert stats["moves"] == 17 and stats["passes"] == 0
