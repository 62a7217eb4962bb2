"""Rules on hand-made positions: captures, ko, superko, suicide, seki and scoring, and GameState's
undo, move limit, resignation, draws and handicap compensation.

Positions are ASCII diagrams (rows from the top, X black, O white) and moves GTP vertices, so
each case reads like a Go diagram; every expected number was counted by hand from the diagram.
"""

from __future__ import annotations

import numpy as np
import pytest

from goengine.ascii_board import parse
from goengine.board import BLACK, COLOR, EMPTY, WHITE, board_size, play
from goengine.coords import all_locs, loc_of_vertex
from goengine.game import GameState, IllegalMove
from goengine.handicap import fixed_handicap_locs
from goengine.invariants import check_board
from goengine.rules import PRESETS, get_rules
from goengine.scoring import score

SUICIDE_LEGAL = {"tromp-taylor", "new-zealand"}


def game_from(diagram: str, rules: str = "chinese", to_play: int = BLACK,
              komi: float | None = None) -> GameState:
    board = parse(diagram)
    size = board_size(board)
    game = GameState(size, rules=rules, komi=komi)
    stones = {loc: int(board[COLOR, loc]) for loc in all_locs(size) if board[COLOR, loc] != EMPTY}
    game.setup_stones(stones, to_play=to_play)
    check_board(game.board)
    return game


def move(game: GameState, vertex: str, color: int | None = None) -> int:
    """Play a GTP vertex; returns the stones captured."""
    captured = game.play(loc_of_vertex(vertex, game.size), color)
    check_board(game.board)
    return captured


def legal(game: GameState, vertex: str, color: int | None = None) -> bool:
    loc = loc_of_vertex(vertex, game.size)
    by_mask = bool(game.legal_mask(color)[game.action_of(loc)])
    assert game.is_legal(loc, color) == by_mask
    return by_mask


def colour_at(game: GameState, vertex: str) -> int:
    return game.stone_at(loc_of_vertex(vertex, game.size))


# --- captures and ko ---------------------------------------------------------------------------

SNAPBACK = """
    . . . . .
    . . . . .
    X X X X .
    O O O X .
    . . O X .
"""


@pytest.mark.parametrize("rules", sorted(PRESETS))
def test_snapback(rules):
    game = game_from(SNAPBACK, rules)
    assert move(game, "B1") == 0  # the throw-in: one liberty, and White is in atari
    assert move(game, "A1") == 1  # White takes it...
    assert colour_at(game, "B1") == EMPTY
    assert legal(game, "B1")  # ...and is captured back at once: not a ko, five stones
    assert move(game, "B1") == 5
    for vertex in ("A1", "A2", "B2", "C2", "C1"):
        assert colour_at(game, vertex) == EMPTY
    assert game.captures == (5, 1)


KO = """
    . . . . .
    . X O . .
    X O . O .
    . X O . .
    . . . . .
"""


@pytest.mark.parametrize("rules", sorted(PRESETS))
def test_ko_needs_a_move_elsewhere_before_the_recapture(rules):
    game = game_from(KO, rules)
    assert move(game, "C3") == 1  # Black takes the ko
    assert not legal(game, "B3")
    with pytest.raises(IllegalMove, match="ko"):
        game.play(loc_of_vertex("B3", 5))
    move(game, "E1")  # a ko threat...
    move(game, "E5")  # ...answered
    assert legal(game, "B3")
    assert move(game, "B3") == 1
    assert not legal(game, "C3")  # and now Black must wait


def test_ko_bars_only_the_opponent_when_one_colour_moves_twice():
    game = game_from(KO, "chinese")
    move(game, "C3")
    assert not legal(game, "B3", WHITE)
    assert legal(game, "B3", BLACK)  # GTP may have Black fill the ko itself
    assert move(game, "B3", BLACK) == 0


def test_ko_is_lifted_by_a_pass():
    game = game_from(KO, "chinese")
    move(game, "C3")
    game.play(0)  # White passes
    game.play(0)  # Black passes
    assert legal(game, "B3", WHITE)


# Three kos: K1 (White holds it at B8, Black takes at C8), K2 (Black holds it at C5, White takes
# at B5), K3 (White holds it at B2, Black takes at C2). Six captures, each legal under simple ko,
# bring back the first position with Black to move.
TRIPLE_KO = """
    . X O . . . . . .
    X O . O . . . . .
    . X O . . . . . .
    . X O . . . . . .
    X . X O . . . . .
    . X O . . . . . .
    . X O . . . . . .
    X O . O . . . . .
    . X O . . . . . .
"""
TRIPLE_KO_CYCLE = ["C8", "B5", "C2", "B8", "C5", "B2"]


@pytest.mark.parametrize("rules,last_legal", [("chinese", True), ("japanese", True),
                                              ("tromp-taylor", False), ("chinese-ogs", False),
                                              ("aga", False), ("new-zealand", False)])
def test_triple_ko(rules, last_legal):
    game = game_from(TRIPLE_KO, rules)
    start = game.board[COLOR].copy()
    for vertex in TRIPLE_KO_CYCLE[:-1]:
        assert move(game, vertex) == 1
    assert legal(game, TRIPLE_KO_CYCLE[-1]) == last_legal
    if last_legal:
        move(game, TRIPLE_KO_CYCLE[-1])
        assert np.array_equal(game.board[COLOR], start)
    else:
        with pytest.raises(IllegalMove, match="superko"):
            move(game, TRIPLE_KO_CYCLE[-1])


# Black A1, White passes, then Black B1 kills its own two stones: the first position comes back,
# but with White to move. Positional superko forbids that; situational superko does not.
SUICIDE_CYCLE = """
    . . . . .
    . . . . .
    . . . . .
    O O O . .
    . . O . .
"""


@pytest.mark.parametrize("rules,legal_at_end", [("tromp-taylor", False), ("new-zealand", True)])
def test_positional_and_situational_superko_differ(rules, legal_at_end):
    game = game_from(SUICIDE_CYCLE, rules)
    start = game.board[COLOR].copy()
    move(game, "A1")
    game.play(0)
    assert legal(game, "B1") == legal_at_end
    if legal_at_end:
        move(game, "B1")
        assert np.array_equal(game.board[COLOR], start) and game.to_play == WHITE
        assert game.captures == (0, 2)


# --- suicide -----------------------------------------------------------------------------------

SUICIDES = """
    . O . . .
    O . . . .
    O O O . .
    X X O . .
    . O . . .
"""


@pytest.mark.parametrize("rules", sorted(PRESETS))
def test_suicide(rules):
    game = game_from(SUICIDES, rules)
    assert not legal(game, "A5")  # one stone: illegal under every rule set
    with pytest.raises(IllegalMove, match="suicide"):
        game.play(loc_of_vertex("A5", 5))
    if rules in SUICIDE_LEGAL:
        assert legal(game, "A1")  # three stones
        assert move(game, "A1") == 0
        for vertex in ("A1", "A2", "B2"):
            assert colour_at(game, vertex) == EMPTY
        assert game.captures == (0, 3)
    else:
        assert not legal(game, "A1")
        with pytest.raises(IllegalMove, match="suicide"):
            game.play(loc_of_vertex("A1", 5))


def test_preset_table():
    expected = {  # name: (ko, scoring, multi-stone suicide, handicap bonus for 4 stones)
        "tromp-taylor": ("positional", "area", True, 0),
        "chinese": ("simple", "area", False, 4),
        "chinese-ogs": ("positional", "area", False, 4),
        "japanese": ("simple", "territory", False, 0),
        "korean": ("simple", "territory", False, 0),
        "aga": ("situational", "area", False, 3),
        "new-zealand": ("situational", "area", True, 0),
    }
    assert set(PRESETS) == set(expected)
    for name, (ko, scoring, suicide, bonus) in expected.items():
        rules = get_rules(name.upper())
        assert (rules.ko, rules.scoring, rules.suicide) == (ko, scoring, suicide)
        assert rules.white_bonus(4) == bonus
        assert rules.white_bonus(0) == rules.white_bonus(1) == 0
    assert get_rules("tt") is get_rules("tromp-taylor") and get_rules("nz") is get_rules("new-zealand")
    with pytest.raises(ValueError):
        get_rules("klingon")


# --- seki and scoring --------------------------------------------------------------------------

# White's group (B7-B4, A4) and Black's stone A6 share the liberties A7 and A5: whoever fills one
# is captured, so both live. Black's wall owns the rest of the board.
SEKI_NO_EYES = """
    . O X . . . .
    X O X . . . .
    . O X . . . .
    O O X . . . .
    X X X . . . .
    . . . . . . .
    . . . . . . .
"""

# Black's A6-B6-B7 has the eye A7, White's big group the eye E7; they share C7.
SEKI_WITH_EYES = """
    . X . O . O X
    X X O O O O X
    O O O X X X X
    X X X X . . .
    . . . . . . .
    . . . . . . .
    . . . . . . .
"""


def test_seki_under_area_scoring():
    # Stones in seki count; the shared liberties count for no one.
    s = score(parse(SEKI_NO_EYES), "area", komi=0)
    assert (s.black, s.white) == (42, 5)  # 49 points: 5 white stones, A7 and A5 neutral
    # Eyes in seki are area like any other point surrounded by one colour.
    s = score(parse(SEKI_WITH_EYES), "area", komi=0)
    assert (s.black, s.white) == (13 + 24 + 1, 9 + 1)


def test_seki_under_territory_scoring():
    s = score(parse(SEKI_NO_EYES), "territory", komi=0)
    assert (s.black, s.white) == (34, 0)  # columns D-G down to row 3 and rows 1-2
    s = score(parse(SEKI_WITH_EYES), "territory", komi=0)
    assert (s.black, s.white) == (24, 0)  # the eyes A7 and E7 are in seki: no territory
    ownership = s.ownership.reshape(7, 7)
    assert ownership[0, 0] == EMPTY and ownership[0, 4] == EMPTY  # A7, E7
    assert ownership[6, 6] == BLACK


# White's B3 is dead inside Black's territory (A-B columns), White owns column E.
DEAD_STONE = """
    . . X O .
    . . X O .
    . O X O .
    . . X O .
    . . X O .
"""


def test_territory_scoring_with_dead_stones_and_prisoners():
    board = parse(DEAD_STONE)
    dead = [loc_of_vertex("B3", 5)]
    s = score(board, "territory", komi=6.5, dead=dead, captures=(2, 3))
    # Black: 10 points of territory (B3 included) + the dead stone + 2 prisoners.
    # White: 5 points + 3 prisoners + komi.
    assert (s.black, s.white) == (10 + 1 + 2, 5 + 3 + 6.5)
    assert s.result_string() == "W+1.5"
    alive = score(board, "territory", komi=6.5, captures=(2, 3))
    assert alive.black == 0 + 2  # B3 alive: A-B columns are no one's
    s = score(board, "area", komi=6.5, dead=dead)
    assert (s.black, s.white) == (10 + 5, 5 + 5 + 6.5)


# --- the game state ----------------------------------------------------------------------------

def test_undo_after_captures():
    game = game_from(SNAPBACK, "chinese")
    boards = [game.board.copy()]
    for vertex in ("B1", "A1", "B1"):
        move(game, vertex)
        boards.append(game.board.copy())
    for expected in reversed(boards[:-1]):
        game.undo()
        check_board(game.board)
        assert np.array_equal(game.board, expected)
    with pytest.raises(IndexError):
        game.undo()


def test_undo_after_handicap():
    game = GameState(9, rules="chinese")
    game.place_handicap(fixed_handicap_locs(9, 4))
    with_handicap = game.board.copy()
    assert game.to_play == WHITE and game.handicap == 4
    game.play(loc_of_vertex("E5", 9))
    game.play(loc_of_vertex("D5", 9))
    game.undo()
    game.undo()
    assert np.array_equal(game.board, with_handicap)
    assert game.to_play == WHITE and game.handicap == 4 and game.move_number == 0
    with pytest.raises(IllegalMove):
        game.place_handicap(fixed_handicap_locs(9, 2))  # the board is not empty


def test_undo_restores_superko_history():
    game = game_from(TRIPLE_KO, "tromp-taylor")
    for vertex in TRIPLE_KO_CYCLE[:-1]:
        move(game, vertex)
    game.undo()
    move(game, TRIPLE_KO_CYCLE[-2])
    assert not legal(game, TRIPLE_KO_CYCLE[-1])


def test_move_limit():
    game = GameState(9, max_moves=3)
    for vertex in ("A1", "B1"):
        game.play(loc_of_vertex(vertex, 9))
        assert not game.is_over
    game.play(0)
    assert game.is_over


def test_two_passes_end_the_game():
    game = GameState(5)
    game.play(0)
    assert not game.is_over
    game.play(0)
    assert game.is_over


@pytest.mark.parametrize("loser,result,winner", [(BLACK, "W+R", WHITE), (WHITE, "B+R", BLACK)])
def test_resignation(loser, result, winner):
    game = GameState(9)
    game.play(loc_of_vertex("E5", 9))
    game.resign(loser)
    assert game.is_over and game.result_string() == result and game.winner() == winner
    with pytest.raises(IllegalMove):
        game.play(loc_of_vertex("D5", 9))


def test_integer_komi_can_draw():
    # Black owns columns A-B (10), White columns D-E (10), C is a wall of 5 black stones:
    # Black 15, White 10; komi 5 makes it a draw.
    game = game_from("""
        . . X O .
        . . X O .
        . . X O .
        . . X O .
        . . X O .
    """, "chinese", komi=5)
    assert game.score().margin == 0
    assert game.winner() == EMPTY and game.result_string() == "0"
    assert game_from("""
        . . X O .
        . . X O .
        . . X O .
        . . X O .
        . . X O .
    """, "chinese", komi=4.5).result_string() == "B+0.5"


@pytest.mark.parametrize("rules,bonus", [("chinese", 4), ("aga", 3), ("japanese", 0),
                                         ("tromp-taylor", 0), ("new-zealand", 0)])
def test_handicap_bonus(rules, bonus):
    game = GameState(9, rules=rules, komi=0.5)
    game.place_handicap(fixed_handicap_locs(9, 4))
    s = game.score()
    if get_rules(rules).scoring == "area":
        assert s.black == 81  # four stones own the empty board
    else:
        assert s.black == 77
    assert s.white == 0.5 + bonus


def test_default_komi_follows_the_rules():
    assert GameState(9, rules="japanese").komi == 6.5
    assert GameState(9, rules="chinese").komi == 7.5
    assert GameState(9, rules="new-zealand").komi == 7.0
    assert GameState(9, rules="aga", komi=0).komi == 0


def test_play_kernel_reports_captures_by_colour():
    board = parse(SNAPBACK)
    assert play(board, loc_of_vertex("B1", 5), BLACK) == 0
    assert play(board, loc_of_vertex("A1", 5), WHITE) == 1
    assert play(board, loc_of_vertex("B1", 5), BLACK) == 5
    check_board(board)
