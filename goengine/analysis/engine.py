"""The JSON analysis engine: queries in, responses out, several positions searched at once.

Every searched position (a "turn" of a query) takes one tree of a `BatchedSearch` for its
board size; all trees of a size advance together in rounds of a few simulations each, so the
leaves of every query in flight go to the network in one batch. Between rounds the engine
takes new input, starts waiting turns on free trees (highest priority first, then the oldest),
writes the reports that are due, and finishes turns that have their visits, ran out of time or
were terminated. A response may come before that of an earlier query (KataGo's engine does the
same); each carries its query's `id` and `turnNumber`.

Input lines are JSON objects: queries (see query.py) or actions (`query_version`,
`clear_cache`, `terminate` with `terminateId` and optional `turnNumbers`, `terminate_all`).
An unreadable line is answered `{"error": ...}`, a bad query `{"id", "error", "field"}`.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..game import move_limit
from ..search import BatchedSearch, SearchConfig, rollout_search_config
from ..search.tree import ROOT, VISITS
from .estimates import Estimate, MoveEstimates, root_estimate
from .query import PERSPECTIVES, QueryError, Turn, parse_query
from .report import no_results, pv_visits_in_tree, turn_response

log = logging.getLogger("goengine.analysis")


@dataclass(frozen=True)
class AnalysisSettings:
    max_visits: int = 500  # per turn, when the query does not say; also the trees' room
    max_visits_cap: int = 10_000  # no query gets more (the trees are sized for this)
    parallel: int = 4  # turns searched at once per board size
    perspective: str = "BLACK"  # reportAnalysisWinratesAs default
    ownership_playouts: int = 200  # random playouts per ownership estimate without a head
    seed: int = 0
    round_visits_network: int = 16  # simulations per tree per round
    round_visits_rollouts: int = 128
    version: str = "0.1.0"
    any_size: bool = False
    trained_sizes: Optional[tuple[int, ...]] = None

    def __post_init__(self) -> None:
        if self.perspective not in PERSPECTIVES:
            raise ValueError(f"perspective must be one of {', '.join(PERSPECTIVES)}")
        if self.max_visits < 1 or self.max_visits_cap < 1 or self.parallel < 1:
            raise ValueError("visits and parallel must be at least 1")


@dataclass
class _Running:
    turn: Turn
    tree: int
    target: int
    started: float
    next_report: Optional[float]
    root: Estimate
    moves: MoveEstimates
    terminated: bool = False


@dataclass
class _Pool:
    search: BatchedSearch
    running: dict[int, _Running] = field(default_factory=dict)  # tree -> turn

    def free_tree(self) -> Optional[int]:
        for g in range(self.search.num_trees):
            if g not in self.running:
                return g
        return None


def root_visits(search: BatchedSearch, g: int) -> int:
    t = search.trees
    return int(t.node_i[g, VISITS, t.counts[g, ROOT]])


class AnalysisEngine:
    """Feed it lines with `handle_line`, drive it with `step` (one round of search); answers
    go to `write(json_text)`. Every board size is searched with `evaluator` (None: rollouts),
    or, with `networks` (goengine.gtp.model_choice.Networks), with the network it picks for
    that size (the bundled default), loaded when a query first asks for that size. `clock`
    (seconds, monotonic) times reports and maxTime; tests pass one they advance by hand."""

    def __init__(self, evaluator, settings: AnalysisSettings, write: Callable[[str], None], networks=None,
                 clock: Callable[[], float] = time.monotonic):
        self.evaluator = evaluator
        self.clock = clock
        self.networks = networks
        self.settings = settings
        self.write = write
        self._waiting: list = []  # heap of (-priority, seq, Turn)
        self._seq = itertools.count()
        self._pools: dict[int, _Pool] = {}

    # --- input ---------------------------------------------------------------------------------

    def busy(self) -> bool:
        return bool(self._waiting) or any(p.running for p in self._pools.values())

    def _send(self, obj: dict) -> None:
        self.write(json.dumps(obj, separators=(",", ":")))

    def handle_line(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        try:
            query = json.loads(text)
        except json.JSONDecodeError as e:
            self._send({"error": f"could not parse query as JSON: {e}"})
            return
        if not isinstance(query, dict):
            self._send({"error": "a query must be a JSON object"})
            return
        if "id" not in query:
            self._send({"error": "query is missing its id", "field": "id"})
            return
        if not isinstance(query["id"], (str, int)) or isinstance(query["id"], bool):
            self._send({"error": "id must be a string", "field": "id"})
            return
        if "action" in query:
            self._action(query)
            return
        try:
            parsed = parse_query(query, min(self.settings.max_visits, self.settings.max_visits_cap),
                                 self.settings.perspective)
            self._check_size(parsed.turns[0].game.size)
        except QueryError as e:
            self._send({"id": query["id"], "error": e.message, **({"field": e.field} if e.field else {})})
            return
        for field_name, message in parsed.warnings:
            self._send({"id": query["id"], "warning": message, "field": field_name})
        for turn in parsed.turns:
            heapq.heappush(self._waiting, (-turn.priority, next(self._seq), turn))

    def evaluator_for(self, size: int):
        return self.networks.for_size(size) if self.networks is not None else self.evaluator

    def _check_size(self, size: int) -> None:
        if self.networks is not None:
            try:
                self.networks.for_size(size)
            except Exception as e:
                log.exception("loading the network for %dx%d failed", size, size)
                raise QueryError(f"the network for {size}x{size} failed to load: {type(e).__name__}: {e}",
                                 "boardXSize") from None
            return
        sizes = self.settings.trained_sizes
        if sizes and size not in sizes and not self.settings.any_size:
            trained = ", ".join(f"{n}x{n}" for n in sizes)
            raise QueryError(f"the network was trained on {trained}, not {size}x{size} (start the engine with "
                             f"--any-size to analyse other sizes)", "boardXSize")

    def _action(self, query: dict) -> None:
        action = query["action"]
        if action == "query_version":
            self._send({**query, "version": self.settings.version, "git_hash": "<omitted>"})
        elif action == "clear_cache":
            self._send(dict(query))  # no evaluation cache to clear: every tree starts afresh anyway
        elif action in ("terminate", "terminate_all"):
            target = query.get("terminateId")
            if action == "terminate" and target is None:
                self._send({"id": query["id"], "error": "terminate needs terminateId", "field": "terminateId"})
                return
            numbers = query.get("turnNumbers")
            if numbers is not None and (not isinstance(numbers, list) or
                                        not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)):
                self._send({"id": query["id"], "error": "turnNumbers must be a list of integers",
                            "field": "turnNumbers"})
                return
            self._send(dict(query))
            self._terminate(target if action == "terminate" else None, numbers)
        else:
            self._send({"id": query["id"], "error": f"unknown action {action!r}", "field": "action"})

    def _terminate(self, query_id, numbers: Optional[list]) -> None:
        def hit(turn: Turn) -> bool:
            return ((query_id is None or turn.query_id == query_id)
                    and (numbers is None or turn.turn_number in numbers))

        kept = []
        for item in self._waiting:
            if hit(item[2]):
                self._send(no_results(item[2]))
            else:
                kept.append(item)
        heapq.heapify(kept)
        self._waiting = kept
        for pool in self._pools.values():
            for running in pool.running.values():
                if hit(running.turn):
                    running.terminated = True

    # --- search --------------------------------------------------------------------------------

    def _pool(self, size: int) -> _Pool:
        pool = self._pools.get(size)
        if pool is None:
            room = self.settings.max_visits_cap + 1
            evaluator = self.evaluator_for(size)
            if evaluator is not None:
                config = SearchConfig(num_simulations=room, tree_memory_factor=2, leaves_per_tree=8, use_lcb=False)
            else:
                config = rollout_search_config(room, tree_memory_factor=2)
            pool = _Pool(BatchedSearch(config, size, self.settings.parallel, evaluator,
                                       max_moves=move_limit(size, "gtp") + 64, seed=self.settings.seed))
            self._pools[size] = pool
        return pool

    def _start_waiting(self) -> None:
        deferred = []
        while self._waiting:
            item = heapq.heappop(self._waiting)
            turn = item[2]
            pool = self._pool(turn.game.size)
            tree = pool.free_tree()
            if tree is None:
                deferred.append(item)
                continue
            try:
                pool.search.set_root(tree, turn.game)
            except ValueError as e:
                self._send({"id": turn.query_id, "turnNumber": turn.turn_number, "error": str(e)})
                continue
            evaluator = pool.search.evaluator
            root = root_estimate(turn.game, evaluator, self.settings.ownership_playouts, self.settings.seed)
            now = self.clock()
            pool.running[tree] = _Running(turn, tree, min(turn.max_visits, self.settings.max_visits_cap), now,
                                          None if turn.report_every is None else now + turn.report_every,
                                          root, MoveEstimates(turn.game, evaluator, root))
        for item in deferred:
            heapq.heappush(self._waiting, item)

    def step(self) -> None:
        """Start what can start, search one round on every busy tree, report and finish."""
        self._start_waiting()
        for pool in self._pools.values():
            if not pool.running:
                continue
            search = pool.search
            per_round = (self.settings.round_visits_network if search.evaluator is not None
                         else self.settings.round_visits_rollouts)
            trees, sims = [], []
            for g, running in pool.running.items():
                done = root_visits(search, g)
                if not running.terminated and not self._out_of_time(running) and done < running.target:
                    trees.append(g)
                    sims.append(min(per_round, running.target - done))
            results = {}
            if trees:
                results = dict(zip(trees, search.search(trees=trees, num_simulations=sims,
                                                        allowed=[pool.running[g].turn.allowed for g in trees])))
            now = self.clock()
            for g in list(pool.running):
                running = pool.running[g]
                result = results.get(g) or search.result(g)
                finished = (g not in results or running.terminated or self._out_of_time(running)
                            or result.num_simulations >= running.target)
                if finished:
                    self._report(pool, running, result, during_search=False)
                    del pool.running[g]
                elif running.next_report is not None and now >= running.next_report:
                    self._report(pool, running, result, during_search=True)
                    running.next_report = now + running.turn.report_every

    def _out_of_time(self, running: _Running) -> bool:
        return running.turn.max_time is not None and self.clock() - running.started >= running.turn.max_time

    def _report(self, pool: _Pool, running: _Running, result, during_search: bool) -> None:
        search, g = pool.search, running.tree
        if result.num_simulations == 0:
            self._send(no_results(running.turn))
            return
        t = search.trees

        def pv_visits(pv: list[int]) -> list[int]:
            return pv_visits_in_tree(t.node_i[g], t.edge_i[g], int(t.counts[g, ROOT]), pv)

        self._send(turn_response(running.turn, result, lambda a: search.child_pv(g, a), pv_visits, running.root,
                                 running.moves, during_search))

    def finish(self) -> None:
        """Run until every query has been answered (end of input)."""
        while self.busy():
            self.step()
