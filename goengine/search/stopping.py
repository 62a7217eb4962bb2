"""When a search with a budget may stop before spending it, and when it should run past it.

Both read a `SearchResult` between chunks of simulations:

- Early stop (as KataGo does): the move with the most visits is the one played (with LCB, when
  its lower confidence bound is also the best). Once no other move can catch up with its visits
  in the simulations the budget has left, more search cannot change the choice, so a forced or
  obvious move returns at once and the time goes to later moves.
- Unclear choice: the most visited move and the best move by value (its lower confidence bound,
  among moves with enough visits) disagree, or the second move has nearly as many visits as
  the first. Such a move may think past its planned time, up to the hard limit the clock allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batched import SearchResult
from .choice import lcb_action


@dataclass(frozen=True)
class StopRule:
    """`use_lcb`: the move is chosen by LCB (else by visits alone), among moves with at least
    `lcb_min_visit_fraction` of the top visits. `close_visit_ratio`: the second move's share of
    the top visits from which the two count as close. `early_stop` False: spend the budget."""
    use_lcb: bool = False
    lcb_min_visit_fraction: float = 0.1
    close_visit_ratio: float = 0.8
    early_stop: bool = True

    def best_by_value(self, result: SearchResult) -> int:
        return lcb_action(result, self.lcb_min_visit_fraction)

    def settled(self, result: SearchResult, remaining: float) -> bool:
        """Whether `remaining` more simulations cannot change the move played."""
        if not self.early_stop or not np.isfinite(remaining):
            return False
        visits = result.visit_counts
        if visits.sum() == 0 or result.gumbel_action is not None:
            return False
        top, second = _top_two(visits)
        if visits[top] - (visits[second] if second >= 0 else 0) <= remaining:
            return False
        return not self.use_lcb or self.best_by_value(result) == top

    def unclear(self, result: SearchResult) -> bool:
        """Whether the choice deserves more time than planned."""
        visits = result.visit_counts
        if visits.sum() == 0:
            return False
        top, second = _top_two(visits)
        if second >= 0 and visits[second] >= self.close_visit_ratio * visits[top]:
            return True
        return self.best_by_value(result) != top


def _top_two(visits: np.ndarray) -> tuple[int, int]:
    """The most and second most visited actions (second -1 when only one has visits)."""
    order = np.argsort(-visits, kind="stable")
    second = int(order[1]) if len(order) > 1 and visits[order[1]] > 0 else -1
    return int(order[0]), second
