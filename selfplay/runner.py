"""Self-play in lockstep: G games advance together, one batched search (one network call per
search step across all games) per move.

Per move and game: playout cap randomisation (KataGo) picks a full search with probability
`full_search_prob` (its visits become a policy target, with root noise) or a cheap one; the
first `temperature_moves` moves are drawn from the visit distribution; resignation follows the
root value, except in a `playthrough_fraction` of games that are played out to measure how often
a resignation would have been wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np

from goengine.board import WHITE
from goengine.evaluator import Evaluator
from goengine.game import GameState, move_limit
from goengine.players import PlayerConfig, ResignRule, SearchPlayer
from goengine.search import SearchConfig

from .records import PlayedGame


@dataclass(frozen=True)
class SelfPlayConfig:
    board_size: int = 9
    komi: float = 7.0
    rules: str = "tromp-taylor"
    max_moves: Optional[int] = None          # default 2 * N * N
    parallel_games: int = 32                 # games in lockstep per process
    search: SearchConfig = field(default_factory=lambda: SearchConfig(num_simulations=64, dirichlet_noise=True))
    full_search_prob: float = 1.0            # playout cap randomisation: 1.0 disables it
    cheap_simulations: int = 16
    temperature: float = 1.0
    temperature_moves: int = 8
    resign_threshold: float = -0.9           # root value for the player to move
    resign_consecutive: int = 3
    resign_min_move: Optional[int] = None    # default N * N // 4
    playthrough_fraction: float = 0.1
    allow_resign: bool = True
    # "any": pass is a move like others; "end": pass only when every legal move would fill one's
    # own eye, so every game is played out and its area count is exact (young networks otherwise
    # end games early: under area scoring the side with more stones wins a pass-pass at once).
    pass_rule: str = "any"

    def with_(self, **changes) -> "SelfPlayConfig":
        return replace(self, **changes)

    @property
    def move_limit(self) -> int:
        return self.max_moves if self.max_moves is not None else move_limit(self.board_size)


@dataclass
class _Slot:
    game: GameState
    record: PlayedGame


class SelfPlayRunner:
    """Plays games of one network against itself, `parallel_games` at a time: one search
    player (goengine.players.SearchPlayer) over all of them, playing both colours."""

    def __init__(self, config: SelfPlayConfig, evaluator: Optional[Evaluator], model_id: str, seed: int = 0):
        self.config = config
        self.model_id = model_id
        self.rng = np.random.default_rng(seed)
        c = config
        search = c.search.with_(num_simulations=max(c.search.num_simulations, c.cheap_simulations),
                                temperature=c.temperature, temperature_moves=c.temperature_moves)
        resign = ResignRule(below=c.resign_threshold, consecutive=c.resign_consecutive, min_move=c.resign_min_move)
        self.player = SearchPlayer(search, c.board_size, evaluator, play=PlayerConfig(resign=resign, pass_rule=c.pass_rule),
                                   num_slots=c.parallel_games, max_moves=c.move_limit, seed=seed)
        self.positions = 0
        self.search_seconds = 0.0

    def _new_slot(self, g: int) -> _Slot:
        c = self.config
        game = GameState(c.board_size, komi=c.komi, rules=c.rules, max_moves=c.move_limit)
        seed = int(self.rng.integers(0, 2**62))
        playthrough = (not c.allow_resign) or self.rng.random() < c.playthrough_fraction
        record = PlayedGame(board_size=c.board_size, komi=c.komi, rules=c.rules, model_id=self.model_id,
                            seed=seed, playthrough=playthrough)
        self.player.start_game(g, game, seed)
        return _Slot(game, record)

    def play(self, num_games: int, on_game: Optional[Callable[[PlayedGame], None]] = None,
             should_stop: Optional[Callable[[], bool]] = None,
             on_moves: Optional[Callable[[int], None]] = None) -> list[PlayedGame]:
        """Play `num_games` games; `on_game` is called as each finishes and `on_moves(n)` after
        each lockstep move with the number of moves just played. Stops early (returning the
        finished games) when `should_stop()` becomes true."""
        c = self.config
        n = min(c.parallel_games, num_games)
        slots: list[Optional[_Slot]] = [self._new_slot(g) for g in range(n)]
        started = n
        finished: list[PlayedGame] = []
        while any(s is not None for s in slots):
            if should_stop is not None and should_stop():
                break
            active = [g for g, s in enumerate(slots) if s is not None]
            full = self.rng.random(len(active)) < c.full_search_prob
            sims = [c.search.num_simulations if f else c.cheap_simulations for f in full]
            noise = [bool(f and c.search.dirichlet_noise) for f in full]
            start = time.perf_counter()
            decisions = self.player.decide_many(active, [slots[g].game for g in active], sims, noise)
            self.search_seconds += time.perf_counter() - start
            if on_moves is not None:
                on_moves(len(active))
            for i, g in enumerate(active):
                slot, decision = slots[g], decisions[i]
                game, record, result = slot.game, slot.record, decision.result
                policy = None
                if full[i]:
                    policy = result.policy_target if result.policy_target is not None else result.visit_counts.astype(np.float32)
                record.add_move(game.action_of(decision.loc), result.root_value, policy)
                self.positions += 1
                if decision.resign:
                    if not record.playthrough:
                        game.resign(game.to_play)
                    elif record.would_resign == 0:
                        record.would_resign = game.to_play
                if game.resigned is None:
                    game.play(decision.loc)
                if game.is_over:
                    self._finish(record, game)
                    finished.append(record)
                    if on_game is not None:
                        on_game(record)
                    if started < num_games:
                        slots[g] = self._new_slot(g)
                        started += 1
                    else:
                        slots[g] = None
        return finished

    def _finish(self, record: PlayedGame, game: GameState) -> None:
        score = game.score()
        record.ownership = score.ownership.copy()
        if game.resigned is not None:
            record.resigned = game.resigned
            record.result = 1.0 if game.resigned == WHITE else -1.0
            record.score = float("nan")
        else:
            record.score = float(score.margin)
            record.result = float(np.sign(score.margin))
