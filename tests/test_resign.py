"""Resignation threshold calibration replays the resign rule on played-out games."""

from __future__ import annotations

import numpy as np

from training.resign import PlayedOut, calibrate, false_rate, first_resignation


def _game(black_values, white_values, winner):
    """Interleave per-player root values (black moves first)."""
    values = np.empty(len(black_values) + len(white_values), np.float32)
    values[0::2], values[1::2] = black_values, white_values
    return PlayedOut(values, 1, winner)


def test_first_resignation_needs_consecutive_own_moves_after_min_move():
    values = np.array([-0.99, 0.0, -0.99, 0.0, 0.5, 0.0, -0.99, 0.0, -0.99], np.float32)
    # Black's moves are 0, 2, 4, 6, 8: two in a row below at 0 and 2, then broken at 4.
    assert first_resignation(values, -0.9, 2, 0) == 2
    assert first_resignation(values, -0.9, 2, 1) == 8  # move 0 is too early to count
    assert first_resignation(values, -0.9, 3, 0) is None
    assert first_resignation(values, -0.999, 1, 0) is None


def test_calibration_keeps_false_resignations_under_the_target():
    rng = np.random.default_rng(0)
    games = []
    for i in range(200):
        # The loser's values sink to about -0.97; in 1 game of 10 the winner dips to -0.93
        # before coming back (a resignation there would be false).
        loser = np.concatenate([np.zeros(10), np.full(10, -0.97) + rng.normal(0, 0.005, 10)])
        winner = np.zeros(20)
        if i % 10 == 0:
            winner[5:9] = -0.93
        games.append(_game(loser, winner, winner=2))
    result = calibrate(games, current=-0.5, consecutive=2, min_move=0, target=0.05)
    assert result.changed
    rate, resigned = false_rate(games, result.threshold, 2, 0)
    assert rate <= 0.05 and resigned >= 150
    # just above the winners' dip, a tenth of the resignations would be wrong
    assert -0.93 >= result.threshold > -0.97
    assert false_rate(games, -0.925, 2, 0)[0] >= 0.09


def test_thin_evidence_keeps_the_current_threshold():
    games = [_game(np.full(10, -0.99), np.zeros(10), winner=2) for _ in range(5)]
    result = calibrate(games, current=-0.9, consecutive=2, min_move=0, min_resignations=20)
    assert not result.changed and result.threshold == -0.9 and result.resignations == 5
