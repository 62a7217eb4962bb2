"""Statistics of a match between A and B, from A's win/draw/loss counts (W, D, L; N = W+D+L).

Score. s = (W + D/2) / N: a draw counts half a win.

Win rate interval. Wilson's score interval for s with n = N and z = 1.96:
    centre = (s + z^2/(2n)) / (1 + z^2/n),  half = z/(1 + z^2/n) * sqrt(s(1-s)/n + z^2/(4n^2)).
Draws make the per-game variance smaller than s(1-s), so with draws the interval is slightly
conservative.

Elo. Logistic: s = 1 / (1 + 10^(-elo/400)), so elo = -400 log10(1/s - 1); the Elo interval is
the Wilson interval mapped through this (monotone) function. A score of 0 or 1 gives -inf/+inf.

SPRT. H0: elo = elo0 against H1: elo = elo1, each turned into an expected score s0, s1 by the
formula above. The test statistic is the generalised log-likelihood ratio of the trinomial
(win, draw, loss) model with no draw model imposed (no BayesElo):

    LLR = max_{p: E_p[x] = s1} sum_i n_i log p_i  -  max_{p: E_p[x] = s0} sum_i n_i log p_i

over outcome probabilities p = (pW, pD, pL), with counts n = (W, D, L) and E_p[x] = pW + pD/2. With the draw rate u = pD
free, pW = s - u/2 and pL = 1 - s - u/2; the log-likelihood is concave in u and its maximiser
is the smaller root of (N/2) u^2 - (D + W(1-s) + L s) u + 2 D s (1-s) = 0 (u = 0 when D = 0),
so the LLR is exact, with no iteration. Without draws it is Wald's
W log(s1/s0) + L log((1-s1)/(1-s0)).
The test stops at LLR >= log((1-beta)/alpha) (accept H1: A is elo1 stronger) or at
LLR <= log(beta/(1-alpha)) (accept H0). Wald's bounds keep the error rates at or a little
below alpha (false H1) and beta (false H0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

Z95 = 1.959963984540054


def score_of(wins: float, draws: float, losses: float) -> float:
    n = wins + draws + losses
    return (wins + 0.5 * draws) / n if n else float("nan")


def wilson_interval(wins: float, draws: float, losses: float, z: float = Z95) -> tuple[float, float]:
    """Interval for A's expected score (draws half a win); (0, 1) when no game was played."""
    n = wins + draws + losses
    if n == 0:
        return 0.0, 1.0
    s = score_of(wins, draws, losses)
    denom = 1.0 + z * z / n
    centre = (s + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(max(s * (1.0 - s) / n + z * z / (4 * n * n), 0.0))
    lo, hi = centre - half, centre + half
    # At a score of 0 or 1 one bound is exactly 0 or 1; rounding must not make it an Elo figure.
    return (0.0 if lo < 1e-12 else lo), (1.0 if hi > 1.0 - 1e-12 else hi)


def elo_of_score(score: float) -> float:
    if score <= 0.0:
        return -math.inf
    if score >= 1.0:
        return math.inf
    return -400.0 * math.log10(1.0 / score - 1.0)


def score_of_elo(elo: float) -> float:
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def elo_interval(wins: float, draws: float, losses: float, z: float = Z95) -> tuple[float, float, float]:
    """(elo, low, high) of A over B."""
    lo, hi = wilson_interval(wins, draws, losses, z)
    n = wins + draws + losses
    elo = elo_of_score(score_of(wins, draws, losses)) if n else float("nan")
    return elo, elo_of_score(lo), elo_of_score(hi)


def _max_loglik(wins: np.ndarray, draws: np.ndarray, losses: np.ndarray, s: float) -> np.ndarray:
    """max W log pW + D log pD + L log pL subject to pW + pD/2 = s (closed form, see above)."""
    n = wins + draws + losses
    b = draws + wins * (1.0 - s) + losses * s
    c = 2.0 * draws * s * (1.0 - s)
    root = np.sqrt(np.maximum(b * b - 2.0 * n * c, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(c > 0, 2.0 * c / (b + root), 0.0)
    p_win, p_loss = s - u / 2.0, 1.0 - s - u / 2.0

    def term(count, p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(count > 0, count * np.log(np.maximum(p, 1e-300)), 0.0)

    return term(wins, p_win) + term(draws, u) + term(losses, p_loss)


def sprt_llr(wins, draws, losses, elo0: float, elo1: float):
    """The GSPRT log-likelihood ratio of H1 (elo1) against H0 (elo0); arrays broadcast."""
    w, d, l = np.broadcast_arrays(np.asarray(wins, np.float64), np.asarray(draws, np.float64),
                                  np.asarray(losses, np.float64))
    llr = _max_loglik(w, d, l, score_of_elo(elo1)) - _max_loglik(w, d, l, score_of_elo(elo0))
    return float(llr) if np.ndim(llr) == 0 else llr


def sprt_bounds(alpha: float, beta: float) -> tuple[float, float]:
    """(lower, upper) LLR bounds: accept H0 at or below lower, H1 at or above upper."""
    return math.log(beta / (1.0 - alpha)), math.log((1.0 - beta) / alpha)


@dataclass(frozen=True)
class Sprt:
    """A sequential test of elo0 against elo1 (elo0 < elo1), error rates alpha and beta."""
    elo0: float
    elo1: float
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        if not self.elo0 < self.elo1:
            raise ValueError(f"SPRT needs elo0 < elo1, got {self.elo0}, {self.elo1}")
        if not (0 < self.alpha < 0.5 and 0 < self.beta < 0.5):
            raise ValueError("SPRT alpha and beta must lie in (0, 0.5)")

    @property
    def bounds(self) -> tuple[float, float]:
        return sprt_bounds(self.alpha, self.beta)

    def llr(self, wins: int, draws: int, losses: int) -> float:
        return sprt_llr(wins, draws, losses, self.elo0, self.elo1)

    def decide(self, llr: float) -> Optional[str]:
        """"H1" (A is elo1 stronger), "H0" (A is at most elo0 stronger) or None (go on)."""
        lower, upper = self.bounds
        if llr >= upper:
            return "H1"
        if llr <= lower:
            return "H0"
        return None
