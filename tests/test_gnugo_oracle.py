"""GNU Go as an independent oracle for goengine's rules: legality, captures, ko, superko, suicide
and the fixed handicap points.

Seeded random games are played in goengine and mirrored into GNU Go over GTP. Before every move
both engines must agree on the legal moves of both colours (GNU Go's `all_legal`, plus `is_legal`
on a random sample of empty points and on every point next to the last move); after every move
they must agree on the stones (`list_stones`) and the capture counts (`captures`). The moves are
biased towards captures, ataris and (where legal) suicides, and a player often passes while a ko
is on the board, so that ko retakes become legal again and superko has something to forbid.

GNU Go's flags and the goengine preset with the same legality (ko rule, multi-stone suicide):

| GNU Go flags (all with --chinese-rules)    | preset       | ko          | multi-stone suicide |
|--------------------------------------------|--------------|-------------|---------------------|
| (none: simple ko is GNU Go's default)       | chinese      | simple      | illegal             |
| --positional-superko                        | chinese-ogs  | positional  | illegal             |
| --positional-superko --allow-suicide        | tromp-taylor | positional  | legal               |
| --situational-superko                       | aga          | situational | illegal             |
| --situational-superko --allow-suicide       | new-zealand  | situational | legal               |

GNU Go's --allow-suicide permits suicide of more than one stone only (--allow-all-suicide would
permit single-stone suicide too, which no preset does). GNU Go forgets positions older than its
move history (500 moves), so games here stay shorter than that.

Known GNU Go quirks, each pinned by a test of its own:
- GNU Go does not apply superko to suicide moves (it tests the repetition with a move routine that
  leaves the suicided stones on the board), so it accepts a multi-stone suicide that recreates an
  earlier position. goengine must forbid it, which is what positional and situational superko say:
  such points are left out of the comparison with GNU Go and checked instead against the positions
  the test itself remembers.
- On 12x12 GNU Go puts fixed handicap stones on the fourth line; GTP's placement uses the third line
  below 13x13.
Legality is compared for both colours, since GTP's `play` lets either colour move: the simple-ko
point is barred only to the player whose stone was just taken.

GNU Go is looked for in $GNUGO, then /usr/games/gnugo, then `gnugo` on PATH; without it the
module is skipped.
"""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass

import numpy as np
import pytest

from goengine.board import (BLACK, COLOR, EMPTY, INFO, KO_LOC, WHITE, count_liberties,
                            is_legal as board_is_legal, play as play_stone)
from goengine.coords import GTP_COLUMNS, PASS_LOC, all_locs, loc_of_vertex, vertex_of_loc
from goengine.game import GameState, IllegalMove
from goengine.handicap import fixed_handicap_vertices
from goengine.rules import KO_SIMPLE, KO_SITUATIONAL, get_rules
from selfplay.gtp_client import GtpClient, GtpError


def _find_gnugo() -> str | None:
    configured = os.environ.get("GNUGO")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access("/usr/games/gnugo", os.X_OK):
        return "/usr/games/gnugo"
    return shutil.which("gnugo")


GNUGO = _find_gnugo()
pytestmark = pytest.mark.skipif(
    GNUGO is None, reason="GNU Go not found: set $GNUGO or install gnugo (/usr/games/gnugo)")

RULE_FLAGS = {
    "chinese": [],
    "chinese-ogs": ["--positional-superko"],
    "tromp-taylor": ["--positional-superko", "--allow-suicide"],
    "aga": ["--situational-superko"],
    "new-zealand": ["--situational-superko", "--allow-suicide"],
}
NAMES = {BLACK: "black", WHITE: "white"}


def start_gnugo(preset: str) -> GtpClient:
    return GtpClient([GNUGO, "--mode", "gtp", "--chinese-rules", *RULE_FLAGS[preset]], timeout=20)


@dataclass
class Tally:
    """What the games exercised; the tests assert these are not zero."""
    moves: int = 0
    stones_captured: int = 0
    ko_positions: int = 0          # positions with a simple-ko point
    superko_refusals: int = 0      # (colour, point) pairs legal but for superko, compared
    superko_positions: int = 0     # positions with at least one such pair
    simple_ko_repeats: int = 0     # moves that recreate a position, legal under simple ko, compared
    suicides_compared: int = 0     # multi-stone suicides compared (legal or not)
    suicide_superko_skipped: int = 0
    is_legal_calls: int = 0


def _chain_liberties(board: np.ndarray, size: int) -> dict[int, int]:
    """loc -> real liberties of the chain on it, for every stone."""
    mark = np.zeros(board.shape[1], dtype=np.int32)
    return {loc: count_liberties(board, loc, mark) for loc in all_locs(size) if board[COLOR, loc] != EMPTY}


def choose_move(game: GameState, rng: random.Random) -> int:
    """A random legal move for the side to play, biased towards ko captures, other captures,
    moves next to short-of-liberty chains and (where legal) suicides; often a pass while a ko is
    on the board, so that the ko can be retaken later and superko gets positions to forbid."""
    board, color, w = game.board, game.to_play, game.size + 2
    if rng.random() < (0.4 if board[INFO, KO_LOC] else 0.02):
        return PASS_LOC
    legal = [loc for loc in game.legal_locs() if loc != PASS_LOC]
    if not legal:
        return PASS_LOC
    libs = _chain_liberties(board, game.size)
    ko_takes, captures, tense, suicides = [], [], [], []
    for loc in legal:
        after = board.copy()
        if play_stone(after, loc, color):
            (ko_takes if after[INFO, KO_LOC] else captures).append(loc)
        elif any(libs.get(n, 9) <= 2 for n in (loc - w, loc - 1, loc + 1, loc + w)):
            tense.append(loc)
        if not board_is_legal(board, loc, color, False):
            suicides.append(loc)
    r = rng.random()
    for group, threshold in ((ko_takes, 0.8), (captures, 0.5), (tense, 0.75), (suicides, 0.8)):
        if group and r < threshold:
            return rng.choice(group)
    return rng.choice(legal)


class Mirror:
    """One seeded random game played in goengine and mirrored into GNU Go, compared throughout.
    `positions` and `situations` remember every position (COLOR row bytes), and every position
    with its player to move, independently of goengine's Zobrist keys."""

    def __init__(self, engine: GtpClient, preset: str, size: int, seed: int, tally: Tally):
        self.engine, self.preset, self.tally = engine, preset, tally
        self.rng = random.Random(seed)
        self.game = GameState(size, rules=preset)
        self.positions: set[bytes] = set()
        self.situations: set[tuple[bytes, int]] = set()
        self._remember()
        engine.boardsize(size)
        engine.clear_board()

    def _remember(self) -> None:
        key = self.game.board[COLOR].tobytes()
        self.positions.add(key)
        self.situations.add((key, self.game.to_play))

    def fail(self, what: str, color: int, detail: str) -> None:
        game = self.game
        moves = " ".join(f"{'BW'[m.color - 1]}:{vertex_of_loc(m.loc, game.size)}" for m in game.moves)
        pytest.fail(f"{what} under {self.preset} (GNU Go --chinese-rules {' '.join(RULE_FLAGS[self.preset])}) "
                    f"on {game.size}x{game.size}, {NAMES[color]}, after {len(game.moves)} moves: {detail}\n"
                    f"moves: {moves}\n{game.to_ascii()}")

    def ask(self, commands: list[str], color: int) -> list[str]:
        """Send the commands in one batch; any failure reply fails the test."""
        replies = self.engine.send_many(commands)
        for command, reply in zip(commands, replies):
            if not reply.ok:
                self.fail(f"GNU Go refused {command!r}", color, reply.text)
        return [reply.text for reply in replies]

    def play(self, moves: int) -> None:
        last = PASS_LOC
        for _ in range(moves):
            self.compare_legality(last)
            color = self.game.to_play
            last = choose_move(self.game, self.rng)
            self.tally.stones_captured += self.game.play(last, color)
            self.tally.moves += 1
            self._remember()
            self.compare_board(f"play {NAMES[color]} {vertex_of_loc(last, self.game.size)}")

    def repeats(self, loc: int, color: int) -> bool:
        """Whether `color` at `loc` recreates a position (situation, under situational superko),
        judged from the remembered positions rather than goengine's keys."""
        after = self.game.board.copy()
        play_stone(after, loc, color)
        key = after[COLOR].tobytes()
        if self.game.rules.ko_code == KO_SITUATIONAL:
            return (key, 3 - color) in self.situations
        return key in self.positions

    def suicide_superko_points(self, color: int) -> set[int]:
        """The multi-stone suicides that recreate a position: goengine must forbid them; GNU Go
        does not check them (see the module docstring), so they are left out of the comparison."""
        game, board = self.game, self.game.board
        if not game.rules.suicide or game.rules.ko_code == KO_SIMPLE:
            return set()
        points = {loc for loc in game.empty_points()
                  if board_is_legal(board, loc, color, True) and not board_is_legal(board, loc, color, False)
                  and self.repeats(loc, color)}
        for loc in points:
            if game.is_legal(loc, color):
                self.fail("goengine allows a suicide that repeats a position", color, vertex_of_loc(loc, game.size))
        self.tally.suicide_superko_skipped += len(points)
        return points

    def compare_legality(self, last: int) -> None:
        """Both colours' legal moves by `all_legal`, and the mover's by `is_legal` on a sample."""
        game, board, size, tally = self.game, self.game.board, self.game.size, self.tally
        if board[INFO, KO_LOC]:
            tally.ko_positions += 1
        empty = game.empty_points()
        mover = game.to_play
        skips = {color: self.suicide_superko_points(color) for color in (BLACK, WHITE)}
        w = size + 2
        near_last = [] if last == PASS_LOC else [n for n in (last - w, last - 1, last + 1, last + w)
                                                   if board[COLOR, n] == EMPTY]
        sample = sorted(set(self.rng.sample(empty, min(4, len(empty))) + near_last) - skips[mover])
        replies = self.ask([f"all_legal {NAMES[BLACK]}", f"all_legal {NAMES[WHITE]}"]
                           + [f"is_legal {NAMES[mover]} {vertex_of_loc(loc, size)}" for loc in sample], mover)
        refusals_before = tally.superko_refusals
        for color, reply in ((BLACK, replies[0]), (WHITE, replies[1])):
            skip = skips[color]
            mask = game.legal_mask(color)
            ours = {loc for loc in empty if mask[game.action_of(loc)]} - skip
            theirs = {loc_of_vertex(v, size) for v in reply.split()} - skip
            if ours != theirs:
                self.fail("all_legal differs", color,
                          f"legal in goengine only: {sorted(vertex_of_loc(l, size) for l in ours - theirs)}, "
                          f"in GNU Go only: {sorted(vertex_of_loc(l, size) for l in theirs - ours)}")
            self._count(color, empty, mask, skip)
            if color == mover:
                for loc, said in zip(sample, replies[2:]):
                    tally.is_legal_calls += 1
                    ours_says = game.is_legal(loc, color)
                    if said.strip() != str(int(ours_says)) or ours_says != bool(mask[game.action_of(loc)]):
                        self.fail("is_legal differs", color, f"{vertex_of_loc(loc, size)}: GNU Go {said}, "
                                  f"goengine {ours_says} (legal_mask {bool(mask[game.action_of(loc)])})")
        tally.superko_positions += int(tally.superko_refusals > refusals_before)

    def _count(self, color: int, empty: list[int], mask: np.ndarray, skip: set[int]) -> None:
        board, rules, tally = self.game.board, self.game.rules, self.tally
        for loc in empty:
            if loc in skip or not board_is_legal(board, loc, color, rules.suicide):
                continue
            tally.suicides_compared += int(not board_is_legal(board, loc, color, False))
            if rules.ko_code == KO_SIMPLE:
                tally.simple_ko_repeats += int(self.repeats(loc, color))
            elif not mask[self.game.action_of(loc)]:
                tally.superko_refusals += 1

    def compare_board(self, move_command: str) -> None:
        """Play the move in GNU Go, then compare the stones and the capture counts."""
        game, mover = self.game, 3 - self.game.to_play
        replies = self.ask([move_command] + [f"list_stones {NAMES[c]}" for c in (BLACK, WHITE)]
                           + [f"captures {NAMES[c]}" for c in (BLACK, WHITE)], mover)
        for color, stones, captured in ((BLACK, replies[1], replies[3]), (WHITE, replies[2], replies[4])):
            ours = {vertex_of_loc(loc, game.size) for loc in all_locs(game.size) if game.board[COLOR, loc] == color}
            theirs = set(stones.upper().split())
            if ours != theirs:
                self.fail("stones differ", color,
                          f"goengine only {sorted(ours - theirs)}, GNU Go only {sorted(theirs - ours)}")
            if int(captured) != game.captures[color - 1]:
                self.fail("captures differ", color, f"GNU Go {captured}, goengine {game.captures[color - 1]}")


# (size, moves, seed). Most kos and repetitions come from the small boards. About 7 s per rule
# set on one core.
QUICK_GAMES = ([(5, 150, s) for s in range(1, 9)] + [(7, 200, s) for s in range(9, 12)]
               + [(9, 250, 12), (9, 250, 13), (13, 150, 14)])
LONG_GAMES = ([(5, 300, s) for s in range(10, 30)] + [(7, 350, s) for s in range(30, 40)]
              + [(9, 450, s) for s in range(40, 52)] + [(13, 400, s) for s in range(52, 56)]
              + [(19, 450, s) for s in range(56, 58)])


def _run_games(preset: str, games) -> Tally:
    tally = Tally()
    with start_gnugo(preset) as engine:
        for size, moves, seed in games:
            Mirror(engine, preset, size, seed, tally).play(moves)
    print(f"\n{preset}: {tally}")
    assert tally.stones_captured > 0 and tally.ko_positions > 0
    if get_rules(preset).ko_code != KO_SIMPLE:
        assert tally.superko_positions > 0, "no position tested superko"
    else:
        assert tally.simple_ko_repeats > 0, "no repetition tested under simple ko"
    if "--allow-suicide" in RULE_FLAGS[preset]:
        assert tally.suicides_compared > 0, "no multi-stone suicide tested"
    return tally


@pytest.mark.parametrize("preset", sorted(RULE_FLAGS))
def test_random_games_agree(preset):
    _run_games(preset, QUICK_GAMES)


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(RULE_FLAGS))
def test_long_random_games_agree(preset):
    _run_games(preset, LONG_GAMES)


# --- fixed handicap -------------------------------------------------------------------------

def _one_line_further_in(vertices: list[str], size: int) -> list[str]:
    """Each point moved one line towards the centre in both directions (corner points only)."""
    moved = []
    for vertex in vertices:
        col, row = GTP_COLUMNS.index(vertex[0]), int(vertex[1:]) - 1
        col += 1 if col < size // 2 else -1
        row += 1 if row < size // 2 else -1
        moved.append(f"{GTP_COLUMNS[col]}{row + 1}")
    return moved


def test_fixed_handicap_matches_gnugo():
    """Every size GNU Go accepts that goengine supports (2..19), every stone count: the same
    points, and the same refusals. GNU Go lists the points in board order, so compare sets.

    12x12 is the exception: GNU Go puts the stones on the fourth line of every board larger than
    11x11, while the GTP placement (followed by goengine, by the GTP example engine and by gomill)
    uses the fourth line from 13x13 only."""
    accepted = 0
    with start_gnugo("chinese") as engine:
        for size in range(2, 20):
            engine.boardsize(size)
            for stones in range(-1, 12):
                engine.clear_board()
                try:
                    theirs = engine.fixed_handicap(stones)
                except GtpError:
                    theirs = None
                try:
                    ours = fixed_handicap_vertices(size, stones)
                except ValueError:
                    ours = None
                assert (ours is None) == (theirs is None), (size, stones, ours, theirs)
                if ours is None:
                    continue
                accepted += 1
                assert len(ours) == stones == len(set(ours))
                expected = _one_line_further_in(ours, size) if size == 12 else ours
                assert sorted(theirs) == sorted(expected), (size, stones, ours, theirs)
                assert sorted(engine.list_stones("black")) == sorted(theirs)
    assert accepted == 7 * 3 + 6 * 8  # sizes 7..19: 2..4 stones on 7x7 and even sizes, 2..9 on odd


def test_fixed_handicap_needs_an_empty_board():
    with start_gnugo("chinese") as engine:
        engine.boardsize(9)
        engine.clear_board()
        engine.play("black", "A1")
        with pytest.raises(GtpError):
            engine.fixed_handicap(2)
    game = GameState(9)
    game.play(loc_of_vertex("A1", 9))
    with pytest.raises(IllegalMove):
        game.place_handicap([loc_of_vertex(v, 9) for v in fixed_handicap_vertices(9, 2)])


# --- the known disagreements, pinned --------------------------------------------------------

def _replay(engine: GtpClient, game: GameState, moves: list[tuple[int, str]]) -> None:
    engine.boardsize(game.size)
    engine.clear_board()
    for color, vertex in moves:
        game.play(loc_of_vertex(vertex, game.size), color)
        engine.play(NAMES[color], vertex)


# Black takes a ko at C3 with D3; White may not retake at C3, Black may fill it.
KO_MOVES = [(BLACK, "B3"), (WHITE, "D4"), (BLACK, "C4"), (WHITE, "D2"), (BLACK, "C2"), (WHITE, "E3"),
            (BLACK, "A1"), (WHITE, "C3"), (BLACK, "D3")]


def test_gnugo_lets_the_ko_taker_fill_the_ko():
    game = GameState(5, rules="chinese")
    with start_gnugo("chinese") as engine:
        _replay(engine, game, KO_MOVES)
        assert game.board[INFO, KO_LOC] == loc_of_vertex("C3", 5)
        assert not engine.is_legal("white", "C3") and not game.is_legal(loc_of_vertex("C3", 5), WHITE)
        assert engine.is_legal("black", "C3")
        engine.play("black", "C3")


def test_goengine_lets_the_ko_taker_fill_the_ko():
    game = GameState(5, rules="chinese")
    for color, vertex in KO_MOVES:
        game.play(loc_of_vertex(vertex, 5), color)
    c3 = loc_of_vertex("C3", 5)
    assert game.to_play == WHITE and not game.is_legal(c3, WHITE) and game.is_legal(c3, BLACK)
    assert game.legal_mask(BLACK)[game.action_of(c3)] and not game.legal_mask(WHITE)[game.action_of(c3)]
    game.play(c3, BLACK)


def test_gnugo_ignores_superko_for_suicide():
    """White's suicide at B1 takes A1 and B1 off and recreates the position after Black's C1:
    positional superko forbids it (goengine), GNU Go accepts it. Should this test start failing,
    GNU Go applies superko to suicides and `Mirror.suicide_superko_points` can stop skipping them."""
    moves = [(BLACK, "A2"), (WHITE, "E5"), (BLACK, "B2"), (WHITE, "E4"), (BLACK, "C1"), (WHITE, "A1"),
             (BLACK, "pass")]
    game = GameState(5, rules="tromp-taylor")
    with start_gnugo("tromp-taylor") as engine:
        _replay(engine, game, moves)
        b1 = loc_of_vertex("B1", 5)
        assert board_is_legal(game.board, b1, WHITE, True) and not board_is_legal(game.board, b1, WHITE, False)
        assert not game.is_legal(b1, WHITE) and game.illegal_reason(b1, WHITE) == "superko"
        assert engine.is_legal("white", "B1")
        engine.play("white", "B1")
        assert sorted(engine.list_stones("white")) == ["E4", "E5"]


# White B1 then takes White's A1 and A2 off (a multi-stone suicide) into a position not seen before.
SUICIDE_SETUP = [(BLACK, "A3"), (BLACK, "B2"), (WHITE, "A2"), (BLACK, "C1"), (WHITE, "A1")]


@pytest.mark.parametrize("flags, single, multi", [
    ([], False, False), (["--allow-suicide"], False, True), (["--allow-all-suicide"], True, True)])
def test_gnugo_suicide_flags(flags, single, multi):
    """What each GNU Go suicide flag permits: the reason --allow-suicide maps to the presets
    with multi-stone suicide, and --allow-all-suicide to none."""
    with GtpClient([GNUGO, "--mode", "gtp", "--chinese-rules", *flags], timeout=20) as engine:
        engine.boardsize(5)
        engine.clear_board()
        for vertex in ("A2", "B1"):
            engine.play("black", vertex)
        assert engine.is_legal("white", "A1") == single
        engine.clear_board()
        for color, vertex in SUICIDE_SETUP:
            engine.play(NAMES[color], vertex)
        assert engine.is_legal("white", "B1") == multi
    for preset in ("tromp-taylor", "chinese-ogs"):
        game = GameState(5, rules=preset)
        for vertex in ("A2", "B1"):
            game.play(loc_of_vertex(vertex, 5), BLACK)
        assert not game.is_legal(loc_of_vertex("A1", 5), WHITE)
        game = GameState(5, rules=preset)
        for color, vertex in SUICIDE_SETUP:
            game.play(loc_of_vertex(vertex, 5), color)
        assert game.is_legal(loc_of_vertex("B1", 5), WHITE) == get_rules(preset).suicide
