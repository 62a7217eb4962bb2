"""Score and ownership estimates for analysis reports (kata-analyze and the JSON analysis
engine): what the network's heads say at the searched position and after each candidate
move, or, without those heads, what random playouts say.

| quantity    | with the head                               | without it                              |
|-------------|---------------------------------------------|-----------------------------------------|
| ownership   | the ownership head                          | mean ownership of random playouts       |
| score lead  | the score head (KataGo's scoreLead: points  | the ownership summed over the board     |
|             | the side to move is ahead by)               | minus komi (area counting); without an  |
|             |                                             | ownership head either, every candidate  |
|             |                                             | move gets the root's playout estimate   |
| score stdev | sqrt(sum over points of 1 - ownership^2):   | the same from the playouts' ownership   |
|             | the spread of the final score if each point |                                         |
|             | were an independent +-1 with that mean      |                                         |

Ownership arrays here are float64[N*N] in action order from Black's view (+1 Black's);
scores are from the view of the side to move at the position they describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..board import BLACK
from ..coords import loc_of_action
from ..evaluator import outputs_in_orientation
from ..features.state import encode_state
from ..game import GameState


@dataclass(frozen=True)
class Estimate:
    score_lead: float  # points, side to move's view
    score_stdev: float
    ownership: Optional[np.ndarray] = None  # float64[N*N], Black's view
    from_score_head: bool = False


def has_head(evaluator, head: str) -> bool:
    """Whether the evaluator's network has the "score" or "ownership" head."""
    return (getattr(evaluator, "evaluate_outputs", None) is not None
            and bool(getattr(getattr(evaluator, "config", None), head, False)))


def ownership_spread(ownership: np.ndarray) -> float:
    return float(np.sqrt(np.sum(1.0 - np.clip(ownership, -1.0, 1.0) ** 2)))


def _lead_from_ownership(game: GameState, ownership: np.ndarray) -> float:
    black_lead = float(np.sum(ownership)) - game.komi - game.rules.white_bonus(game.handicap)
    return black_lead if game.to_play == BLACK else -black_lead


def network_estimates(games: Sequence[GameState], evaluator) -> list[Estimate]:
    """The score and ownership heads at each position (one batch). Positions the heads say
    nothing about get NaN scores."""
    if not games:
        return []
    features = np.stack([encode_state(g, evaluator.feature_set) for g in games])
    out = outputs_in_orientation(evaluator, features, "none")  # a steady estimate: no drawn orientation
    estimates = []
    for i, game in enumerate(games):
        ownership = None
        if out.ownership is not None and len(out.ownership) == len(games):
            own = np.asarray(out.ownership[i], np.float64)
            ownership = own if game.to_play == BLACK else -own
        if out.score is not None and len(out.score) == len(games):
            score = float(out.score[i])
            stdev = ownership_spread(ownership) if ownership is not None else float("nan")
            estimates.append(Estimate(score, stdev, ownership, True))
        elif ownership is not None:
            estimates.append(Estimate(_lead_from_ownership(game, ownership), ownership_spread(ownership), ownership))
        else:
            estimates.append(Estimate(float("nan"), float("nan")))
    return estimates


def root_estimate(game: GameState, evaluator=None, playouts: int = 400, seed: int = 0) -> Estimate:
    """The searched position's estimate: the heads where there are heads, else playouts."""
    from ..ownership import rollout_ownership

    estimate = None
    if evaluator is not None and (has_head(evaluator, "score") or has_head(evaluator, "ownership")):
        estimate = network_estimates([game], evaluator)[0]
    if estimate is not None and estimate.ownership is not None:
        return estimate
    ownership = rollout_ownership(game, playouts, seed)
    if estimate is not None and estimate.from_score_head:
        return Estimate(estimate.score_lead, ownership_spread(ownership), ownership, True)
    return Estimate(_lead_from_ownership(game, ownership), ownership_spread(ownership), ownership)


class MoveEstimates:
    """Estimates after candidate moves of one position, computed once per move (analysis
    reports the same moves again and again while the search goes on)."""

    def __init__(self, game: GameState, evaluator, root: Estimate):
        self.game = game
        self.evaluator = evaluator
        self.root = root
        self._by_action: dict[int, Estimate] = {}
        self._per_move = evaluator is not None and (has_head(evaluator, "score") or has_head(evaluator, "ownership"))

    def get(self, actions: Sequence[int]) -> dict[int, Estimate]:
        """action -> estimate from the view of the side to move at the root."""
        if not self._per_move:
            return {a: Estimate(self.root.score_lead, self.root.score_stdev) for a in actions}
        missing = [a for a in actions if a not in self._by_action]
        if missing:
            children = []
            for action in missing:
                child = self.game.copy()
                child.play(loc_of_action(action, self.game.size))
                children.append(child)
            for action, child_estimate in zip(missing, network_estimates(children, self.evaluator)):
                self._by_action[action] = self._from_root_view(child_estimate)
        return {a: self._by_action[a] for a in actions}

    def _from_root_view(self, child: Estimate) -> Estimate:
        if not np.isfinite(child.score_lead):
            return Estimate(self.root.score_lead, self.root.score_stdev, child.ownership)
        stdev = child.score_stdev if np.isfinite(child.score_stdev) else self.root.score_stdev
        return Estimate(-child.score_lead, stdev, child.ownership, child.from_score_head)
