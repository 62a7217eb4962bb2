"""The search player: MCTS with a network, or with rollouts alone (no evaluator), over G games
at once. One `BatchedSearch` holds a tree per slot; the trees are searched together (one
network call per search step for all of them) and each is reused along its game.

A decision goes in three steps, which the GTP engine also takes one by one around its
clock-bounded search:
1. `before_search`: the pass and cleanup rules. Under `pass_rule` "won" the player passes at
   once after the opponent's pass when the dead-stone estimate says the game is won and no
   chain is in doubt; under "end" it may pass only when every legal move would fill one of its
   own eyes; in cleanup it may not pass while the estimate sees dead opponent stones.
2. the search (`analyse_many`), restricted to the moves step 1 allows.
3. `after_search`: the resign rule (`ResignRule`; never in cleanup) and the move: drawn with
   the temperature of the moment (`temperature`), or the most visited one, or with
   `use_lcb` the best lower confidence bound.

The settings are taken as given: a player without a network needs a rollout configuration
(`goengine.search.rollout_search_config`), and the search refuses anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from ..coords import PASS_LOC, loc_of_action
from ..evaluator import Evaluator
from ..game import GameState
from ..playout import moves_before_the_end
from ..rng import new_rng
from ..search import BatchedSearch, SearchConfig, SearchResult
from ..search.choice import choose_action, opening_temperature
from ..search.tree import ROOT, VISITS
from ..stone_status import DEAD_STONE_PLAYOUTS, dead_stone_opinion, opponent_dead_stones, passing_wins
from .base import Decision, Player
from .resign import ResignRule, ResignStreaks

PASS_RULES = ("any", "end", "won")
# A tree is walked down at most this many moves played since its last search; further on, a
# fresh tree costs less than the walk and the subtree is small anyway.
MAX_REUSE_MOVES = 4


@dataclass(frozen=True)
class PlayerConfig:
    """How a search player turns its searches into moves; what it searches is SearchConfig's.

    `pass_rule`: "any" (a pass is a move like the others), "end" (pass only when nothing but
    own-eye fills is left, so that every game is played out and counted exactly) or "won"
    (after the opponent passed, pass when the game is won; see the module docstring).
    `opening_temperature` > 0: KataGo's opening temperature (`search.choice.opening_temperature`)
    in place of SearchConfig's temperature, drawing only among moves with at least
    `opening_min_visit_fraction` of the top visits: variety, never a blunder the search saw
    through. The dead-stone opinion is the rollout estimate with `dead_stone_playouts`; with
    `network_ownership` the network's ownership head settles the chains the playouts leave in
    doubt."""
    resign: ResignRule = field(default_factory=ResignRule)
    pass_rule: str = "any"
    opening_temperature: float = 0.0
    opening_min_visit_fraction: float = 0.1
    dead_stone_playouts: int = DEAD_STONE_PLAYOUTS
    network_ownership: bool = False

    def __post_init__(self) -> None:
        if self.pass_rule not in PASS_RULES:
            raise ValueError(f"pass_rule must be one of {PASS_RULES}, got {self.pass_rule!r}")


class SearchPlayer(Player):
    """MCTS over `num_slots` games (see the module docstring). `rollout_weights` (float64
    [NUM_FEATURES]) make leaf rollouts follow a rollout policy; None: uniformly random."""

    def __init__(self, config: SearchConfig, size: int, evaluator: Optional[Evaluator] = None, *,
                 play: PlayerConfig = PlayerConfig(), num_slots: int = 1, seed: int = 0,
                 max_moves: Optional[int] = None, rollout_weights: Optional[np.ndarray] = None,
                 name: Optional[str] = None):
        self.config = config
        self.play = play
        self.size = size
        self.evaluator = evaluator
        self.num_slots = num_slots
        self.name = name or ("rollout-mcts" if evaluator is None else "mcts")
        self.search = BatchedSearch(config, size, num_slots, evaluator, max_moves=max_moves, seed=seed,
                                    rollout_weights=rollout_weights)
        self.streaks = ResignStreaks(play.resign)
        self.rngs = [np.random.default_rng(seed) for _ in range(num_slots)]
        self._searched: list[Optional[list]] = [None] * num_slots  # the moves at each slot's last search
        self.reused_visits = [0] * num_slots  # root visits each slot's last search kept from before

    # --- games and trees -----------------------------------------------------------------------

    def start_game(self, slot: int = 0, game: Optional[GameState] = None, seed: Optional[int] = None) -> None:
        """A new game in `slot`: an empty tree, no resign streak, and with `seed` the slot's
        random generators (move choice and rollouts) reseeded."""
        self.reset_tree(slot)
        self.streaks.reset(slot)
        if seed is not None:
            self.search.rngs[slot] = new_rng(seed)
            self.rngs[slot] = np.random.default_rng(seed)

    def reset_tree(self, slot: int = 0) -> None:
        """Discard the slot's tree (the next search starts afresh); the game goes on."""
        self.search.reset(slot)
        self._searched[slot] = None

    def _walk_tree(self, slot: int, game: GameState) -> bool:
        """Walk the slot's tree down the moves played since its last search; False: start afresh."""
        old = self._searched[slot]
        moves = game.moves
        if (old is None or len(moves) < len(old) or len(moves) - len(old) > MAX_REUSE_MOVES
                or moves[:len(old)] != old):
            return False
        for move in moves[len(old):]:
            if not self.search.advance(slot, game.action_of(move.loc)):
                return False
        return True

    def room_for(self, game: GameState) -> bool:
        """Whether the search's preallocated history holds the game (it cannot look past it)."""
        return game.history_len + 2 < self.search.keys.shape[1]

    # --- the three steps of a decision ---------------------------------------------------------

    def before_search(self, slot: int, game: GameState, cleanup: bool = False,
                      allowed: Optional[np.ndarray] = None) -> tuple[Optional[Decision], Optional[np.ndarray]]:
        """The pass and cleanup rules: (a decision taken without searching, or None; the root
        moves the search may consider, bool[N*N+1], None: every legal move). `allowed`
        restricts the moves further."""
        if not self.room_for(game):
            return Decision(PASS_LOC), None
        rule = self.play.pass_rule
        if cleanup:
            if opponent_dead_stones(game, self._ownership_evaluator, self.play.dead_stone_playouts):
                no_pass = game.legal_mask()
                no_pass[-1] = False
                if no_pass.any():
                    allowed = no_pass if allowed is None else allowed & no_pass
        elif rule == "won":
            last = game.moves[-1] if game.moves else None
            opponent_passed = last is not None and last.loc == PASS_LOC and last.color != game.to_play
            if (opponent_passed and (allowed is None or allowed[-1])
                    and passing_wins(game, self._ownership_evaluator, self.play.dead_stone_playouts)):
                return Decision(PASS_LOC), None
        elif rule == "end":
            end = moves_before_the_end(game)
            allowed = end if allowed is None else allowed & end
        return None, allowed

    def analyse_many(self, slots: Sequence[int], games: Sequence[GameState],
                     num_simulations: Optional[int | Sequence[int]] = None, noise: Optional[Sequence[bool]] = None,
                     allowed: Optional[Sequence[Optional[np.ndarray]]] = None) -> list[SearchResult]:
        """Search the games' positions (each tree reused where its game went on from the position
        it last searched): `num_simulations` more visits (one number or one per game; default the
        config's), root noise where `noise[i]` (default the config's), root moves `allowed[i]`."""
        t = self.search.trees
        for slot, game in zip(slots, games):
            reuse = self._walk_tree(slot, game)
            self.search.set_root(slot, game, reuse=reuse)
            self.reused_visits[slot] = int(t.node_i[slot, VISITS, t.counts[slot, ROOT]]) if reuse else 0
        results = self.search.search(list(slots), num_simulations, noise, allowed)
        for slot, game in zip(slots, games):
            self._searched[slot] = list(game.moves)
        return results

    def analyse(self, game: GameState, num_simulations: Optional[int] = None, slot: int = 0) -> SearchResult:
        return self.analyse_many([slot], [game], num_simulations)[0]

    def temperature(self, game: GameState) -> float:
        """The temperature of the next move of `game` (0: the best move)."""
        if self.play.opening_temperature > 0:
            return opening_temperature(game.move_number, game.size, self.play.opening_temperature)
        return self.config.temperature if game.move_number < self.config.temperature_moves else 0.0

    def after_search(self, slot: int, game: GameState, result: SearchResult, cleanup: bool = False) -> Decision:
        """The resign rule (never in cleanup) and the move to play."""
        c = self.config
        fraction = self.play.opening_min_visit_fraction if self.play.opening_temperature > 0 else 0.0
        action = choose_action(result, self.temperature(game), self.rngs[slot], c.use_lcb, c.lcb_min_visit_fraction,
                               min_visit_fraction=fraction)
        resign = not cleanup and self.streaks.update(slot, game, result.root_value)
        return Decision(loc_of_action(action, game.size), resign=resign, result=result)

    def decide_many(self, slots: Sequence[int], games: Sequence[GameState],
                    num_simulations: Optional[Sequence[int]] = None,
                    noise: Optional[Sequence[bool]] = None) -> list[Decision]:
        """One batched search for every game that needs one; games in cleanup are those that
        resumed after two passes. `num_simulations` and `noise`: per game, as in analyse_many."""
        decisions: list[Optional[Decision]] = [None] * len(slots)
        searched, allowed = [], []
        for i, (slot, game) in enumerate(zip(slots, games)):
            decisions[i], mask = self.before_search(slot, game, cleanup=game.resumed)
            if decisions[i] is None:
                searched.append(i)
                allowed.append(mask)
        if searched:
            results = self.analyse_many(
                [slots[i] for i in searched], [games[i] for i in searched],
                None if num_simulations is None else [num_simulations[i] for i in searched],
                None if noise is None else [noise[i] for i in searched],
                allowed if any(m is not None for m in allowed) else None)
            for i, result in zip(searched, results):
                decisions[i] = self.after_search(slots[i], games[i], result, cleanup=games[i].resumed)
        return decisions

    # --- the end of a game ---------------------------------------------------------------------

    @property
    def _ownership_evaluator(self) -> Optional[Evaluator]:
        return self.evaluator if self.play.network_ownership else None

    def dead_stones(self, slot: int, game: GameState) -> Optional[frozenset[int]]:
        return dead_stone_opinion(game, self._ownership_evaluator, self.play.dead_stone_playouts)
