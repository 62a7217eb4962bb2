"""Choosing the move to play from a search result: by visits, with a temperature, or by LCB."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .batched import SearchResult


def opening_temperature(move_number: int, size: int, temperature: float, lowest: float = 0.1) -> float:
    """KataGo's early temperature for GTP play: `temperature` at the first move, halving every
    N*N/19 moves (19 on 19x19, about 4 on 9x9), and 0 (the most visited move) once below
    `lowest`: a little variety in the opening, none later."""
    if temperature <= 0.0:
        return 0.0
    t = temperature * 0.5 ** (move_number / max(1.0, size * size / 19.0))
    return t if t >= lowest else 0.0


def choose_action(result: SearchResult, temperature: float = 0.0, rng: Optional[np.random.Generator] = None,
                  use_lcb: bool = False, lcb_min_visit_fraction: float = 0.1,
                  min_visit_fraction: float = 0.0) -> int:
    """The action to play. Gumbel search has already chosen; otherwise the most visited action
    (temperature 0), an action drawn with probability proportional to visits^(1/T) among those
    with at least `min_visit_fraction` of the top visit count, or with LCB the action with the
    best lower confidence bound among those with enough visits."""
    visits = result.visit_counts.astype(np.float64)
    if result.gumbel_action is not None and temperature == 0.0:
        return int(result.gumbel_action)
    if visits.sum() == 0:
        legal = np.flatnonzero(result.prior > 0)
        return int(legal[np.argmax(result.prior[legal])]) if len(legal) else len(visits) - 1
    if temperature > 0.0:
        rng = rng or np.random.default_rng()
        visits = np.where(visits >= min_visit_fraction * visits.max(), visits, 0.0)
        weights = visits ** (1.0 / temperature)
        return int(rng.choice(len(visits), p=weights / weights.sum()))
    if use_lcb:
        return lcb_action(result, lcb_min_visit_fraction)
    return int(np.argmax(visits))


# The spread of the values backed up through an action is shrunk toward a prior spread worth
# LCB_PRIOR_VISITS visits: a handful of visits whose values happen to agree (a network whose
# value barely moves, or one lucky line) says little about the spread, and without the prior a
# 3-visit move with a flat value outranked the 28-visit favourite of the policy.
LCB_PRIOR_VARIANCE = 0.25  # on the value scale [-1, 1]: a standard deviation of 0.5
LCB_PRIOR_VISITS = 2.0
LCB_Z = 1.96


def lower_confidence_bounds(q: np.ndarray, q_var: np.ndarray, visits: np.ndarray, z: float = LCB_Z) -> np.ndarray:
    """Each action's mean value minus z standard errors (value scale [-1, 1]); -inf where unvisited."""
    n = np.asarray(visits, np.float64)
    variance = (n * np.nan_to_num(q_var) + LCB_PRIOR_VISITS * LCB_PRIOR_VARIANCE) / (n + LCB_PRIOR_VISITS)
    stderr = np.sqrt(variance / np.maximum(n, 1.0))
    return np.where(n > 0, np.nan_to_num(q, nan=-2.0) - z * stderr, -np.inf)


def lcb_action(result: SearchResult, min_visit_fraction: float = 0.1, z: float = LCB_Z) -> int:
    """Leela Zero's choice: among actions with at least `min_visit_fraction` of the top visit
    count, the one whose lower confidence bound on its value is largest."""
    visits = result.visit_counts.astype(np.float64)
    eligible = visits >= max(1.0, min_visit_fraction * visits.max())
    lcb = lower_confidence_bounds(result.q, result.q_var, visits, z)
    return int(np.argmax(np.where(eligible, lcb, -np.inf)))
