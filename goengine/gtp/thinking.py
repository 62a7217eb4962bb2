"""Searching a position for GTP: the engine's search player (rollout MCTS, or MCTS with a
network; goengine.players) plus a search loop bounded by visits and by a wall-clock deadline.

The search runs in chunks of simulations sized from the measured speed (about `CHUNK_SECONDS`
each), so it can stop at a deadline, report progress (analysis lines) between chunks, and stop
when the GUI sends the next command. The tree is reused from move to move where the game went
on from the searched position, and never grows past its preallocated room: the loop stops
early rather than let the search discard its tree.

Times are `time.monotonic()` seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..alphago_player import load_rollout_weights
from ..game import GameState
from ..players import PlayerConfig, SearchPlayer
from ..search import SearchConfig, SearchResult, rollout_search_config
from ..search.tree import NUM_EDGES, NUM_NODES, ROOT, compact
from ..search.restrict import restrict_root
from ..search.stopping import StopRule

CHUNK_SECONDS = 0.05
# With a stop rule, the root is looked at at least this many times over the budget left.
STOP_CHECKS = 16
# Edges the tree may hold (12 bytes each): bounds the simulations one search can keep.
EDGE_BUDGET = 8_000_000
DEFAULT_ROLLOUT_VISITS = 10_000
DEFAULT_NETWORK_VISITS = 800


@dataclass(frozen=True)
class SearchStats:
    """How the last search went: visits kept from the previous search (`reused`), visits it
    added (`searched`), its wall-clock seconds, and why it stopped: "visits" (the visit
    limit), "deadline", "extended" (past the deadline on an unclear choice, to the clear
    choice or the hard deadline), "settled" (the budget left could not change the move),
    "asked" (should_stop) or "room" (the tree is full)."""
    reused: int
    searched: int
    seconds: float
    stop: str


@dataclass(frozen=True)
class SearchSettings:
    """How the engine searches. `visits` None: the default for the evaluator kind."""
    visits: Optional[int] = None
    seed: int = 0
    tree_edges: int = EDGE_BUDGET
    # Classical UCT behaviour for rollouts: a strongly negative FPU reduction gives every
    # unvisited child a high first value, so each move gets a rollout before any gets a second
    # (with the network default, one lucky rollout at a node starves all its siblings).
    rollout_c_puct: float = 3.0
    rollout_fpu_reduction: float = -100.0
    # AlphaGo's leaf value with a network: (1 - lambda) * network + lambda * rollout outcome;
    # rollouts follow the rollout policy checkpoint `rollout_model` (None: uniformly random).
    rollout_lambda: float = 0.0
    rollout_model: Optional[str] = None

    def default_visits(self, has_network: bool) -> int:
        if self.visits is not None:
            return self.visits
        return DEFAULT_NETWORK_VISITS if has_network else DEFAULT_ROLLOUT_VISITS


def capacity(size: int, visits: int, tree_edges: int = EDGE_BUDGET) -> int:
    """Simulations one search may hold: the visit limit, and more for time-limited search as
    far as the edge budget allows (nodes are twice this, for tree reuse)."""
    actions = size * size + 1
    per_node = actions if size <= 9 else actions // 2 + 1
    return max(visits, tree_edges // (2 * per_node))


def search_config(size: int, visits: int, has_network: bool, settings: SearchSettings) -> SearchConfig:
    room = capacity(size, visits, settings.tree_edges)
    if has_network:
        # The move played is the best lower confidence bound among well-visited moves (Leela
        # Zero, KataGo): a move the search barely looked at cannot win on a lucky value. The
        # rollout search keeps the most visited move: LCB made no measurable difference to its
        # strength (benchmarks/lcb_rollouts.py, 52% of 440 games at 400 visits).
        return SearchConfig(num_simulations=room, tree_memory_factor=2, leaves_per_tree=8,
                            rollout_lambda=settings.rollout_lambda, use_lcb=True)
    return rollout_search_config(room, tree_memory_factor=2, c_puct=settings.rollout_c_puct,
                                 fpu_reduction=settings.rollout_fpu_reduction,
                                 fpu_root_reduction=settings.rollout_fpu_reduction)


class Searcher:
    """The search for one board size. `evaluator` None: rollouts with uniform priors. `play`:
    how the player decides around the search (commands_play.py)."""

    def __init__(self, size: int, evaluator=None, settings: SearchSettings = SearchSettings(),
                 max_moves: Optional[int] = None, play: PlayerConfig = PlayerConfig()):
        self.size = size
        self.evaluator = evaluator
        self.settings = settings
        self.default_visits = settings.default_visits(evaluator is not None)
        self.config = search_config(size, self.default_visits, evaluator is not None, settings)
        # The config planned here is the one that runs: the player takes it as given.
        self.player = SearchPlayer(self.config, size, evaluator, play=play, seed=settings.seed, max_moves=max_moves,
                                   rollout_weights=load_rollout_weights(settings.rollout_model))
        self.max_moves = self.player.search.max_moves
        nodes = self.player.search.trees.node_i.shape[2]
        self._compact_scratch = (np.zeros(nodes, np.int64), np.zeros(nodes, np.int64))
        self._min_chunk = 8 if evaluator is not None else 16
        self._rate = 0.0  # simulations per second, measured
        self._signature: Optional[tuple] = None
        self.last: Optional[SearchStats] = None

    # --- tree bookkeeping ----------------------------------------------------------------------

    def reset(self) -> None:
        """Discard the tree (the resign streak belongs to the game, and stays)."""
        self.player.reset_tree()
        self._signature = None

    def new_game(self) -> None:
        """Discard the tree and the resign streak."""
        self.player.start_game()
        self._signature = None

    def can_search(self, game: GameState) -> bool:
        """Whether the game is short enough for the search's preallocated history (near the
        move limit the engine passes instead)."""
        return (game.move_number + 2 < self.max_moves
                and game.history_len + 2 < self.player.search.keys.shape[1])

    def _room_for(self, sims: int) -> bool:
        t = self.player.search.trees
        return (t.counts[0, NUM_NODES] + sims + 1 <= t.node_i.shape[2]
                and t.counts[0, NUM_EDGES] + (sims + 1) * self.player.search.num_actions <= t.edge_i.shape[2])

    def _compact_if_crowded(self) -> None:
        t = self.player.search.trees
        if t.counts[0, NUM_NODES] > t.node_i.shape[2] // 2:
            compact(t.node_i, t.node_f, t.edge_i, t.edge_p, t.counts, 0, *self._compact_scratch)

    def _prepare(self, game: GameState, restricted: bool) -> GameState:
        """The game the search starts from, after discarding a tree that cannot be reused."""
        # The player reuses its tree by comparing move lists; setup stones (handicap, a colour
        # to play changed by genmove) and restricted roots are invisible to that comparison.
        signature = (game.history_len - game.move_number, game.to_play)
        if self._signature is None or signature[0] != self._signature[0] or game.consecutive_passes >= 2:
            self.player.reset_tree()
        self._signature = None if restricted else signature
        if restricted:
            self.player.reset_tree()
        if game.consecutive_passes >= 2:
            # Both players passed but the controller wants another move (cleanup): search as
            # if the game went on, or every line would end at once.
            game = game.copy()
            game.consecutive_passes = 0
        return game

    # --- the search ---------------------------------------------------------------------------

    def search(self, game: GameState, visits: Optional[int] = None, deadline: Optional[float] = None,
               allowed: Optional[np.ndarray] = None, should_stop: Optional[Callable[[], bool]] = None,
               on_progress: Optional[Callable[[SearchResult], None]] = None,
               progress_every: Optional[float] = None, hard_deadline: Optional[float] = None,
               stop_rule: Optional[StopRule] = None) -> SearchResult:
        """Search until the root has `visits` visits (None: as many as the tree holds), the
        deadline passes, or `should_stop()` says so; a first chunk is always searched.
        With `stop_rule`, stop as soon as the budget left cannot change the move played, and
        go on past `deadline` up to `hard_deadline` while the rule finds the choice unclear.
        `allowed` (bool[N*N+1]) restricts the root's moves. `on_progress(result)` is called
        every `progress_every` seconds. `last` tells how the search went."""
        start = time.monotonic()
        root_game = self._prepare(game, restricted=allowed is not None)
        player = self.player
        result: Optional[SearchResult] = None
        reused: Optional[int] = None
        if allowed is not None:
            result = player.analyse(root_game, 1)
            reused = player.reused_visits[0]
            restrict_root(player.search, 0, allowed)
        chunk_seconds = CHUNK_SECONDS if progress_every is None else min(CHUNK_SECONDS, progress_every / 2)
        next_report = start + progress_every if progress_every is not None else None
        first = True
        stop = "room"
        while True:
            now = time.monotonic()
            done = 0 if result is None else result.num_simulations
            # Past the planned deadline, an unclear choice thinks on until the hard one.
            limit = deadline
            if not first:
                if visits is not None and done >= visits:
                    stop = "visits"
                    break
                if should_stop is not None and should_stop():
                    stop = "asked"
                    break
                if deadline is not None and now >= deadline:
                    if (stop_rule is None or hard_deadline is None or now >= hard_deadline
                            or not stop_rule.unclear(result)):
                        stop = "deadline" if stop == "room" else "extended"
                        break
                    stop, limit = "extending", hard_deadline
                if stop_rule is not None and stop_rule.settled(result, self._remaining(done, visits, limit, now)):
                    stop = "settled"
                    break
            chunk = self._min_chunk if self._rate <= 0 else max(self._min_chunk, int(self._rate * chunk_seconds))
            if limit is not None and self._rate > 0:
                # Compared as floats first: a far deadline (a huge clock) overflows int().
                fits = self._rate * (limit - now)
                if fits < chunk:
                    chunk = max(1 if not first else self._min_chunk, int(fits))
            if visits is not None:
                chunk = min(chunk, max(1, visits - done))
            if stop_rule is not None:
                # Look at the root often enough to stop early: a fast search would otherwise
                # spend a whole visit budget in one chunk.
                remaining = self._remaining(done, visits, limit, now)
                if np.isfinite(remaining):
                    chunk = min(chunk, max(self._min_chunk, int(remaining / STOP_CHECKS)))
            if not self._room_for(chunk):
                if first:
                    self._compact_if_crowded()
                if not self._room_for(chunk):
                    chunk = max(1, chunk // 4)
                    if not self._room_for(chunk):
                        if result is None:
                            self.reset()
                            continue
                        break
            began = time.perf_counter()
            result = player.analyse(root_game, chunk)
            if reused is None:
                reused = player.reused_visits[0]
            elapsed = time.perf_counter() - began
            if elapsed > 0:
                measured = chunk / elapsed
                self._rate = measured if self._rate <= 0 else 0.5 * self._rate + 0.5 * measured
            if first:
                self._compact_if_crowded()
                first = False
            if on_progress is not None and next_report is not None and time.monotonic() >= next_report:
                on_progress(result)
                next_report = time.monotonic() + progress_every
        assert result is not None
        if stop == "extending":  # the tree filled up past the deadline
            stop = "extended"
        self.last = SearchStats(reused=reused or 0, searched=result.num_simulations - (reused or 0),
                                seconds=time.monotonic() - start, stop=stop)
        return result

    def _remaining(self, done: int, visits: Optional[int], deadline: Optional[float], now: float) -> float:
        """Simulations the budget still allows: the visits, the time at the measured speed,
        and the room left in the tree (inf: no bound but the tree's, before any speed is known)."""
        remaining = float("inf")
        if visits is not None:
            remaining = float(visits - done)
        if deadline is not None and self._rate > 0:
            remaining = min(remaining, self._rate * max(0.0, deadline - now))
        if np.isfinite(remaining) or deadline is not None:
            remaining = min(remaining, float(self._room_left()))
        return remaining

    def _room_left(self) -> int:
        """Simulations the tree still has room for (each may expand a node of every action)."""
        t = self.player.search.trees
        nodes = t.node_i.shape[2] - int(t.counts[0, NUM_NODES]) - 1
        edges = (t.edge_i.shape[2] - int(t.counts[0, NUM_EDGES])) // self.player.search.num_actions - 1
        return max(0, min(nodes, edges))

    def child_pv(self, action: int, max_len: int = 32, min_visits: int = 2) -> list[int]:
        """The principal variation through a root action after the last search: `action`,
        then the most visited child at each node while it has at least `min_visits` visits
        (a single visit is one rollout: noise, and with uniform priors the first legal move)."""
        return self.player.search.child_pv(0, action, max_len, min_visits)

    def pv_visits(self, pv: list[int]) -> list[int]:
        """Visits of each node along `pv` (root actions first) after the last search."""
        from ..analysis.report import pv_visits_in_tree

        t = self.player.search.trees
        return pv_visits_in_tree(t.node_i[0], t.edge_i[0], int(t.counts[0, ROOT]), pv)
