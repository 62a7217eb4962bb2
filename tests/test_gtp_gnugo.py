"""Whole 9x9 games of `goengine gtp` (a process) against GNU Go level 1, driven over GTP; the
result is scored by both programs and compared. Skipped without GNU Go ($GNUGO or
/usr/games/gnugo)."""

from __future__ import annotations

import pytest

from selfplay.gtp_client import GtpClient

from gtp_helpers import engine_argv, engine_env, find_gnugo, gnugo_argv, margin_of, play_game, winner_of

GNUGO = find_gnugo()
pytestmark = pytest.mark.skipif(GNUGO is None, reason="GNU Go not found: set $GNUGO or install gnugo")


def scored_game(ours_black: bool, visits: int, seed: int):
    ours = GtpClient(engine_argv("--size", "9", "--visits", str(visits), "--seed", str(seed),
                                 "--resign-threshold", "0"), env=engine_env(), timeout=120)
    gnugo = GtpClient(gnugo_argv(GNUGO), timeout=60)
    with ours, gnugo:
        black, white = (ours, gnugo) if ours_black else (gnugo, ours)
        outcome = play_game(black, white, size=9, komi=7.5, max_moves=300)
        return outcome, ours.final_score(timeout=60), gnugo.final_score(timeout=60)


def check_scores_agree(outcome, ours: str, theirs: str) -> None:
    assert outcome.resigned is None  # resignation is off for the engine; GNU Go does not resign
    passes = [v for _, v in outcome.moves[-2:]]
    assert passes == ["pass", "pass"] or len(outcome.moves) == 300
    assert winner_of(ours) == winner_of(theirs), f"our score {ours}, GNU Go's {theirs}"
    assert abs(margin_of(ours) - margin_of(theirs)) <= 10, f"our score {ours}, GNU Go's {theirs}"


def test_short_game_against_gnugo():
    outcome, ours, theirs = scored_game(ours_black=True, visits=200, seed=1)
    check_scores_agree(outcome, ours, theirs)


@pytest.mark.slow
@pytest.mark.parametrize("game", range(4))
def test_games_against_gnugo(game):
    outcome, ours, theirs = scored_game(ours_black=game % 2 == 0, visits=2000, seed=game)
    check_scores_agree(outcome, ours, theirs)
