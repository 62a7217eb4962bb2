"""The classical search (uniform priors, uniformly random rollouts, `rollout_search_config`) on
small positions whose winning move is known: a capture that wins the game, a ladder, the same
ladder broken by one white stone, a longer ladder worth a single point, and a ko.

Every problem is a 7x7 position with Black to play under Chinese rules (area scoring, simple
ko), with a komi chosen so that the tactic decides the game: the answer wins and every other
legal move, pass included, loses. The comment above each diagram says why. The answers were
checked independently of the search:
- GNU Go (level 10, Chinese rules) plays the answer (`test_gnu_go_plays_the_answer`), and when it
  plays both sides from every legal first move, only the answer wins
  (`test_gnu_go_wins_only_after_the_answer`, slow; all but the one-point ladder, whose margins
  are finer than GNU Go's endgame);
- for the ko and the one-point ladder, an exact minimax written here (every legal move except
  filling one's own eye, the game played to two passes and scored by area) gives every first
  move's margin (`test_exact_margins`). The other problems are too big for it: a group that dies
  leaves an empty area to search through.

The search must make the answer its most visited move with every seed, value it as a win, and
value it clearly above every other move it tried.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pytest

from goengine.ascii_board import parse_rows
from goengine.board import BLACK, COLOR, EMPTY, HASH, INFO, KO_LOC, WHITE, is_eyeish, is_legal, play
from goengine.coords import (PASS_LOC, action_of_loc, all_locs, loc_of, loc_of_action, loc_of_vertex,
                             vertex_of_loc)
from goengine.game import GameState
from goengine.players import SearchPlayer
from goengine.scoring import area_score_of
from goengine.search import SearchResult, rollout_search_config
from goengine.search.tree import ACTION, CHILD, EDGE_COUNT, EDGE_START, EXPANDED, ROOT, STATE
from gtp_helpers import find_gnugo, gnugo_argv, winner_of
from selfplay.gtp_client import GtpClient

SEEDS = range(6)
# "Clearly above": the answer's mean value beats every other tried move's by this much ([-1, 1]).
VALUE_GAP = 0.2


@dataclass(frozen=True)
class Problem:
    name: str
    diagram: str       # rows from the top: X black, O white, . empty; Black to play
    komi: float
    answer: str        # GTP vertex
    simulations: int   # the search's budget per seed

    def game(self) -> GameState:
        rows = parse_rows(self.diagram)
        size = len(rows)
        game = GameState(size, komi=self.komi, rules="chinese")
        stones = {loc_of(r, c, size): v for r, row in enumerate(rows) for c, v in enumerate(row) if v}
        game.setup_stones(stones, to_play=BLACK)
        return game


# White's chain D7-D6-D5 cuts Black's upper half in two and has one liberty, D4. Capturing it
# joins the halves into one living group of 28 points (the white stone B6 is dead inside) against
# White's 21: B+7, B+6.5 after komi. After any other move White connects at D4; Black's right half
# (one eye, G7) dies whatever Black does on the left, and White wins by more than 25. The decoy
# is the other capture, B7: it gives Black's left half its second eye, and loses the right half.
CAPTURE = Problem("capture", """
    . . X O X X .
    X O X O X X X
    X X X O X X X
    X X X . X X X
    O O O O O O O
    . . . . . . .
    . . . . . . .
""", komi=0.5, answer="D4", simulations=5000)

# White D5 (liberties C5 and D6) separates Black's left group (one eye, A7) from the right (one
# eye, G7); White C4 hangs from White's wall. The atari from the left, C5, is a ladder that runs
# into Black's left group: W D6, B D7, W C6, B C7 takes three stones. Black then owns rows 4-7 but
# C4: 27 points to 22, B+5, B+2.5 after komi. The atari from above, D6, lets D5 escape to C5 and
# C4; Black can still join its groups (C6), but White keeps C5 and D5: 25 to 24, W+1.5 after
# komi. No other move does better.
LADDER = Problem("ladder", """
    . X . . . X .
    X X . . X X X
    X X . O X X X
    X X O X X X X
    O O O O O O O
    . O . O . O .
    O O O O O O O
""", komi=2.5, answer="C5", simulations=5000)

# The ladder above with a breaker: a white stone on its path at D7. Now the atari C5 is a losing
# move: White D6 joins D7, and the chain D5-D7 stays between Black's groups; its liberties are
# theirs too, so neither side can approach it (it ends in seki), Black's groups stay apart and
# Black loses. The other atari, D6, is the answer: White connects C5 to C4, Black joins its
# groups with C6 and the breaker D7 dies inside: 25 points to 24, B+0.5 after komi. Nothing wins
# by more, so the komi is 2 points lower than the ladder's.
LADDER_BROKEN = Problem("ladder_broken", """
    . X . O . X .
    X X . . X X X
    X X . O X X X
    X X O X X X X
    O O O O O O O
    . O . O . O .
    O O O O O O O
""", komi=0.5, answer="D6", simulations=5000)

# A ladder in open space, worth a point. White E5 (liberties E6 and F5) stands in the corner
# region; Black D6 makes the atari from the right, F5, a ladder towards the corner: W E6, B E7,
# W F6, B G6, and White's F7 would have one liberty. The atari from above, E6, lets E5 run out
# to F5 and White's wall. The exact margins (test_exact_margins): F5 +1; F4, F6 and G6 -1; every
# other move -3 or less. With komi 0.5 only the ladder wins, by half a point.
ONE_POINT_LADDER = Problem("one_point_ladder", """
    . X . X . . .
    X X X X . . .
    . X . X O . .
    X X X X X . .
    O O O O O O O
    . O . O . O .
    O O O O O O O
""", komi=0.5, answer="F5", simulations=20000)

# White's right side is two groups with one eye each, F7-F6-G6-G5 (eye G7) and G3-F2-G2-F1
# (eye G1), joined only through G4, which is also the last liberty of White F4. Black G4 takes
# F4 and starts a ko: White may not retake at F4 at once, has no ko threat anywhere (every other
# empty point is an eye), and both white groups are now in atari: Black takes them next and wins
# by 21 points (before komi). After any other move White connects at G4 and lives with two eyes:
# 26 points to 23.
KO = Problem("ko", """
    . O X . X O .
    O O X X X O O
    . O X . X X O
    O O X X X O .
    . O X . X X O
    O O X X X O O
    . O X . X O .
""", komi=0.5, answer="G4", simulations=5000)

PROBLEMS = [CAPTURE, LADDER, LADDER_BROKEN, ONE_POINT_LADDER, KO]
BY_NAME = pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])


def action(game: GameState, vertex: str) -> int:
    return action_of_loc(loc_of_vertex(vertex, game.size), game.size)


def analyse(game: GameState, simulations: int, seed: int) -> SearchResult:
    player = SearchPlayer(rollout_search_config(simulations), game.size, None, seed=seed)
    return player.analyse(game)


def describe(game: GameState, result: SearchResult, count: int = 5) -> str:
    top = np.argsort(-result.visit_counts)[:count]
    return ", ".join(f"{vertex_of_loc(loc_of_action(int(a), game.size), game.size)}: "
                     f"{result.visit_counts[a]} visits, q {result.q[a]:+.2f}" for a in top)


def chain(game: GameState, vertex: str) -> tuple[set[str], set[str]]:
    """The stones and the liberties of the chain on `vertex`, as vertices (a flood fill, apart
    from the board's own chain bookkeeping)."""
    board, size, w = game.board, game.size, game.size + 2
    start = loc_of_vertex(vertex, size)
    colour = board[COLOR, start]
    seen, stack, liberties = {start}, [start], set()
    while stack:
        loc = stack.pop()
        for n in (loc - w, loc - 1, loc + 1, loc + w):
            if board[COLOR, n] == EMPTY:
                liberties.add(vertex_of_loc(n, size))
            elif board[COLOR, n] == colour and n not in seen:
                seen.add(n)
                stack.append(n)
    return {vertex_of_loc(loc, size) for loc in seen}, liberties


def chain_liberties(game: GameState, vertex: str) -> set[str]:
    return chain(game, vertex)[1]


def play_vertices(game: GameState, *vertices: str) -> int:
    """Play the moves in turn; returns the stones the last one captured."""
    captured = 0
    for v in vertices:
        captured = game.play(loc_of_vertex(v, game.size))
    return captured


# --- the diagrams are what the comments say ---------------------------------------------------

def test_capture_diagram():
    game = CAPTURE.game()
    assert chain_liberties(game, "D7") == {"D4"}
    assert chain_liberties(game, "B6") == {"B7"}
    assert play_vertices(game, "D4") == 3


def test_ladder_diagrams_differ_by_the_breaker_and_the_ladder_works_only_without_it():
    ladder, broken = LADDER.game(), LADDER_BROKEN.game()
    differ = np.flatnonzero(ladder.board[COLOR] != broken.board[COLOR])
    assert [vertex_of_loc(int(loc), 7) for loc in differ] == ["D7"]
    for game in (ladder, broken):
        assert chain_liberties(game, "D5") == {"C5", "D6"}
    # the ladder: every extension leaves White two liberties or fewer, and it ends in a capture
    assert play_vertices(ladder, "C5", "D6") == 0 and chain_liberties(ladder, "D5") == {"C6", "D7"}
    assert play_vertices(ladder, "D7", "C6") == 0 and chain_liberties(ladder, "D5") == {"C7"}
    assert play_vertices(ladder, "C7") == 3
    # with the breaker the first extension already has three liberties
    play_vertices(broken, "C5", "D6")
    assert chain_liberties(broken, "D5") == {"C6", "C7", "E7"}
    # and the atari from above lets D5 join C4 and White's wall
    wrong = LADDER.game()
    play_vertices(wrong, "D6", "C5")
    assert {"C5", "C4", "C3", "A1"} <= chain(wrong, "D5")[0]


def test_one_point_ladder_reads_to_a_capture():
    game = ONE_POINT_LADDER.game()
    assert chain_liberties(game, "E5") == {"E6", "F5"}
    steps = (("F5", "E6", {"E7", "F6"}), ("E7", "F6", {"F7", "G6"}), ("G6", "F7", {"G7"}))
    for black, white, liberties in steps:
        play_vertices(game, black, white)
        assert chain_liberties(game, "E5") == liberties
    assert play_vertices(game, "G7") == 4


def test_ko_diagram_is_a_ko():
    game = KO.game()
    assert chain_liberties(game, "F4") == {"G4"}
    assert chain_liberties(game, "G5") == {"G7", "G4"} and chain_liberties(game, "G3") == {"G1", "G4"}
    assert play_vertices(game, "G4") == 1
    assert chain_liberties(game, "G4") == {"F4"}  # one stone with one liberty: a ko
    assert chain_liberties(game, "G5") == {"G7"} and chain_liberties(game, "G3") == {"G1"}
    retake = loc_of_vertex("F4", game.size)
    assert not game.is_legal(retake)
    # it is the ko rule alone that forbids it: on a board without the ko mark it captures G4
    board = game.board.copy()
    board[INFO, KO_LOC] = 0
    assert is_legal(board, retake, WHITE, False) and play(board, retake, WHITE) == 1


# --- the search --------------------------------------------------------------------------------

@BY_NAME
def test_rollout_search_finds_the_winning_move(problem):
    game = problem.game()
    answer = action(game, problem.answer)
    for seed in SEEDS:
        result = analyse(game, problem.simulations, seed)
        seen = describe(game, result)
        assert int(np.argmax(result.visit_counts)) == answer, f"seed {seed}: {seen}"
        assert result.q[answer] > 0, f"seed {seed}: the answer is not valued as a win: {seen}"
        tried = (result.visit_counts > 0) & (np.arange(len(result.q)) != answer)
        assert tried.any()
        best_other = float(np.max(result.q[tried]))
        assert result.q[answer] - best_other >= VALUE_GAP, f"seed {seed}: {seen}"


def test_the_ladder_atari_is_the_answer_only_without_the_breaker():
    ladder, broken = LADDER.game(), LADDER_BROKEN.game()
    atari = action(ladder, "C5")
    for seed in SEEDS:
        with_ladder = analyse(ladder, LADDER.simulations, seed)
        without = analyse(broken, LADDER_BROKEN.simulations, seed)
        assert with_ladder.visit_counts[atari] > 0.5 * LADDER.simulations
        assert without.visit_counts[atari] < 0.1 * LADDER_BROKEN.simulations, describe(broken, without)
        assert without.q[atari] < with_ladder.q[atari] - VALUE_GAP


def _node_actions(player: SearchPlayer, path: list[int]) -> set[int]:
    """The actions of the edges of the node of `player`'s tree reached from the root by `path`."""
    node_i, _, edge_i, _, counts = player.search.trees
    node = int(counts[0, ROOT])
    for a in path:
        assert node_i[0, STATE, node] == EXPANDED
        start, count = node_i[0, EDGE_START, node], node_i[0, EDGE_COUNT, node]
        children = {int(edge_i[0, ACTION, e]): int(edge_i[0, CHILD, e]) for e in range(start, start + count)}
        node = children[a]
        assert node >= 0
    assert node_i[0, STATE, node] == EXPANDED
    start, count = node_i[0, EDGE_START, node], node_i[0, EDGE_COUNT, node]
    return {int(edge_i[0, ACTION, e]) for e in range(start, start + count)}


def test_ko_retake_is_not_among_whites_moves_in_the_search():
    game = KO.game()
    take, retake = action(game, "G4"), action(game, "F4")
    player = SearchPlayer(rollout_search_config(KO.simulations), game.size, None, seed=0)
    player.analyse(game)
    after = game.copy()
    after.play(loc_of_action(take, game.size))
    whites_moves = set(np.flatnonzero(after.legal_mask()).tolist())
    assert retake not in whites_moves
    # inside the tree, the node after the capture offers White exactly the legal moves
    assert _node_actions(player, [take]) == whites_moves
    # and a search from that position never tries the retake
    result = analyse(after, KO.simulations, seed=0)
    assert result.visit_counts[retake] == 0 and result.prior[retake] == 0
    assert result.visit_counts.sum() > 0 and result.root_value < 0  # White is lost


# --- independent checks of the answers ---------------------------------------------------------

class ExactMinimax:
    """Black's area margin (before komi) under best play, by alpha-beta over every legal move
    but one that fills the mover's own single-point eye (never useful in these problems). The
    game ends after two passes and is scored by area. A position may not recur along a line
    (positional superko), which ends every line; simple ko differs from it only in cycles of
    several kos, and these problems have at most one. The transposition table ignores the line
    that led to a position (the usual approximation)."""

    def __init__(self, size: int):
        self.locs = all_locs(size)
        self.table: dict[tuple, tuple[int, int]] = {}

    def margin(self, board: np.ndarray, to_play: int, passes: int, line: set[int],
               alpha: int = -999, beta: int = 999) -> int:
        if passes == 2:
            return area_score_of(board)
        key = (int(board[INFO, HASH]), to_play, passes, int(board[INFO, KO_LOC]))
        stored = self.table.get(key)
        if stored is not None:
            value, bound = stored
            if bound == 0 or (bound > 0 and value >= beta) or (bound < 0 and value <= alpha):
                return value
        low, high = alpha, beta
        children = []
        for loc in self.locs:
            if (board[COLOR, loc] == EMPTY and is_legal(board, loc, to_play, False)
                    and not is_eyeish(board, loc, to_play)):
                child = board.copy()
                captured = play(child, loc, to_play)
                if int(child[INFO, HASH]) not in line:
                    children.append((-captured, loc, child))
        children.sort(key=lambda c: c[0])  # captures first
        passed = board.copy()
        play(passed, PASS_LOC, to_play)
        moves = [(passed, True)] + [(c, False) for _, _, c in children]
        if passes == 0:
            moves = moves[1:] + moves[:1]  # a pass that cannot end the game is tried last
        best = -999 if to_play == BLACK else 999
        for child, is_pass in moves:
            if is_pass:
                value = self.margin(child, 3 - to_play, passes + 1, line, alpha, beta)
            else:
                h = int(child[INFO, HASH])
                line.add(h)
                value = self.margin(child, 3 - to_play, 0, line, alpha, beta)
                line.discard(h)
            if to_play == BLACK:
                best, alpha = max(best, value), max(alpha, value)
            else:
                best, beta = min(best, value), min(beta, value)
            if alpha >= beta:
                break
        self.table[key] = (best, -1 if best <= low else 1 if best >= high else 0)
        return best

    def first_moves(self, game: GameState) -> dict[str, int]:
        """The margin after each legal first move of the side to play (pass included)."""
        out = {}
        line = {int(game.board[INFO, HASH])}
        for loc in [PASS_LOC] + self.locs:
            if loc != PASS_LOC and not game.is_legal(loc):
                continue
            child = game.board.copy()
            play(child, loc, game.to_play)
            if loc != PASS_LOC:
                line.add(int(child[INFO, HASH]))
            passes = 1 if loc == PASS_LOC else 0
            out[vertex_of_loc(loc, game.size)] = self.margin(child, 3 - game.to_play, passes, line)
            if loc != PASS_LOC:
                line.discard(int(child[INFO, HASH]))
        return out


@pytest.mark.parametrize("problem", [KO, pytest.param(ONE_POINT_LADDER, marks=pytest.mark.slow)],
                         ids=["ko", "one_point_ladder"])
def test_exact_margins(problem):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    game = problem.game()
    margins = ExactMinimax(game.size).first_moves(game)
    winners = sorted(v for v, m in margins.items() if m - problem.komi > 0)
    assert winners == [problem.answer], margins
    if problem is KO:
        assert margins["G4"] == 21 and max(m for v, m in margins.items() if v != "G4") == -3
    else:
        assert margins["F5"] == 1 and max(m for v, m in margins.items() if v != "F5") == -1


GNUGO = find_gnugo()
needs_gnugo = pytest.mark.skipif(GNUGO is None, reason="GNU Go not found: set $GNUGO or install gnugo")


def gnugo() -> GtpClient:
    return GtpClient(gnugo_argv(GNUGO, level=10) + ["--never-resign"], timeout=60)


def set_up(engine: GtpClient, problem: Problem) -> GameState:
    """Give GNU Go the problem's position (stone by stone: no stone is ever left without a
    liberty, so nothing is captured on the way) and komi; returns goengine's game for it."""
    game = problem.game()
    engine.boardsize(game.size)
    engine.clear_board()
    engine.komi(problem.komi)
    for colour in (WHITE, BLACK):
        for loc in all_locs(game.size):
            if game.board[COLOR, loc] == colour:
                engine.play("black" if colour == BLACK else "white", vertex_of_loc(loc, game.size))
    return game


@needs_gnugo
@BY_NAME
def test_gnu_go_plays_the_answer(problem):
    with gnugo() as engine:
        set_up(engine, problem)
        assert engine.genmove("black") == problem.answer


# A one-point margin is finer than GNU Go's endgame: as White it loses a point after F6 and G6 in
# the one-point ladder, which the exact minimax settles instead.
@needs_gnugo
@pytest.mark.slow
@pytest.mark.parametrize("problem", [p for p in PROBLEMS if p is not ONE_POINT_LADDER],
                         ids=[p.name for p in PROBLEMS if p is not ONE_POINT_LADDER])
def test_gnu_go_wins_only_after_the_answer(problem):
    """GNU Go plays both sides to the end after every legal first move of Black's; Black must win
    after the answer and lose after everything else."""
    winners = {}
    with gnugo() as engine:
        game = set_up(engine, problem)
        firsts = [vertex_of_loc(loc, game.size) for loc in [PASS_LOC] + all_locs(game.size)
                  if game.is_legal(loc)]
        for first in firsts:
            set_up(engine, problem)
            engine.play("black", first)
            colour, passes = "white", 1 if first == "pass" else 0
            for _ in range(4 * game.size * game.size):
                if passes == 2:
                    break
                passes = passes + 1 if engine.genmove(colour) == "pass" else 0
                colour = "black" if colour == "white" else "white"
            assert passes == 2, f"GNU Go did not finish the game after {first}"
            winners[first] = winner_of(engine.final_score())
    assert sorted(v for v, w in winners.items() if w == "black") == [problem.answer], winners
