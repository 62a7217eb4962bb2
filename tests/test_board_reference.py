"""The fast board and GameState against the slow reference game, move by move, in random games.

Every move of every game checks: the full legal-move mask (superko included) under four rule
presets that between them cover simple, positional and situational ko with suicide allowed and
forbidden; the stones on the board; the stones captured; the board invariants; that the Zobrist
hash is a function of the stone set that tells different sets apart; and, for every legal move of
the position, `board.play` on a copy, `hash_after` and `repeats_position`. Moves are drawn with a
bias towards captures and suicides, and the games include passes, illegal attempts and (under
simple ko) the same colour moving twice, as GTP allows. Games end with area scores compared.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from goengine.board import (BLACK, COLOR, HASH, INFO, KO_COLOR, KO_LOC, WHITE, hash_after, is_legal, play,
                            repeats_position)
from goengine.coords import all_locs, loc_of_action, vertex_of_loc
from goengine.game import GameState, IllegalMove
from goengine.invariants import check_board
from goengine.rules import get_rules
from goengine.scoring import area_score_of
from reference_board import EMPTY, ReferenceGame

# What each preset must mean (the rule sets' definitions, not read from goengine):
# preset -> (ko rule, multi-stone suicide legal)
PRESET_MEANING = {
    "tromp-taylor": ("positional", True),
    "chinese": ("simple", False),
    "aga": ("situational", False),
    "new-zealand": ("situational", True),
}


def test_presets_mean_what_the_reference_assumes():
    for name, (ko, suicide) in PRESET_MEANING.items():
        rules = get_rules(name)
        assert (rules.ko, rules.suicide, rules.scoring) == (ko, suicide, "area"), name


def _stones(board: np.ndarray, locs: np.ndarray) -> tuple[int, ...]:
    """The board's colours in the reference's point order (locs = all_locs as an array)."""
    return tuple(board[COLOR, locs].tolist())


class _HashBook:
    """Checks that equal stone sets have equal hashes and different sets different ones."""

    def __init__(self):
        self.hash_of: dict[tuple[int, ...], int] = {}
        self.position_of: dict[int, tuple[int, ...]] = {}

    def record(self, position: tuple[int, ...], h: int) -> None:
        known = self.hash_of.setdefault(position, h)
        assert known == h, "one stone set, two hashes"
        other = self.position_of.setdefault(h, position)
        assert other == position, "two stone sets, one hash"


def _diagnose(game: GameState, mask: np.ndarray, expected: np.ndarray) -> str:
    n = game.size
    diffs = [(vertex_of_loc(loc_of_action(a, n), n), bool(mask[a]), bool(expected[a]))
             for a in np.flatnonzero(mask != expected)]
    return f"(vertex, goengine, reference) {diffs}\nmoves {len(game.moves)}\n{game.to_ascii()}"


def _check_all_moves(game: GameState, ref: ReferenceGame, colour: int, outcomes,
                     locs: np.ndarray) -> None:
    """For each point: the kernel's stone-rules legality, `play` on a copy against the
    reference position, `hash_after` and `repeats_position`."""
    n = game.size
    board = game.board
    scratch = board.copy()
    situational = game.rules.ko == "situational"
    for p, (legal, new, captured, suicided) in enumerate(outcomes):
        loc = loc_of_action(p, n)
        if ref.position[p] != EMPTY:
            assert not is_legal(board, loc, colour, game.rules.suicide)
            continue
        by_stones = not suicided or (game.rules.suicide and len(suicided) > 1)
        kernel = is_legal(board, loc, colour, game.rules.suicide)
        if loc == board[INFO, KO_LOC] and colour == board[INFO, KO_COLOR]:
            assert not kernel and not legal, vertex_of_loc(loc, n)
        else:
            assert kernel == by_stones, vertex_of_loc(loc, n)
        if not by_stones:
            continue
        scratch[:] = board
        took = play(scratch, loc, colour)
        assert took == len(captured)
        assert _stones(scratch, locs) == new, vertex_of_loc(loc, n)
        assert hash_after(board, loc, colour) == scratch[INFO, HASH], vertex_of_loc(loc, n)
        if game.rules.ko != "simple":
            repeats = (new, 3 - colour) in ref.situations if situational else new in ref.positions
            assert repeats_position(board, loc, colour, game.history_keys, game.history_len,
                                    situational) == repeats, vertex_of_loc(loc, n)


def play_random_game(size: int, preset: str, seed: int, max_moves: int, full_every: int) -> dict:
    """One random game compared move by move; returns counts of what happened."""
    rng = random.Random(seed)
    ko, suicide = PRESET_MEANING[preset]
    game = GameState(size, rules=preset, komi=0.5, max_moves=max_moves)
    ref = ReferenceGame(size, ko, suicide)
    locs = np.array(all_locs(size))
    book = _HashBook()
    book.record(ref.position, int(game.board[INFO, HASH]))
    stats = dict(moves=0, captures=0, suicides=0, passes=0, illegal_tries=0, ko_bans=0, superko_bans=0,
                 double_moves=0)
    colour = BLACK
    for move_number in range(max_moves):
        outcomes = [ref.outcome(p, colour) for p in range(size * size)]
        expected = np.array([o[0] for o in outcomes] + [True])
        mask = game.legal_mask(colour)
        assert np.array_equal(mask, expected), _diagnose(game, mask, expected)
        if move_number % full_every == 0:
            _check_all_moves(game, ref, colour, outcomes, locs)
            for p in range(size * size):
                assert game.is_legal(loc_of_action(p, size), colour) == expected[p]
        simple_ko = ref.simple_ko_position(colour)
        for legal_move, new_position, _, suicided in outcomes:
            if not legal_move and new_position is not None and not suicided:
                stats["ko_bans"] += 1
                stats["superko_bans"] += new_position != simple_ko

        empties = [p for p in range(size * size) if ref.position[p] == EMPTY]
        illegal = [p for p in empties if not expected[p]]
        if illegal and rng.random() < 0.15:
            # An illegal attempt (suicide, ko or superko) must raise and change nothing.
            p = rng.choice(illegal)
            before = game.board.copy()
            keys = game.history_len
            with pytest.raises(IllegalMove):
                game.play(loc_of_action(p, size), colour)
            assert np.array_equal(game.board, before) and game.history_len == keys
            stats["illegal_tries"] += 1

        legal = [p for p in empties if expected[p]]
        interesting = [p for p in legal if outcomes[p][2] or outcomes[p][3]]
        # Passes are rare, and a second pass in a row (which ends the game) only late on.
        pass_chance = 0.03 if game.consecutive_passes == 0 else 0.3 * (move_number > max_moves // 2)
        r = rng.random()
        if not legal or r < pass_chance:
            p = None
        elif interesting and r < 0.5:
            p = rng.choice(interesting)
        else:
            p = rng.choice(legal)
        loc = 0 if p is None else loc_of_action(p, size)
        if p is not None:
            predicted = hash_after(game.board, loc, colour)
        captured, suicided = ref.play(p, colour)
        took = game.play(loc, colour)
        assert took == len(captured)
        assert _stones(game.board, locs) == ref.position, \
            f"after {vertex_of_loc(loc, size)}\n{game.to_ascii()}"
        assert game.captures == (ref.prisoners[BLACK], ref.prisoners[WHITE])
        check_board(game.board)
        if p is not None:
            assert predicted == game.board[INFO, HASH]
        book.record(ref.position, int(game.board[INFO, HASH]))
        stats["moves"] += 1
        stats["captures"] += bool(captured)
        stats["suicides"] += bool(suicided)
        stats["passes"] += p is None
        if game.is_over:
            break
        # Under simple ko, GTP may have one colour move twice; otherwise colours alternate.
        if ko == "simple" and rng.random() < 0.03:
            stats["double_moves"] += 1
        else:
            colour = 3 - colour
        if move_number % 10 == 0:
            assert area_score_of(game.board) == ref.board.area_score()

    area = ref.board.area_score()
    assert area_score_of(game.board) == area
    assert game.score().margin == area - 0.5
    return stats


# (size, games per preset, move cap, check every legal move every k-th move); about a minute.
QUICK = [(5, 200, 120, 1), (9, 20, 250, 2), (13, 4, 300, 6), (19, 2, 350, 25)]
FULL = [(5, 400, 150, 1), (7, 100, 200, 1), (9, 60, 300, 1), (13, 12, 400, 3), (19, 6, 600, 5)]


def _run(plan, seed_base: int) -> dict[int, dict[str, int]]:
    """Play the plan; returns, per board size, the summed counts of what happened."""
    totals: dict[int, dict[str, int]] = {}
    for size, games, max_moves, full_every in plan:
        per_size = totals.setdefault(size, {})
        for preset in PRESET_MEANING:
            for g in range(games):
                seed = seed_base + 1000 * size + g
                stats = play_random_game(size, preset, seed, max_moves, full_every)
                for k, v in stats.items():
                    per_size[k] = per_size.get(k, 0) + v
    return totals


# What every size's games must have exercised, so that a check cannot pass by never running.
EXERCISED = ("captures", "suicides", "passes", "illegal_tries", "ko_bans", "double_moves")


def test_random_games_match_reference():
    totals = _run(QUICK, seed_base=0)
    for size, counts in totals.items():
        for what in EXERCISED:
            assert counts[what] > 0, (size, what, counts)
    assert sum(counts["superko_bans"] for counts in totals.values()) > 0


@pytest.mark.slow
def test_random_games_match_reference_many():
    totals = _run(FULL, seed_base=7_000_000)
    for size, counts in totals.items():
        for what in EXERCISED:
            assert counts[what] > 0, (size, what, counts)
