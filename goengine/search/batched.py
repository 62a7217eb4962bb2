"""`BatchedSearch`: MCTS over G games at once, one network call per step for all of them.

Python only runs between numba steps: `select_leaves` collects a batch of leaves across all
trees, leaves.py encodes their features (and plays their rollouts), the evaluator turns the
batch into policy logits and values, `expand_and_backup` grows the trees. With no evaluator (rollout_lambda = 1) the whole search runs inside numba.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numba as nb
import numpy as np

from ..board import NUM_FIELDS
from ..evaluator import Evaluator
from ..features import get_feature_set
from ..game import HISTORY, GameState, move_limit
from . import kernels as K
from . import leaves as L
from . import root_stats
from .config import SearchConfig
from .gumbel import GumbelRoot
from .restrict import restrict_root
from .tree import (EXPANDED, FULL, NUM_EDGES, NUM_NODES, ROOT, STATE, TERMINAL, VISITS, advance_root, compact,
                   new_trees, reset_tree)


@dataclass(frozen=True)
class SearchResult:
    """What one search found at a root. Arrays are over actions (pass last)."""
    visit_counts: np.ndarray  # int64[A]
    q: np.ndarray             # float64[A], mean value for the root player; NaN where unvisited
    prior: np.ndarray         # float32[A], after noise
    q_var: np.ndarray         # float64[A], variance of the values backed up through each action
    root_value: float         # mean value for the root player to move, in [-1, 1]
    pv: list[int]             # actions of the principal variation
    num_simulations: int      # visits at the root
    policy_target: Optional[np.ndarray] = None  # Gumbel's improved policy, else None
    gumbel_action: Optional[int] = None          # the action Gumbel search chose, else None

    @property
    def winrate(self) -> float:
        return (self.root_value + 1.0) / 2.0


@nb.njit(cache=True)
def _search_with_random_rollouts(tree, roots, scratch, budget, slots, params, rngs, leaf, noise):
    """The whole search inside numba, for leaf evaluation by random rollouts alone (uniform
    priors). The argument tuples are kernels.py's."""
    komi, owner, stack, slot_info, slot_board, slot_rollout = roots[5], scratch[2], scratch[3], slots[0], slots[3], leaf[0]
    while True:
        n = K.select_leaves(tree, roots, scratch, budget, slots, params)
        if n == 0:
            return
        L.random_rollouts(slot_board, slot_info, n, komi, rngs, owner, stack, params, slot_rollout)
        K.expand_and_backup(tree, slots, budget, leaf, noise, n, params)


@nb.njit(cache=True)
def _search_with_policy_rollouts(tree, roots, scratch, budget, slots, params, rngs, rollout_weights, leaf, noise):
    """The same with the rollout policy's moves (`rollout_weights`)."""
    komi, owner, stack, slot_info, slot_board, slot_rollout = roots[5], scratch[2], scratch[3], slots[0], slots[3], leaf[0]
    while True:
        n = K.select_leaves(tree, roots, scratch, budget, slots, params)
        if n == 0:
            return
        L.policy_rollouts(slot_board, slot_info, n, komi, rngs, owner, stack, params, rollout_weights, slot_rollout)
        K.expand_and_backup(tree, slots, budget, leaf, noise, n, params)


class BatchedSearch:
    """Search trees for `num_trees` games of one board size, reused across moves.
    `rollout_weights` (float64 [NUM_FEATURES], `goengine.rollout.RolloutModel.kernel_weights`)
    makes leaf rollouts follow the rollout policy; None: uniformly random rollouts."""

    def __init__(self, config: SearchConfig, size: int, num_trees: int = 1,
                 evaluator: Optional[Evaluator] = None, max_moves: Optional[int] = None, seed: int = 0,
                 rollout_weights: Optional[np.ndarray] = None):
        if evaluator is None and config.rollout_lambda < 1.0:
            raise ValueError("a search without an evaluator needs rollout_lambda = 1")
        self.config = config
        self.size = size
        self.num_trees = num_trees
        self.evaluator = evaluator
        self.num_actions = size * size + 1
        self.max_moves = max_moves if max_moves is not None else move_limit(size)
        if evaluator is not None:
            fs = get_feature_set(evaluator.feature_set)
            self.feature_code, planes = fs.code, fs.num_planes
        else:
            self.feature_code, planes = 0, 1
        n_locs = (size + 2) ** 2
        max_nodes = config.num_simulations * config.tree_memory_factor + 2
        # Every expanded node holds at most one edge per action; the tree expands at most one
        # node per simulation.
        max_edges = max_nodes * self.num_actions if size <= 9 else max_nodes * (self.num_actions // 2 + 1)
        self.trees = new_trees(num_trees, max_nodes, max_edges)
        g = num_trees
        self.root_board = np.zeros((g, NUM_FIELDS, n_locs), np.int64)
        self.root_hist = np.zeros((g, HISTORY, n_locs), np.int64)
        self.root_moves = np.full((g, HISTORY), -1, np.int64)
        self.keys = np.zeros((g, self.max_moves + 64), np.int64)
        self.root_info = np.zeros((g, 8), np.int64)
        self.komi = np.zeros(g, np.float64)
        self.path_hist = np.zeros((g, HISTORY, n_locs), np.int64)
        self.leaf_moves = np.full((g, HISTORY), -1, np.int64)
        self.owner = np.zeros((g, n_locs), np.int8)
        self.stack = np.zeros((g, n_locs), np.int32)
        seeds = np.random.SeedSequence(seed).generate_state(g, dtype=np.uint64)
        self.rngs = np.maximum(seeds, 1).reshape(g, 1).astype(np.uint64)
        self.np_rng = np.random.default_rng(seed)
        self.sims_target = np.zeros(g, np.int64)
        self.sims_started = np.zeros(g, np.int64)
        self.sims_done = np.zeros(g, np.int64)
        self.plan = np.zeros((g, 2 + config.num_simulations + 2), np.int64)
        slots = g * config.leaves_per_tree
        self.slot_info = np.zeros((slots, K.SLOT_INFO_COLUMNS), np.int64)
        self.slot_board = np.zeros((slots, NUM_FIELDS, n_locs), np.int64)
        self.slot_hist = (np.zeros((slots, HISTORY, n_locs), np.int64) if self.feature_code > 0
                          else np.zeros((slots, 1, 1), np.int64))
        self.slot_moves = np.full((slots, HISTORY), -1, np.int64)
        self.slot_path = np.zeros((slots, self.max_moves + 2), np.int32)
        self.slot_legal = np.zeros((slots, self.num_actions), np.bool_)
        self.slot_features = np.zeros((slots, planes, size, size), np.uint8)
        self.slot_rollout = np.zeros(slots, np.float64)
        self.zero_logits = np.zeros((slots, self.num_actions), np.float32)
        self.zero_values = np.zeros(slots, np.float32)
        self.root_noise = np.zeros((g, self.num_actions), np.float64)
        self.noise_weight = np.zeros(g, np.float64)
        self.params = self._params(config)
        self.rollout_weights = (np.zeros(0, np.float64) if rollout_weights is None
                                else np.ascontiguousarray(rollout_weights, dtype=np.float64))
        self._compact_nodes = np.zeros(max_nodes, np.int64)
        self._compact_map = np.zeros(max_nodes, np.int64)
        self.gumbel = [GumbelRoot(config, self.num_actions, self.np_rng) for _ in range(g)] if config.gumbel else None

    def _params(self, c: SearchConfig) -> np.ndarray:
        p = np.zeros(K.NUM_PARAMS, np.float64)
        p[K.P_PUCT_ALPHAZERO] = 1.0 if c.puct == "alphazero" else 0.0
        p[K.P_C_PUCT] = c.c_puct
        p[K.P_C_BASE] = c.c_base
        p[K.P_C_INIT] = c.c_init
        p[K.P_FPU] = c.fpu_reduction
        p[K.P_FPU_ROOT] = c.fpu_root_reduction
        p[K.P_VLOSS] = c.virtual_loss
        p[K.P_LAMBDA] = c.rollout_lambda
        p[K.P_SOFTMAX_T] = c.policy_softmax_temperature
        p[K.P_FEATURE_CODE] = self.feature_code
        p[K.P_LEAVES] = c.leaves_per_tree
        p[K.P_ROLLOUT_MOVES] = 3 * self.size * self.size
        p[K.P_GUMBEL] = 1.0 if c.gumbel else 0.0
        p[K.P_C_VISIT] = c.gumbel_c_visit
        p[K.P_C_SCALE] = c.gumbel_c_scale
        return p

    # --- roots -------------------------------------------------------------------------------

    def set_root(self, g: int, game: GameState, reuse: bool = False) -> None:
        """Point tree g at `game`'s position. Unless `reuse`, the tree starts empty; callers that
        played the move through `advance` keep the subtree and pass reuse=True."""
        if game.size != self.size:
            raise ValueError(f"search is for {self.size}x{self.size}, game is {game.size}x{game.size}")
        if game.history_len + 1 >= self.keys.shape[1]:
            raise ValueError("game is longer than the search's move limit allows")
        self.root_board[g] = game.board
        self.root_hist[g] = 0
        for i, row in enumerate(game.color_history):
            self.root_hist[g, i] = row
        self.root_moves[g] = -1
        for i, loc in enumerate(game.recent_moves):
            self.root_moves[g, i] = loc
        self.keys[g, :game.history_len] = game.history_keys[:game.history_len]
        info = self.root_info[g]
        info[K.R_TO_PLAY] = game.to_play
        info[K.R_PASSES] = game.consecutive_passes
        info[K.R_MOVE_NUMBER] = game.move_number
        info[K.R_MAX_MOVES] = min(game.max_moves, self.max_moves)
        info[K.R_KO_RULE] = game.rules.ko_code
        info[K.R_SUICIDE] = 1 if game.rules.suicide else 0
        info[K.R_KEYS_LEN] = game.history_len
        info[K.R_HIST_LEN] = len(game.color_history)
        self.komi[g] = game.komi + game.rules.white_bonus(game.handicap)
        t = self.trees
        if reuse and t.node_i[g, STATE, t.counts[g, ROOT]] == TERMINAL and not game.is_over:
            # The subtree ended the game there (a second pass), but the game went on (KGS
            # cleanup resumes after two passes): a terminal root has no move to search.
            reuse = False
        if not reuse:
            reset_tree(t.node_i, t.node_f, t.counts, g)

    def advance(self, g: int, action: int) -> bool:
        """Tree reuse after `action` was played at tree g's root (call set_root afterwards with
        reuse=True). Returns whether the subtree survived."""
        t = self.trees
        return bool(advance_root(t.node_i, t.node_f, t.edge_i, t.counts, g, action))

    def reset(self, g: int) -> None:
        t = self.trees
        reset_tree(t.node_i, t.node_f, t.counts, g)

    # --- search ------------------------------------------------------------------------------

    def search(self, trees: Optional[Sequence[int]] = None,
               num_simulations: Optional[int | Sequence[int]] = None,
               noise: Optional[Sequence[bool]] = None,
               allowed: Optional[Sequence[Optional[np.ndarray]]] = None) -> list[SearchResult]:
        """Run more visits at the roots of `trees` (default: all): `num_simulations` (one number,
        or one per tree; default the config's), with root Dirichlet noise where `noise[i]`
        (default: the config's), considering at the root only the actions where `allowed[i]`
        (bool[A]; None: all legal moves). Returns one SearchResult per searched tree."""
        trees = list(range(self.num_trees)) if trees is None else list(trees)
        if num_simulations is None:
            per_tree = [self.config.num_simulations] * len(trees)
        elif isinstance(num_simulations, (int, np.integer)):
            per_tree = [int(num_simulations)] * len(trees)
        else:
            per_tree = [int(n) for n in num_simulations]
        self.sims_target[:] = 0
        self.sims_started[:] = 0
        self.sims_done[:] = 0
        self.noise_weight[:] = 0.0
        for i, g in enumerate(trees):
            sims = per_tree[i]
            self._make_room(g, sims)
            self.sims_target[g] = sims
            wants_noise = self.config.dirichlet_noise if noise is None else bool(noise[i])
            if wants_noise:
                self._prepare_noise(g)
        if allowed is not None and any(a is not None for a in allowed):
            self._restrict_roots(trees, [allowed[i] for i in range(len(trees))])
        if self.gumbel is not None:
            self._gumbel_search(trees)
        else:
            self._run()
        return [self.result(g) for g in trees]

    def _expand_roots(self, trees: list[int]) -> None:
        """One simulation for every tree whose root is not expanded yet (it expands the root)."""
        t = self.trees
        unexpanded = [g for g in trees if t.node_i[g, STATE, t.counts[g, ROOT]] != EXPANDED]
        if not unexpanded:
            return
        saved = self.sims_target.copy()
        self.sims_target[:] = 0
        for g in unexpanded:
            self.sims_target[g] = 1
            self.plan[g, 0] = 0
        self._run()
        self.sims_target[:] = saved

    def _restrict_roots(self, trees: list[int], masks: list[Optional[np.ndarray]]) -> None:
        restricted = [g for g, m in zip(trees, masks) if m is not None]
        self._expand_roots(restricted)
        for g, m in zip(trees, masks):
            if m is not None:
                restrict_root(self, g, m)

    def _make_room(self, g: int, sims: int) -> None:
        t = self.trees
        max_nodes = t.node_i.shape[2]
        max_edges = t.edge_i.shape[2]
        if (t.counts[g, NUM_NODES] + sims + 1 > max_nodes
                or t.counts[g, NUM_EDGES] + (sims + 1) * self.num_actions > max_edges):
            compact(t.node_i, t.node_f, t.edge_i, t.edge_p, t.counts, g, self._compact_nodes, self._compact_map)
            if (t.counts[g, NUM_NODES] + sims + 1 > max_nodes
                    or t.counts[g, NUM_EDGES] + (sims + 1) * self.num_actions > max_edges):
                reset_tree(t.node_i, t.node_f, t.counts, g)
        t.counts[g, FULL] = 0

    def _prepare_noise(self, g: int) -> None:
        alpha = self.config.alpha_for(self.size)
        self.root_noise[g] = self.np_rng.gamma(alpha, 1.0, self.num_actions)
        t = self.trees
        if not K.apply_root_noise(t.node_i, t.edge_i, t.edge_p, t.counts, g, self.root_noise[g],
                                  self.config.dirichlet_weight):
            self.noise_weight[g] = self.config.dirichlet_weight

    def _groups(self) -> tuple:
        """The argument tuples of kernels.py: tree, roots, scratch, budget, slots."""
        t = self.trees
        return ((t.node_i, t.node_f, t.edge_i, t.edge_p, t.counts),
                (self.root_board, self.root_hist, self.root_moves, self.keys, self.root_info, self.komi),
                (self.path_hist, self.leaf_moves, self.owner, self.stack),
                (self.sims_target, self.sims_started, self.sims_done, self.plan),
                (self.slot_info, self.slot_path, self.slot_legal, self.slot_board, self.slot_hist, self.slot_moves))

    def _run(self) -> None:
        """Step until every tree has its simulations (or is out of room)."""
        tree, roots, scratch, budget, slots = groups = self._groups()
        noise = (self.root_noise, self.noise_weight)
        policy_rollouts = self.rollout_weights.shape[0] > 0
        if self.evaluator is None:
            leaf = (self.slot_rollout, self.zero_logits, self.zero_values)
            if policy_rollouts:
                _search_with_policy_rollouts(*groups, self.params, self.rngs, self.rollout_weights, leaf, noise)
            else:
                _search_with_random_rollouts(*groups, self.params, self.rngs, leaf, noise)
            return
        encode_leaves = L.LEAF_ENCODERS[self.feature_code]
        rollouts = self.config.rollout_lambda > 0
        while True:
            n = K.select_leaves(tree, roots, scratch, budget, slots, self.params)
            if n == 0:
                return
            encode_leaves(self.slot_board, self.slot_hist, self.slot_moves, self.slot_info, n, self.slot_features)
            if rollouts and policy_rollouts:
                L.policy_rollouts(self.slot_board, self.slot_info, n, self.komi, self.rngs, self.owner, self.stack,
                                  self.params, self.rollout_weights, self.slot_rollout)
            elif rollouts:
                L.random_rollouts(self.slot_board, self.slot_info, n, self.komi, self.rngs, self.owner, self.stack,
                                  self.params, self.slot_rollout)
            logits, values = self.evaluator.evaluate(self.slot_features[:n])
            leaf = (self.slot_rollout, np.ascontiguousarray(logits, dtype=np.float32),
                    np.ascontiguousarray(values, dtype=np.float32))
            K.expand_and_backup(tree, slots, budget, leaf, noise, n, self.params)

    def _gumbel_search(self, trees: list[int]) -> None:
        # The root must be expanded before its actions can be planned.
        self._expand_roots(trees)
        for g in trees:
            stats = self._root_stats(g)
            self.gumbel[g].start(stats, remaining=int(self.sims_target[g] - self.sims_done[g]))
            self.gumbel[g].write_plan(self.plan[g])
        active = set(trees)
        while active:
            self._run()
            for g in list(active):
                stats = self._root_stats(g)
                if not self.gumbel[g].next_phase(stats, self.plan[g]):
                    active.discard(g)
                    self.sims_target[g] = self.sims_started[g]

    def _root_stats(self, g: int):
        t = self.trees
        visits = np.zeros(self.num_actions, np.int64)
        q = np.zeros(self.num_actions, np.float64)
        prior = np.zeros(self.num_actions, np.float32)
        self._q_var = np.zeros(self.num_actions, np.float64)
        value = root_stats.root_statistics(t.node_i, t.node_f, t.edge_i, t.edge_p, t.counts, g, visits, q, prior,
                                  self._q_var)
        return visits, q, prior, float(value)

    # --- results -----------------------------------------------------------------------------

    def result(self, g: int) -> SearchResult:
        t = self.trees
        visits, q, prior, value = self._root_stats(g)
        pv = np.zeros(64, np.int64)
        n = root_stats.principal_variation(t.node_i, t.edge_i, t.counts, g, pv)
        target = chosen = None
        if self.gumbel is not None:
            target = self.gumbel[g].policy_target(visits, q, prior, value)
            chosen = self.gumbel[g].chosen
        return SearchResult(visit_counts=visits, q=q, prior=prior, q_var=self._q_var, root_value=value,
                            pv=[int(a) for a in pv[:n]],
                            num_simulations=int(t.node_i[g, VISITS, t.counts[g, ROOT]]), policy_target=target,
                            gumbel_action=chosen)

    def child_pv(self, g: int, action: int, max_len: int = 32, min_visits: int = 1) -> list[int]:
        t = self.trees
        out = np.zeros(max_len, np.int64)
        n = root_stats.child_pv(t.node_i, t.edge_i, t.counts, g, action, out, min_visits)
        return [int(a) for a in out[:n]]
