"""The policy player: the network's most probable legal move, one network call for every game
it is to move in. In cleanup (a game resumed after two passes) it captures the stones the
estimate holds dead rather than pass."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..board import EMPTY
from ..coords import action_of_loc, loc_of_action
from ..evaluator import Evaluator
from ..features.state import encode_state
from ..game import GameState
from ..playout import drop_eye_fills
from ..stone_status import opponent_dead_stones
from .base import Decision, Player


class PolicyPlayer(Player):
    def __init__(self, evaluator: Evaluator, name: str = "policy"):
        self.evaluator = evaluator
        self.name = name

    def decide_many(self, slots: Sequence[int], games: Sequence[GameState]) -> list[Decision]:
        features = np.stack([encode_state(g, self.evaluator.feature_set) for g in games])
        logits, _ = self.evaluator.evaluate(features)
        decisions = []
        for i, game in enumerate(games):
            mask = game.legal_mask()
            if game.resumed:
                mask = capturing_moves(game, mask)
            action = int(np.argmax(np.where(mask, logits[i].astype(np.float64), -np.inf)))
            decisions.append(Decision(loc_of_action(action, game.size)))
        return decisions


def capturing_moves(game: GameState, legal: np.ndarray) -> np.ndarray:
    """Cleanup for a player without a search: while the estimate sees dead opponent stones,
    only the legal liberties of those chains (or, when none is legal, any legal move that fills
    no own eye); otherwise every legal move, pass included."""
    dead = opponent_dead_stones(game)
    if not dead:
        return legal
    size = game.size
    width = size + 2
    mask = np.zeros_like(legal)
    for loc in dead:
        for nb in (loc - 1, loc + 1, loc - width, loc + width):
            if game.stone_at(nb) == EMPTY and legal[action_of_loc(nb, size)]:
                mask[action_of_loc(nb, size)] = True
    if not mask.any():
        mask[:-1] = legal[:-1]
        drop_eye_fills(game.board, game.to_play, mask)
    if not mask.any():
        mask[-1] = True
    return mask
