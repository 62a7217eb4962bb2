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


def lcb_action(result: SearchResult, min_visit_fraction: float = 0.1, z: float = 1.96) -> int:
    """Leela Zero's choice: among actions with at least `min_visit_fraction` of the top visit
    count, the one whose mean value minus z standard errors is largest."""
    visits = result.visit_counts.astype(np.float64)
    eligible = visits >= max(1.0, min_visit_fraction * visits.max())
    stderr = np.sqrt(np.nan_to_num(result.q_var) / np.maximum(visits, 1.0))
    lcb = np.where(eligible, np.nan_to_num(result.q, nan=-2.0) - z * stderr, -np.inf)
    return int(np.argmax(lcb))
