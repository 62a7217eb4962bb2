"""Feature planes checked point by point on hand-built positions, against slow oracles built
from the board's own moves (board.play, count_liberties, a recursive ladder reader written
here), and for equivariance under the eight symmetries of the board."""

from __future__ import annotations

import numpy as np
import pytest

from goengine.ascii_board import parse, parse_rows
from goengine.board import (BLACK, COLOR, EMPTY, HEAD, INFO, KO_LOC, STONES, WHITE, count_liberties,
                            is_eyeish, is_legal, new_board, play, set_stones)
from goengine.coords import PASS_LOC, loc_of, row_col_of
from goengine.features import (FEATURE_SETS, encode, encode_game, feature_set_of_code,
                               get_feature_set, push_position)
from goengine.features import alphago as ag
from goengine.game import GameState

# --- helpers ----------------------------------------------------------------------------------


def encode_position(name, board, to_play, moves=()):
    """Features of `board` with no colour history beyond the current position and `moves`
    (most recent first) as the move history."""
    fs = get_feature_set(name)
    size = int(board[INFO, 0])
    color_hist = np.zeros((fs.history, board.shape[1]), np.int8)
    color_hist[0] = board[COLOR]
    move_hist = np.full(fs.history, -1, np.int64)
    move_hist[:len(moves)] = moves[:fs.history]
    out = np.full((fs.num_planes, size, size), 7, np.uint8)  # garbage the encoder must clear
    encode(fs.code, board, color_hist, 1, move_hist, len(moves), to_play, out)
    return out


def points(plane):
    return {(int(r), int(c)) for r, c in np.argwhere(plane)}


def transform(x, k):
    """Symmetry k (0..7) of the last two axes: mirror left-right when k >= 4, then k % 4
    counter-clockwise quarter turns."""
    if k >= 4:
        x = np.flip(x, axis=-1)
    return np.rot90(x, k % 4, axes=(-2, -1))


def transform_loc(loc, k, size):
    if loc <= 0:
        return loc
    grid = np.zeros((size, size), np.int8)
    grid[row_col_of(loc, size)] = 1
    r, c = np.argwhere(transform(grid, k))[0]
    return loc_of(int(r), int(c), size)


def transformed_board(text, k):
    rows = np.array(parse_rows(text))
    t = transform(rows, k)
    size = t.shape[0]
    board = new_board(size)
    set_stones(board, {loc_of(r, c, size): int(t[r, c]) for r in range(size) for c in range(size) if t[r, c]})
    return board


def random_game(size, num_moves, seed):
    """Locs of a random game: uniform legal moves that do not fill an own eye, an occasional pass."""
    rng = np.random.default_rng(seed)
    game = GameState(size, rules="chinese")
    locs = []
    for _ in range(num_moves):
        candidates = [loc for loc in game.legal_locs() if loc != PASS_LOC
                      and not is_eyeish(game.board, loc, game.to_play)]
        loc = PASS_LOC if not candidates or rng.random() < 0.03 else int(rng.choice(candidates))
        game.play(loc)
        locs.append(loc)
    return locs


def boards_of_game(size, locs):
    """The board before each move and after the last, with the side to move."""
    b = new_board(size)
    out = []
    color = BLACK
    for loc in locs:
        out.append((b.copy(), color))
        play(b, loc, color)
        color = 3 - color
    out.append((b.copy(), color))
    return out


# --- registry ---------------------------------------------------------------------------------


def test_registry_names_codes_and_plane_counts():
    assert get_feature_set("agz").num_planes == 18
    assert get_feature_set("AlphaGo").num_planes == 48
    assert get_feature_set("alphago_value").num_planes == 49
    assert len({fs.code for fs in FEATURE_SETS.values()}) == len(FEATURE_SETS)
    for fs in FEATURE_SETS.values():
        assert feature_set_of_code(fs.code) is fs
        assert fs.history >= 8
    with pytest.raises(ValueError):
        get_feature_set("leela")
    with pytest.raises(ValueError):
        feature_set_of_code(99)


def test_unknown_code_is_refused():
    board = new_board(5)
    with pytest.raises(ValueError):
        encode(99, board, board[COLOR][None].copy(), 1, np.full(8, -1, np.int64), 0, BLACK,
               np.zeros((18, 5, 5), np.uint8))


# --- agz --------------------------------------------------------------------------------------

AGZ_MOVES = [(0, 1), (0, 0), (1, 0), (4, 4), (3, 3)]  # B, W, B (takes the W stone), W, B


def test_agz_history_order_and_own_opponent_flip():
    size = 5
    locs = [loc_of(r, c, size) for r, c in AGZ_MOVES]
    feats = encode_game("agz", new_board(size), locs)
    # Before move 4 (index 3), white to play: B (0,1) and (1,0) are on the board, W (0,0) was
    # taken by the last move.
    x = feats[3]
    assert points(x[0]) == set()
    assert points(x[1]) == {(0, 0)}
    assert points(x[2]) == set()
    assert points(x[8]) == {(0, 1), (1, 0)}
    assert points(x[9]) == {(0, 1)}
    assert points(x[10]) == {(0, 1)}
    for t in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
        assert not x[t].any(), t
    assert not x[16].any()
    assert x[17].all()
    # Before move 5, black to play: now black's stones are "own".
    x = feats[4]
    assert points(x[0]) == {(0, 1), (1, 0)}
    assert points(x[1]) == {(0, 1), (1, 0)}
    assert points(x[2]) == {(0, 1)}
    assert points(x[3]) == {(0, 1)}
    assert points(x[8]) == {(4, 4)}
    assert points(x[9]) == set()
    assert points(x[10]) == {(0, 0)}
    assert points(x[11]) == set()
    assert x[16].all() and x[17].all()


def test_agz_matches_a_replay_reference_past_the_history_length():
    size = 7
    locs = random_game(size, 40, seed=3)
    feats = encode_game("agz", new_board(size), locs)
    boards = boards_of_game(size, locs)
    colours = [b[COLOR].reshape(size + 2, size + 2)[1:-1, 1:-1] for b, _ in boards]
    for i, (_, to_play) in enumerate(boards[:-1]):
        for t in range(8):
            own = colours[i - t] == to_play if i - t >= 0 else np.zeros((size, size), bool)
            opp = colours[i - t] == 3 - to_play if i - t >= 0 else np.zeros((size, size), bool)
            np.testing.assert_array_equal(feats[i, t], own, err_msg=f"position {i} plane {t}")
            np.testing.assert_array_equal(feats[i, 8 + t], opp, err_msg=f"position {i} plane {8 + t}")
        assert feats[i, 16].all() == (to_play == BLACK) and feats[i, 16].any() == (to_play == BLACK)


def test_push_position_shifts_both_histories():
    board = new_board(5)
    color_hist = np.zeros((3, board.shape[1]), np.int64)
    move_hist = np.full(3, -1, np.int64)
    color_hist[0] = board[COLOR]
    hist_len, moves_len = 1, 0
    for i, (r, c) in enumerate([(0, 0), (1, 1), (2, 2), (3, 3)]):
        loc = loc_of(r, c, 5)
        play(board, loc, BLACK if i % 2 == 0 else WHITE)
        hist_len, moves_len = push_position(board, color_hist, hist_len, move_hist, moves_len, loc)
    assert (hist_len, moves_len) == (3, 3)
    assert list(move_hist) == [loc_of(3, 3, 5), loc_of(2, 2, 5), loc_of(1, 1, 5)]
    np.testing.assert_array_equal(color_hist[0], board[COLOR])
    assert color_hist[1, loc_of(3, 3, 5)] == EMPTY and color_hist[1, loc_of(2, 2, 5)] == BLACK
    assert color_hist[2, loc_of(2, 2, 5)] == EMPTY and color_hist[2, loc_of(1, 1, 5)] == WHITE


# --- alphago: hand-built positions ------------------------------------------------------------

POSITION = """
    . X O . . . .
    X X O . . . .
    O O . . . . .
    . . . . . . .
    . . . . X X .
    . . . . X O O
    . . . . X O .
"""


def test_alphago_stone_liberty_and_constant_planes():
    board = parse(POSITION)
    x = encode_position("alphago", board, BLACK)
    assert points(x[ag.OWN]) == {(0, 1), (1, 0), (1, 1), (4, 4), (4, 5), (5, 4), (6, 4)}
    assert points(x[ag.OPPONENT]) == {(0, 2), (1, 2), (2, 0), (2, 1), (5, 5), (5, 6), (6, 5)}
    assert x[ag.EMPTY_PLANE].sum() == 49 - 14
    assert x[ag.ONES].all() and not x[ag.ZEROS].any()
    libs = {k + 1: points(x[ag.LIBERTIES + k]) for k in range(8)}
    assert libs[1] == {(0, 1), (1, 0), (1, 1)}
    assert libs[2] == {(5, 5), (5, 6), (6, 5)}
    assert libs[3] == {(0, 2), (1, 2), (2, 0), (2, 1)}
    assert libs[6] == {(4, 4), (4, 5), (5, 4), (6, 4)}
    assert all(not libs[k] for k in (4, 5, 7, 8))
    value = encode_position("alphago-value", board, BLACK)
    np.testing.assert_array_equal(value[:48], x)
    assert value[ag.PLAYER_COLOUR].all()
    assert not encode_position("alphago-value", board, WHITE)[ag.PLAYER_COLOUR].any()


def test_alphago_move_planes_for_black():
    board = parse(POSITION)
    x = encode_position("alphago", board, BLACK)
    # (0,0) fills the last liberty of black's own chain and (6,6) has none: both suicide.
    for p in ((0, 0), (6, 6)):
        assert not x[ag.CAPTURE_SIZE:ag.SENSIBLENESS + 1, p[0], p[1]].any(), p
    # Every other empty point is legal and captures nothing.
    legal = points(x[ag.CAPTURE_SIZE])
    assert legal == points(x[ag.EMPTY_PLANE]) - {(0, 0), (6, 6)}
    assert not x[ag.CAPTURE_SIZE + 1:ag.CAPTURE_SIZE + 8].any()
    # (4,6) joins the six-liberty chain: its liberties other than (4,6) plus (3,6).
    assert x[ag.LIBERTIES_AFTER + 5, 4, 6] == 1
    # (2,2) touches two white chains and has two empty neighbours.
    assert x[ag.LIBERTIES_AFTER + 1, 2, 2] == 1
    # (4,6) leaves the white corner chain one liberty, (6,6), which it cannot fill: caught.
    assert points(x[ag.LADDER_CAPTURE]) == {(4, 6)}
    assert not x[ag.SELF_ATARI_SIZE:ag.SELF_ATARI_SIZE + 8].any()
    assert not x[ag.LADDER_ESCAPE].any()


def test_alphago_move_planes_for_white():
    board = parse(POSITION)
    x = encode_position("alphago", board, WHITE)
    assert points(x[ag.OWN]) == {(0, 2), (1, 2), (2, 0), (2, 1), (5, 5), (5, 6), (6, 5)}
    # (0,0) takes three black stones; the new stone touches only (0,1) and (1,0) of them.
    assert x[ag.CAPTURE_SIZE + 3, 0, 0] == 1
    assert x[ag.LIBERTIES_AFTER + 1, 0, 0] == 1
    # (6,6) fills the corner chain's own liberty: four stones left in atari.
    assert points(x[ag.SELF_ATARI_SIZE + 3]) == {(6, 6)}
    assert x[ag.LIBERTIES_AFTER + 0, 6, 6] == 1
    assert sum(len(points(x[ag.SELF_ATARI_SIZE + k])) for k in range(8)) == 1
    # (6,6) is white's own eye (white or the edge all round, the one diagonal white).
    assert x[ag.SENSIBLENESS, 6, 6] == 0
    assert x[ag.SENSIBLENESS, 0, 0] == 1


EYE_AND_KO = """
    . X . . . . .
    X . X . . . .
    . X . . . . .
    . . . . O X .
    . . . O X . X
    . . . . O X .
    . . . . . . .
"""


def test_sensibleness_excludes_own_eye_ko_and_suicide():
    board = parse(EYE_AND_KO)
    play(board, loc_of(4, 5, 7), WHITE)  # takes (4,4): black may not retake at once
    assert board[INFO, KO_LOC] == loc_of(4, 4, 7)
    x = encode_position("alphago", board, BLACK)
    sensible = points(x[ag.SENSIBLENESS])
    empty = points(x[ag.EMPTY_PLANE])
    # (1,1) and the corner (0,0) are black's eyes; (4,4) is the ko point.
    assert sensible == empty - {(0, 0), (1, 1), (4, 4)}
    # The own eye is still a legal move: it joins four stones into one with six liberties.
    assert x[ag.CAPTURE_SIZE, 1, 1] == 1
    assert x[ag.LIBERTIES_AFTER + 5, 1, 1] == 1
    # The ko point is illegal, so no move plane is set there.
    assert not x[ag.CAPTURE_SIZE:ag.SENSIBLENESS + 1, 4, 4].any()
    # For white, (1,1) is suicide.
    y = encode_position("alphago", board, WHITE)
    assert not y[ag.CAPTURE_SIZE:ag.SENSIBLENESS + 1, 1, 1].any()
    assert y[ag.SENSIBLENESS, 0, 2] == 1


def test_turns_since():
    size = 5
    moves = [(0, 1), (0, 0), (1, 0), (4, 4), (0, 0), (4, 3), (2, 2), (3, 4), None, (3, 3)]
    locs = [PASS_LOC if m is None else loc_of(m[0], m[1], size) for m in moves] + [PASS_LOC]
    x = encode_game("alphago", new_board(size), locs)[-1]  # after the tenth move
    turns = {k + 1: points(x[ag.TURNS_SINCE + k]) for k in range(8)}
    assert turns[1] == {(3, 3)}
    assert turns[2] == set()  # a pass
    assert turns[3] == {(3, 4)}
    assert turns[4] == {(2, 2)}
    assert turns[5] == {(4, 3)}
    assert turns[6] == {(0, 0)}  # black's stone, not the white one taken there before
    assert turns[7] == {(4, 4)}
    assert turns[8] == {(1, 0), (0, 1)}
    # Stones whose placing is not in the history (setup) count as 8 or more.
    board = parse(".X.\n...\n.O.")
    y = encode_position("alphago", board, BLACK)
    assert points(y[ag.TURNS_SINCE + 7]) == {(0, 1), (2, 1)}
    assert not y[ag.TURNS_SINCE:ag.TURNS_SINCE + 7].any()


# --- ladders ----------------------------------------------------------------------------------

# White's stone at (4,4) has two liberties; black's atari at (3,4) drives it up and to the right
# along the classic staircase to the empty top-right corner.
LADDER = """
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . X O . . . .
    . . . . X X . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
"""

# The same with a white stone at (1,6) on the staircase: the ladder fails. Black's net at (3,5)
# still captures (white's escapes run into a ladder towards the empty top-left), but a net is
# not a ladder.
BROKEN_LADDER = """
    . . . . . . . . .
    . . . . . . O . .
    . . . . . . . . .
    . . . . . . . . .
    . . . X O . . . .
    . . . . X X . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
"""

# White to play, its stone at (4,4) in atari; extending at (4,5) gives two liberties.
IN_ATARI = LADDER.replace(". . . . . . . . .\n    . . . X O", ". . . . X . . . .\n    . . . X O")
IN_ATARI_BROKEN = BROKEN_LADDER.replace(". . . . . . . . .\n    . . . X O", ". . . . X . . . .\n    . . . X O")


def test_working_ladder_is_a_ladder_capture():
    x = encode_position("alphago", parse(LADDER), BLACK)
    assert points(x[ag.LADDER_CAPTURE]) == {(3, 4)}  # (4,5) lets white out at (3,4)


def test_ladder_breaker_and_net():
    x = encode_position("alphago", parse(BROKEN_LADDER), BLACK)
    assert not x[ag.LADDER_CAPTURE].any()
    assert x[ag.SENSIBLENESS, 3, 5] == 1


def test_ladder_escape():
    assert parse(IN_ATARI)[COLOR, loc_of(3, 4, 9)] == BLACK
    caught = encode_position("alphago", parse(IN_ATARI), WHITE)
    assert not caught[ag.LADDER_ESCAPE].any()
    assert caught[ag.LIBERTIES_AFTER + 1, 4, 5] == 1
    free = encode_position("alphago", parse(IN_ATARI_BROKEN), WHITE)
    assert points(free[ag.LADDER_ESCAPE]) == {(4, 5)}
    # Without the black stone at (5,5) the extension has three liberties: no ladder at all.
    open_board = parse(IN_ATARI)
    set_stones(open_board, {loc_of(5, 5, 9): EMPTY})
    assert points(encode_position("alphago", open_board, WHITE)[ag.LADDER_ESCAPE]) == {(4, 5)}


def test_ladder_across_the_whole_board():
    # The staircase from (16,2) climbs one row and one column every four moves and reaches the
    # top edge near the top-right corner, about 60 moves later.
    def position(breaker=None):
        board = new_board(19)
        stones = {loc_of(16, 2, 19): WHITE, loc_of(16, 1, 19): BLACK, loc_of(17, 2, 19): BLACK,
                  loc_of(17, 3, 19): BLACK}
        if breaker:
            stones[loc_of(*breaker, 19)] = WHITE
        set_stones(board, stones)
        return board

    assert points(encode_position("alphago", position(), BLACK)[ag.LADDER_CAPTURE]) == {(15, 2)}
    assert not encode_position("alphago", position((2, 16)), BLACK)[ag.LADDER_CAPTURE].any()


def test_ladders_in_every_orientation():
    for k in range(8):
        x = encode_position("alphago", transformed_board(LADDER, k), BLACK)
        assert points(x[ag.LADDER_CAPTURE]) == points(transform(_single(9, 3, 4), k)), k
        y = encode_position("alphago", transformed_board(IN_ATARI_BROKEN, k), WHITE)
        assert points(y[ag.LADDER_ESCAPE]) == points(transform(_single(9, 4, 5), k)), k
        z = encode_position("alphago", transformed_board(IN_ATARI, k), WHITE)
        assert not z[ag.LADDER_ESCAPE].any(), k


def _single(size, r, c):
    plane = np.zeros((size, size), np.uint8)
    plane[r, c] = 1
    return plane


# --- oracles on random positions --------------------------------------------------------------


def _chain_and_libs(colours, loc, w):
    """Stones and real liberties of the chain through `loc` (a flood fill over COLOR)."""
    colour = colours[loc]
    stones, libs, todo = {loc}, set(), [loc]
    while todo:
        s = todo.pop()
        for n in (s - w, s - 1, s + 1, s + w):
            if colours[n] == colour and n not in stones:
                stones.add(n)
                todo.append(n)
            elif colours[n] == EMPTY:
                libs.add(n)
    return stones, libs


def _after(board, loc, colour):
    b = board.copy()
    play(b, loc, colour)
    return b


def _hunter_wins(board, prey, hunter_turn, depth=0):
    """The ladder definition of `features/ladder.py`, read recursively on board copies with the
    board's own moves and legality (simple ko, no suicide)."""
    if depth >= 200:
        return False
    w = int(board[INFO, 0]) + 2
    colours = board[COLOR]
    prey_colour = int(colours[prey])
    stones, libs = _chain_and_libs(colours, prey, w)
    if hunter_turn:
        if len(libs) != 2:
            return len(libs) == 0 or (len(libs) == 1 and is_legal(board, next(iter(libs)), 3 - prey_colour, False))
        return any(is_legal(board, a, 3 - prey_colour, False)
                   and _hunter_wins(_after(board, a, 3 - prey_colour), prey, False, depth + 1) for a in libs)
    if len(libs) != 1:
        return len(libs) == 0
    replies = set(libs)
    for s in stones:
        for n in (s - w, s - 1, s + 1, s + w):
            if colours[n] == 3 - prey_colour:
                _, hunter_libs = _chain_and_libs(colours, n, w)
                if len(hunter_libs) == 1:
                    replies |= hunter_libs
    return all(not is_legal(board, m, prey_colour, False)
               or _hunter_wins(_after(board, m, prey_colour), prey, True, depth + 1) for m in replies)


def _oracle_planes(board, to_play):
    """Every move plane of `alphago` from playing each move on a copy of the board."""
    size = int(board[INFO, 0])
    w = size + 2
    mark = np.zeros(board.shape[1], np.int32)
    x = np.zeros((48, size, size), np.uint8)
    for r in range(size):
        for c in range(size):
            loc = loc_of(r, c, size)
            colour = board[COLOR, loc]
            if colour != EMPTY:
                x[ag.LIBERTIES + min(count_liberties(board, loc, mark), 8) - 1, r, c] = 1
                continue
            if not is_legal(board, loc, to_play, False):
                continue
            after = _after(board, loc, to_play)
            captured = int(after[INFO, 1 + to_play] - board[INFO, 1 + to_play])
            x[ag.CAPTURE_SIZE + min(captured, 7), r, c] = 1
            libs = count_liberties(after, loc, mark)
            x[ag.LIBERTIES_AFTER + min(libs, 8) - 1, r, c] = 1
            if libs == 1:
                x[ag.SELF_ATARI_SIZE + min(int(after[STONES, after[HEAD, loc]]), 8) - 1, r, c] = 1
            x[ag.SENSIBLENESS, r, c] = not is_eyeish(board, loc, to_play)
            for n in (loc - w, loc - 1, loc + 1, loc + w):
                if board[COLOR, n] == 3 - to_play and count_liberties(board, n, mark) == 2 \
                        and _hunter_wins(after, n, False):
                    x[ag.LADDER_CAPTURE, r, c] = 1
            in_atari = any(board[COLOR, n] == to_play and count_liberties(board, n, mark) == 1
                           for n in (loc - w, loc - 1, loc + 1, loc + w))
            if in_atari and libs >= 2 and not _hunter_wins(after, loc, True):
                x[ag.LADDER_ESCAPE, r, c] = 1
    return x


ORACLE_PLANES = list(range(ag.LIBERTIES, ag.SENSIBLENESS + 1))


@pytest.mark.parametrize("size,num_moves,seed", [(9, 50, 11), (9, 70, 12), (13, 120, 13)])
def test_alphago_planes_match_move_by_move_oracle(size, num_moves, seed):
    locs = random_game(size, num_moves, seed)
    ladders = 0
    for i, (board, to_play) in enumerate(boards_of_game(size, locs)[10::4]):
        for colour in (to_play, 3 - to_play):
            if colour != to_play:
                board = board.copy()
                board[INFO, KO_LOC] = 0  # the ko ban belongs to the player to move
            x = encode_position("alphago", board, colour)
            expected = _oracle_planes(board, colour)
            for k in ORACLE_PLANES:
                np.testing.assert_array_equal(x[k], expected[k], err_msg=f"position {i} colour {colour} plane {k}")
            ladders += int(x[ag.LADDER_CAPTURE].sum() + x[ag.LADDER_ESCAPE].sum())
    assert ladders > 0  # the positions exercised the ladder reader


def test_alphago_planes_match_oracle_on_a_full_board():
    size = 19
    locs = random_game(size, 200, seed=19)
    board, to_play = boards_of_game(size, locs)[-1]
    x = encode_position("alphago", board, to_play)
    expected = _oracle_planes(board, to_play)
    for k in ORACLE_PLANES:
        np.testing.assert_array_equal(x[k], expected[k], err_msg=f"plane {k}")


# --- symmetry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["agz", "alphago", "alphago-value"])
def test_encoding_commutes_with_the_eight_symmetries(name):
    size = 9
    for seed in (21, 22):
        locs = random_game(size, 60, seed)
        feats = encode_game(name, new_board(size), locs)
        for k in range(1, 8):
            moved = encode_game(name, new_board(size), [transform_loc(loc, k, size) for loc in locs])
            np.testing.assert_array_equal(moved, transform(feats, k), err_msg=f"seed {seed} symmetry {k}")
    for text, to_play in ((LADDER, BLACK), (BROKEN_LADDER, BLACK), (IN_ATARI, WHITE), (IN_ATARI_BROKEN, WHITE)):
        x = encode_position(name, transformed_board(text, 0), to_play)
        for k in range(1, 8):
            np.testing.assert_array_equal(encode_position(name, transformed_board(text, k), to_play), transform(x, k))
