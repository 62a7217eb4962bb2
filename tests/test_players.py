"""The player abstraction: one resign rule on one scale, the rule self-play calibrates; one
search player for one game or many in lockstep."""

from __future__ import annotations

import numpy as np
import pytest

from goengine.coords import PASS_LOC, loc_of
from goengine.evaluator import RandomEvaluator
from goengine.game import GameState
from goengine.players import Decision, Player, RandomPlayer, ResignRule, ResignStreaks, SearchPlayer
from goengine.search import SearchConfig, SearchResult, rollout_search_config
from training.resign import first_resignation


def _result(value: float) -> SearchResult:
    return SearchResult(np.zeros(10, np.int64), np.zeros(10), np.zeros(10, np.float32), np.zeros(10), value, [], 0)


@pytest.mark.parametrize("seed", range(20))
def test_the_resign_rule_played_is_the_rule_calibrated(seed):
    rng = np.random.default_rng(seed)
    values = np.where(rng.random(40) < 0.6, -0.95, 0.2)
    consecutive, min_move = int(rng.integers(1, 4)), int(rng.integers(0, 10))
    streaks = ResignStreaks(ResignRule(below=-0.9, consecutive=consecutive, min_move=min_move))
    game = GameState(3, komi=0.5, max_moves=100)
    first = None
    for m, v in enumerate(values):
        if streaks.update(0, game, float(v)) and first is None:
            first = m
        game.play(PASS_LOC) if game.consecutive_passes == 0 else game.play(game.legal_locs()[0])
    assert first == first_resignation(values, -0.9, consecutive, min_move)


def test_a_win_rate_threshold_is_a_root_value():
    assert ResignRule.from_winrate(0.05).below == pytest.approx(-0.9)
    assert ResignRule.from_winrate(0.0).below is None
    assert ResignRule(min_move_fraction=0.5).first_move(9) == 40
    with pytest.raises(ValueError):
        ResignRule(below=-2.0)


def test_streaks_are_kept_per_slot_and_colour_and_cleared_by_a_new_game():
    streaks = ResignStreaks(ResignRule(below=-0.5, consecutive=2, min_move=0))
    game = GameState(5)
    assert not streaks.update(0, game, -0.9)
    assert not streaks.update(1, game, -0.9)  # another game's streak
    assert streaks.update(0, game, -0.9)
    streaks.reset(0)
    assert not streaks.update(0, game, -0.9) and streaks.update(1, game, -0.9)
    assert not ResignStreaks(ResignRule(below=None)).update(0, game, -1.0)


def test_one_search_player_serves_one_game_or_many():
    config = SearchConfig(num_simulations=16, leaves_per_tree=2)
    player = SearchPlayer(config, 5, RandomEvaluator(5, "agz", 1), num_slots=3)
    games = [GameState(5, komi=0.5) for _ in range(3)]
    for slot, game in enumerate(games):
        player.start_game(slot, game, seed=slot)
    decisions = player.decide_many([0, 1, 2], games)
    assert all(d.result.num_simulations >= 16 and games[0].is_legal(d.loc) for d in decisions)
    alone = SearchPlayer(config, 5, RandomEvaluator(5, "agz", 1))
    alone.start_game(0, GameState(5, komi=0.5), seed=2)
    assert alone.decide(GameState(5, komi=0.5)).loc == decisions[2].loc  # a game depends on its seed alone


def test_the_search_player_never_swaps_its_settings():
    with pytest.raises(ValueError, match="rollout_lambda"):
        SearchPlayer(SearchConfig(num_simulations=8), 5, None)
    config = rollout_search_config(8, c_puct=2.0, tree_memory_factor=2)
    assert SearchPlayer(config, 5, None).search.config == config


def test_a_player_needs_only_one_of_its_two_decide_forms():
    class Passer(Player):
        def decide(self, game, slot=0):
            return Decision(PASS_LOC)

    assert [d.loc for d in Passer().decide_many([0, 1], [GameState(5), GameState(5)])] == [PASS_LOC, PASS_LOC]
    random = RandomPlayer(seed=3)
    assert GameState(5).is_legal(random.decide_many([4], [GameState(5)])[0].loc)


@pytest.mark.parametrize("gumbel", [False, True])
def test_a_game_resumed_after_two_passes_is_searched_afresh_not_from_the_ended_subtree(gumbel):
    # The tree searched before the second pass holds that pass as a finished game (a terminal
    # node); once the game resumes, reusing it would leave a root with no move to search (the
    # Gumbel root then crashed, and a PUCT root had nothing to choose from).
    config = SearchConfig(num_simulations=32, leaves_per_tree=4, gumbel=gumbel, gumbel_m=8)
    player = SearchPlayer(config, 9, RandomEvaluator(9, seed=1), seed=0)
    game = GameState(9)
    for loc in (loc_of(2, 2, 9), loc_of(6, 6, 9), PASS_LOC):
        game.play(loc)
    only_pass = np.zeros(82, bool)
    only_pass[-1] = True
    player.analyse_many([0], [game], allowed=[only_pass])  # the second pass searched: an ended game
    game.play(PASS_LOC)
    game.resume()
    decision = player.decide(game)  # the cleanup phase: searched like any other position
    assert decision.result.visit_counts[:-1].sum() > 0 and game.is_legal(decision.loc)
