"""Calibrating the resignation threshold from the games that were played out (AlphaGo Zero:
v_resign is chosen so that fewer than 5% of resignations would have been wrong).

Self-play resigns when the root value of the player to move stays below the threshold for
`consecutive` of its own moves (from move `min_move` on). A playthrough game is never resigned,
but its recorded root values show what any threshold would have done: the first player whose
values meet the rule would have resigned there. That resignation is false when that player
went on to win. `calibrate` replays the rule on the playthrough games for a grid of
thresholds and picks the highest (the one that saves the most moves) whose false share is at
most the target, requiring enough would-be resignations to judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np

GRID = tuple(round(-0.995 + 0.005 * i, 3) for i in range(100))  # -0.995 .. -0.5


@dataclass(frozen=True)
class PlayedOut:
    """What calibration needs of one playthrough game."""
    root_values: np.ndarray   # float32 [moves]: root value for the player to move
    first_player: int         # 1 black or 2 white moved first
    winner: int               # 1, 2, or 0 (a draw)


@dataclass(frozen=True)
class Calibration:
    threshold: float          # the chosen threshold (the current one when evidence is thin)
    false_rate: float         # false share of would-be resignations at that threshold
    resignations: int         # playthrough games that would have been resigned at it
    games: int                # playthrough games looked at
    changed: bool             # whether the evidence sufficed to choose


def first_resignation(values: np.ndarray, threshold: float, consecutive: int, min_move: int) -> Optional[int]:
    """Index of the move at which the player to move would resign (its `consecutive`-th own
    move in a row below `threshold`, counting only moves from `min_move` on), or None."""
    streak = [0, 0]
    for m, v in enumerate(values):
        side = m % 2
        if v < threshold and m >= min_move:
            streak[side] += 1
            if streak[side] >= consecutive:
                return m
        else:
            streak[side] = 0
    return None


def false_rate(games: Sequence[PlayedOut], threshold: float, consecutive: int, min_move: int) -> tuple[float, int]:
    """(share of would-be resignations that were wrong, how many would-be resignations)."""
    resigned = wrong = 0
    for g in games:
        m = first_resignation(g.root_values, threshold, consecutive, min_move)
        if m is None:
            continue
        resigned += 1
        mover = g.first_player if m % 2 == 0 else 3 - g.first_player
        wrong += g.winner == mover
    return (wrong / resigned if resigned else 0.0), resigned


def calibrate(games: Iterable[PlayedOut], current: float, consecutive: int, min_move: int,
              target: float = 0.05, min_resignations: int = 20,
              bounds: tuple[float, float] = (-0.99, -0.6)) -> Calibration:
    """The highest threshold in `bounds` whose false share is at most `target`, judged on at
    least `min_resignations` would-be resignations; otherwise `current` unchanged."""
    games = list(games)
    best = None
    for t in GRID:
        if not bounds[0] <= t <= bounds[1]:
            continue
        rate, resigned = false_rate(games, t, consecutive, min_move)
        if resigned >= min_resignations and rate <= target:
            best = (t, rate, resigned)
    if best is None:
        rate, resigned = false_rate(games, current, consecutive, min_move)
        return Calibration(current, rate, resigned, len(games), False)
    return Calibration(best[0], best[1], best[2], len(games), True)
