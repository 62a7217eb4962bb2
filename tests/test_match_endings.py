"""The end of a match game: dead stones agreed by both sides come off the board; a disagreement
resumes play in cleanup, where they are captured on the board (KGS's procedure); Tromp-Taylor
and `dead_stones="as-is"` count the board as it stands."""

from __future__ import annotations

import os

import numpy as np
import pytest

from goengine.board import BLACK, WHITE
from goengine.coords import PASS_LOC, loc_of_vertex
from goengine.evaluator import RandomEvaluator
from goengine.game import GameState
from goengine.players import Decision, Player, PolicyPlayer, SearchPlayer
from goengine.players.policy_player import capturing_moves
from goengine.search import SearchConfig, rollout_search_config
from goengine.sgf import read_sgf
from selfplay.match import MatchConfig, play_match
from selfplay.players_spec import object_player
from selfplay.gtp_player import GtpPlayer
from selfplay.players_spec import PlayerSettings

GNUGO = os.environ.get("GNUGO", "/usr/games/gnugo")
needs_gnugo = pytest.mark.skipif(not os.access(GNUGO, os.X_OK), reason=f"GNU Go not found at {GNUGO}")

# 5x5, Black to play first: walls on columns C (Black) and D (White); White then drops a stone at
# A3, inside Black's area, and both pass. Counted as it stands, A3 makes Black's side neutral and
# White wins; with A3 dead, Black has 15 points to White's 10.
BLACK_MOVES = {0: "C1", 2: "C2", 4: "C3", 6: "C4", 8: "C5"}
WHITE_MOVES = {1: "D1", 3: "D2", 5: "D3", 7: "D4", 9: "D5", 11: "A3"}
CAPTURE_A3 = {14: "A2", 16: "A4", 18: "B3"}  # Black's moves once play resumes


class Scripted(Player):
    """Plays its script by move number and passes otherwise; `dead` is its opinion of the dead
    stones at the end (None: it cannot say)."""

    def __init__(self, name, moves, dead=None):
        self.name, self.moves, self.dead = name, moves, dead

    def decide(self, game, slot=0):
        vertex = self.moves.get(game.move_number)
        return Decision(PASS_LOC if vertex is None else loc_of_vertex(vertex, game.size))

    def dead_stones(self, slot, game):
        return None if self.dead is None else frozenset(loc_of_vertex(v, game.size) for v in self.dead)


def _play(black, white, **config):
    config = MatchConfig(games=1, size=5, komi=0.5, opening_moves=(0, 0), allow_resign=False, **config)
    return play_match(object_player(black), object_player(white), config).games[0]


def _position() -> GameState:
    game = GameState(5, komi=0.5, rules="chinese")
    for n in range(12):
        vertex = (BLACK_MOVES if n % 2 == 0 else WHITE_MOVES).get(n)
        game.play(PASS_LOC if vertex is None else loc_of_vertex(vertex, 5))
    return game  # Black to move, White's A3 dead inside Black's area


def _resumed_position() -> GameState:
    """_position after two passes and a resume: the cleanup phase, Black to move."""
    game = _position()
    game.play(PASS_LOC)
    game.play(PASS_LOC)
    game.resume()
    return game


def test_dead_stones_both_sides_name_come_off_the_board(tmp_path):
    black, white = Scripted("b", BLACK_MOVES, dead=["A3"]), Scripted("w", WHITE_MOVES, dead=["A3"])
    game = _play(black, white, rules="chinese", sgf_dir=str(tmp_path))
    assert game.reason == "score, dead stones agreed" and game.dead_stones == 1
    assert game.result == "B+4.5" and game.winner == BLACK and game.moves == 14
    assert read_sgf(game.sgf).result == "B+4.5"


@pytest.mark.parametrize("how", [{"rules": "chinese", "dead_stones": "as-is"}, {"rules": "tromp-taylor"}])
def test_as_is_and_tromp_taylor_count_every_stone_alive(how):
    game = _play(Scripted("b", BLACK_MOVES), Scripted("w", WHITE_MOVES), **how)
    assert game.reason == "score"
    # Black: the five C stones; White: 10 on D and E plus A3, and komi; A-B touches both colours.
    assert game.result == "W+6.5" and game.winner == WHITE


def test_a_disagreement_resumes_play_and_dead_stones_are_captured(tmp_path):
    black = Scripted("b", {**BLACK_MOVES, **CAPTURE_A3})
    white = Scripted("w", WHITE_MOVES, dead=[])  # White holds A3 alive
    black.dead = ["A3"]
    game = _play(black, white, rules="chinese", sgf_dir=str(tmp_path))
    assert game.reason == "score after cleanup"
    assert game.result == "B+4.5"
    # Passes at moves 12 and 13, then Black's three captures, then two more passes.
    assert game.moves == 21
    record = read_sgf(game.sgf)
    assert len(record.moves) == 21 and record.result == "B+4.5"
    assert b"play resumed" in open(game.sgf, "rb").read()
    replay = GameState(5, komi=0.5, rules="chinese")
    for move in record.moves:
        if replay.consecutive_passes == 2:
            replay.resume()
        replay.play(move.loc, move.color)
    assert replay.stone_at(loc_of_vertex("A3", 5)) == 0 and replay.result_string() == "B+4.5"


def test_resume_survives_undo():
    game = _position()
    game.play(PASS_LOC)
    game.play(PASS_LOC)
    assert game.is_over
    game.resume()
    game.play(loc_of_vertex("A2", 5))
    assert not game.is_over and game.consecutive_passes == 0
    game.undo()
    assert not game.is_over and game.move_number == 14 and game.to_play == BLACK


def test_policy_cleanup_plays_only_liberties_of_dead_stones():
    game = _position()
    mask = capturing_moves(game, game.legal_mask())
    chosen = {int(a) for a in np.flatnonzero(mask)}
    assert chosen == {game.action_of(loc_of_vertex(v, 5)) for v in ("A2", "A4", "B3")}
    # With nothing dead left to capture, every legal move (pass included) is allowed again.
    for vertex in ("A2", "D5", "A4", "E5", "B3"):  # Black captures; White's replies are legal fillers
        if vertex in ("D5", "E5"):
            game.play(PASS_LOC)
        else:
            game.play(loc_of_vertex(vertex, 5))
    assert game.stone_at(loc_of_vertex("A3", 5)) == 0
    game.play(PASS_LOC)  # White
    legal = game.legal_mask()
    assert np.array_equal(capturing_moves(game, legal), legal)


def test_policy_and_search_players_do_not_pass_in_cleanup():
    policy = PolicyPlayer(_PassingEvaluator(), "p")
    search = SearchPlayer(rollout_search_config(16), 5, None, max_moves=75, name="s")
    for side in (policy, search):
        game = _resumed_position()
        side.start_game(0, game, seed=1)
        reply = side.begin([0], [game])()[0]
        assert not reply.resign and reply.loc != PASS_LOC
    # Out of cleanup the same policy passes: the restriction above is what stopped it.
    assert policy.begin([0], [_position()])()[0].loc == PASS_LOC


class _PassingEvaluator(RandomEvaluator):
    """A network whose policy puts nearly everything on passing."""

    def __init__(self):
        super().__init__(5, seed=0)

    def evaluate(self, features):
        logits, values = super().evaluate(features)
        logits = np.array(logits, copy=True)
        logits[:, -1] = 50.0
        return logits, values


@needs_gnugo
def test_gnu_go_names_its_dead_stones_and_cleans_up():
    settings = PlayerSettings(size=5, komi=0.5, max_moves=75, search=SearchConfig(num_simulations=8))
    side = GtpPlayer("gnugo", [GNUGO, "--mode", "gtp", "--level", "0", "--chinese-rules"], settings, num_slots=1)
    try:
        game = _position()
        side.start_game(0, game, seed=1)
        assert side.dead_stones(0, game) == frozenset({loc_of_vertex("A3", 5)})
        # Both pass, play resumes in cleanup, and GNU Go (Black) is asked for kgs-genmove_cleanup:
        # it captures A3 rather than passing.
        game.play(PASS_LOC)  # Black
        game.play(PASS_LOC)  # White
        game.resume()
        reply = side.begin([0], [game])()[0]
        assert reply.forfeit is None and reply.loc in {loc_of_vertex(v, 5) for v in ("A2", "A4", "B3")}
    finally:
        side.close()


def test_a_search_player_reusing_its_tree_plays_on_after_a_resume():
    side = SearchPlayer(rollout_search_config(32), 5, None, max_moves=75, name="s")
    game = _position()
    side.start_game(0, game, seed=3)
    side.begin([0], [game])()  # builds a tree at this position
    game.play(PASS_LOC)
    game.play(PASS_LOC)
    game.resume()
    reply = side.begin([0], [game])()[0]  # the tree is walked through both passes, or rebuilt
    assert reply.loc != PASS_LOC and game.is_legal(reply.loc)
