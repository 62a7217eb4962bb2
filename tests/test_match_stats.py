"""Match statistics: Wilson interval, Elo, and the SPRT's log-likelihood ratio and error rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from selfplay.match_stats import (Sprt, elo_interval, elo_of_score, score_of_elo, sprt_bounds, sprt_llr,
                                  wilson_interval)


def test_wilson_interval_matches_the_textbook_case():
    # 8 wins in 10: Wilson's 95% interval is about (0.490, 0.943).
    lo, hi = wilson_interval(8, 0, 2)
    assert lo == pytest.approx(0.4902, abs=1e-3)
    assert hi == pytest.approx(0.9433, abs=1e-3)


def test_wilson_interval_counts_draws_half_and_stays_in_range():
    assert wilson_interval(4, 2, 4) == pytest.approx(wilson_interval(5, 0, 5))
    for n in range(1, 40):
        lo, hi = wilson_interval(n, 0, 0)
        assert 0.0 < lo < 1.0 and hi == 1.0
        assert wilson_interval(0, 0, n)[0] == 0.0


def test_elo_round_trips_and_maps_the_interval():
    for elo in (-400.0, -35.0, 0.0, 100.0, 700.0):
        assert elo_of_score(score_of_elo(elo)) == pytest.approx(elo)
    assert score_of_elo(400.0) == pytest.approx(10 / 11)
    elo, lo, hi = elo_interval(30, 0, 10)
    assert lo < elo < hi
    assert elo == pytest.approx(-400 * math.log10(1 / 0.75 - 1))
    assert elo_interval(5, 0, 0)[2] == math.inf


@pytest.mark.parametrize("w,l", [(0, 0), (7, 3), (3, 7), (12, 0), (0, 9), (150, 140)])
def test_llr_without_draws_is_walds(w, l):
    e0, e1 = 0.0, 35.0
    s0, s1 = score_of_elo(e0), score_of_elo(e1)
    wald = w * math.log(s1 / s0) + l * math.log((1 - s1) / (1 - s0))
    assert sprt_llr(w, 0, l, e0, e1) == pytest.approx(wald, abs=1e-6)


def _grid_max_loglik(w, d, l, s):
    """max of W log pW + D log pD + L log pL over the simplex with pW + pD/2 = s, by brute force."""
    p_draw = np.linspace(0.0, min(1.0, 2 * s, 2 * (1 - s)), 400001)
    pw, pl = s - p_draw / 2, 1.0 - s - p_draw / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = sum(np.where(n > 0, n * np.log(np.maximum(p, 0.0)), 0.0) for n, p in ((w, pw), (d, p_draw), (l, pl)))
    return float(np.max(ll))


@pytest.mark.parametrize("w,d,l", [(20, 10, 12), (5, 5, 0), (3, 9, 1), (0, 4, 6)])
def test_llr_with_draws_matches_a_brute_force_maximum(w, d, l):
    e0, e1 = -20.0, 60.0
    expected = _grid_max_loglik(w, d, l, score_of_elo(e1)) - _grid_max_loglik(w, d, l, score_of_elo(e0))
    assert sprt_llr(w, d, l, e0, e1) == pytest.approx(expected, abs=1e-4)


def _simulate(true_elo, draw_rate, sprt, sequences, rng, max_games=3000):
    """Run `sequences` SPRTs on games drawn at `true_elo`; returns the fraction deciding H1 and H0."""
    s = score_of_elo(true_elo)
    p_win = s - draw_rate / 2
    probs = np.array([p_win, draw_rate, 1.0 - p_win - draw_rate])
    counts = np.zeros((sequences, 3))
    decision = np.zeros(sequences, np.int8)  # 1: H1, -1: H0
    lower, upper = sprt.bounds
    for _ in range(max_games):
        open_ = np.flatnonzero(decision == 0)
        if len(open_) == 0:
            break
        outcome = rng.choice(3, size=len(open_), p=probs)
        counts[open_, outcome] += 1
        llr = sprt_llr(counts[open_, 0], counts[open_, 1], counts[open_, 2], sprt.elo0, sprt.elo1)
        decision[open_[llr >= upper]] = 1
        decision[open_[llr <= lower]] = -1
    assert np.all(decision != 0), "every SPRT should have decided"
    return np.mean(decision == 1), np.mean(decision == -1)


def test_sprt_error_rates_are_near_alpha_and_beta():
    sprt = Sprt(0.0, 100.0, alpha=0.05, beta=0.05)
    rng = np.random.default_rng(2024)
    false_h1, _ = _simulate(sprt.elo0, 0.2, sprt, 2000, rng)
    _, false_h0 = _simulate(sprt.elo1, 0.2, sprt, 2000, rng)
    # Wald's bounds: rates at most about alpha and beta (overshoot makes them a little smaller);
    # 2000 runs give a standard error of about 0.005.
    assert 0.015 <= false_h1 <= 0.065
    assert 0.015 <= false_h0 <= 0.065
    strong_h1, _ = _simulate(250.0, 0.2, sprt, 500, rng)
    assert strong_h1 > 0.99


def test_sprt_decides_at_the_bounds():
    sprt = Sprt(0.0, 35.0)
    lower, upper = sprt_bounds(0.05, 0.05)
    assert upper == pytest.approx(math.log(19)) and lower == pytest.approx(-math.log(19))
    assert sprt.decide(upper + 1e-9) == "H1"
    assert sprt.decide(lower - 1e-9) == "H0"
    assert sprt.decide(0.0) is None
    with pytest.raises(ValueError):
        Sprt(10.0, 0.0)
