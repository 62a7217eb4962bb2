"""Players behind one interface: random, policy network, MCTS with a network, and classical
MCTS with rollouts (which plays sensibly with no trained network at all).

`player.decide(game)` returns a `Decision`: the move (a loc, PASS_LOC for a pass) or a
resignation, plus the search result when there was a search. Players never change the game.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

import numpy as np

from .board import is_eyeish
from .coords import PASS_LOC, loc_of_action
from .evaluator import Evaluator
from .features.state import encode_state
from .game import GameState
from .search import BatchedSearch, SearchConfig, SearchResult, rollout_search_config
from .search.choice import choose_action
from .search.tree import ROOT, VISITS


@dataclass(frozen=True)
class Decision:
    loc: int = PASS_LOC
    resign: bool = False
    result: Optional[SearchResult] = None


class Player(Protocol):
    name: str

    def decide(self, game: GameState) -> Decision:
        ...

    def new_game(self) -> None:
        ...


class RandomPlayer:
    """Uniform over legal moves that do not fill the player's own single-point eye."""

    def __init__(self, seed: Optional[int] = None):
        self.name = "random"
        self.rng = np.random.default_rng(seed)

    def new_game(self) -> None:
        pass

    def decide(self, game: GameState) -> Decision:
        mask = game.legal_mask()
        candidates = [a for a in np.flatnonzero(mask[:-1])
                      if not is_eyeish(game.board, loc_of_action(int(a), game.size), game.to_play)]
        if not candidates:
            return Decision(PASS_LOC)
        return Decision(loc_of_action(int(self.rng.choice(candidates)), game.size))


def masked_policy(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    z = np.where(mask, logits.astype(np.float64), -np.inf)
    z -= z.max()
    p = np.exp(z)
    return p / p.sum()


class PolicyPlayer:
    """The policy network alone: the most probable legal move, or a sample (temperature)."""

    def __init__(self, evaluator: Evaluator, temperature: float = 0.0, seed: Optional[int] = None,
                 name: str = "policy"):
        self.evaluator = evaluator
        self.temperature = temperature
        self.rng = np.random.default_rng(seed)
        self.name = name

    def new_game(self) -> None:
        pass

    def policy(self, game: GameState) -> np.ndarray:
        """Move probabilities over actions (illegal moves 0)."""
        features = encode_state(game, self.evaluator.feature_set)[None]
        logits, _ = self.evaluator.evaluate(features)
        return masked_policy(logits[0], game.legal_mask())

    def decide(self, game: GameState) -> Decision:
        p = self.policy(game)
        if self.temperature > 0:
            w = p ** (1.0 / self.temperature)
            action = int(self.rng.choice(len(p), p=w / w.sum()))
        else:
            action = int(np.argmax(p))
        return Decision(loc_of_action(action, game.size))


class MCTSPlayer:
    """Tree search with a network (or, with no evaluator, the classical search: random rollouts,
    uniform priors and `rollout_search_config`'s settings). Reuses its tree when the game
    continues from the position it last searched.

    Resigns when the root value has stayed below `config.resign_threshold` for
    `resign_consecutive` searches, never before `min_resign_move` (default: a quarter of the
    board's points)."""

    def __init__(self, config: SearchConfig, size: int, evaluator: Optional[Evaluator] = None,
                 seed: int = 0, name: Optional[str] = None, allow_resign: bool = True,
                 resign_consecutive: int = 2, min_resign_move: Optional[int] = None,
                 max_moves: Optional[int] = None, rollout_weights: Optional[np.ndarray] = None):
        if evaluator is None:
            config = rollout_search_config(config.num_simulations, temperature=config.temperature,
                                           temperature_moves=config.temperature_moves,
                                           resign_threshold=config.resign_threshold, use_lcb=config.use_lcb)
        self.config = config
        self.size = size
        self.evaluator = evaluator
        self.search = BatchedSearch(config, size, 1, evaluator, max_moves=max_moves, seed=seed,
                                    rollout_weights=rollout_weights)
        self.rng = np.random.default_rng(seed)
        self.name = name or ("rollout-mcts" if evaluator is None else "mcts")
        self.allow_resign = allow_resign
        self.resign_consecutive = resign_consecutive
        self.min_resign_move = size * size // 4 if min_resign_move is None else min_resign_move
        self._searched_moves: Optional[list] = None
        self._low_values = 0
        self.reused_visits = 0  # root visits the last analyse kept from the tree before it

    def new_game(self) -> None:
        self.search.reset(0)
        self._searched_moves = None
        self._low_values = 0

    def _sync_tree(self, game: GameState) -> bool:
        """Walk the tree down the moves played since the last search; False: start afresh."""
        old = self._searched_moves
        moves = game.moves
        if old is None or len(moves) < len(old) or moves[:len(old)] != old or len(moves) - len(old) > 4:
            return False
        for move in moves[len(old):]:
            if not self.search.advance(0, game.action_of(move.loc)):
                return False
        return True

    def analyse(self, game: GameState, num_simulations: Optional[int] = None) -> SearchResult:
        """Search the position (reusing the tree where possible) and return the result."""
        reuse = self._sync_tree(game)
        self.search.set_root(0, game, reuse=reuse)
        t = self.search.trees
        self.reused_visits = int(t.node_i[0, VISITS, t.counts[0, ROOT]]) if reuse else 0
        result = self.search.search(num_simulations=num_simulations)[0]
        self._searched_moves = list(game.moves)
        return result

    def decide(self, game: GameState, num_simulations: Optional[int] = None) -> Decision:
        result = self.analyse(game, num_simulations)
        temperature = self.config.temperature if game.move_number < self.config.temperature_moves else 0.0
        action = choose_action(result, temperature, self.rng, self.config.use_lcb, self.config.lcb_min_visit_fraction)
        if self.allow_resign and result.root_value < self.config.resign_threshold:
            self._low_values += 1
        else:
            self._low_values = 0
        if (self.allow_resign and self._low_values >= self.resign_consecutive
                and game.move_number >= self.min_resign_move):
            return Decision(resign=True, result=result)
        return Decision(loc_of_action(action, game.size), result=result)
