"""The batched search: PUCT arithmetic, virtual loss bookkeeping, batching, reuse, noise, Gumbel."""

from __future__ import annotations

import math

import numpy as np
import pytest

from goengine.board import BLACK, WHITE
from goengine.coords import action_of_loc, loc_of_vertex
from goengine.evaluator import RandomEvaluator, UniformEvaluator, check_features
from goengine.game import GameState
from goengine.search import BatchedSearch, SearchConfig
from goengine.search import kernels as K
from goengine.search.tree import (ACTION, CHILD, EDGE_COUNT, EDGE_START, EVAL, EXPANDED, STATE,
                                  VALUE_SUM, VISITS, VLOSS, new_trees)


def _hand_tree(priors, visits, value_sums, eval_value, root_visits):
    """One expanded root whose children have the given statistics (None: never visited); the
    root's mean value (the base of first-play urgency) is `eval_value`."""
    trees = new_trees(1, 16, 16)
    node_i, node_f, edge_i, edge_p, counts = trees
    node_i[0, STATE, 0] = EXPANDED
    node_i[0, EDGE_START, 0] = 0
    node_i[0, EDGE_COUNT, 0] = len(priors)
    node_i[0, VISITS, 0] = root_visits
    node_f[0, EVAL, 0] = eval_value
    node_f[0, VALUE_SUM, 0] = -eval_value * root_visits  # stored from the mover-into-root's view
    counts[0, 0] = 1 + len(priors)
    for e, (p, n, w) in enumerate(zip(priors, visits, value_sums)):
        edge_i[0, ACTION, e] = e
        edge_p[0, e] = p
        if n is None:
            edge_i[0, CHILD, e] = -1
        else:
            edge_i[0, CHILD, e] = 1 + e
            node_i[0, VISITS, 1 + e] = n
            node_f[0, VALUE_SUM, 1 + e] = w
    return trees


def _params(puct="constant", c_puct=1.5, fpu=0.25, fpu_root=0.25, vloss=1):
    p = np.zeros(K.NUM_PARAMS)
    p[K.P_PUCT_ALPHAZERO] = 1.0 if puct == "alphazero" else 0.0
    p[K.P_C_PUCT] = c_puct
    p[K.P_C_BASE] = 19652.0
    p[K.P_C_INIT] = 1.25
    p[K.P_FPU] = fpu
    p[K.P_FPU_ROOT] = fpu_root
    p[K.P_VLOSS] = vloss
    return p


def test_puct_matches_hand_computation():
    # priors .5/.3/.2; visits 2 (W=+1.0), 1 (W=-0.5), unvisited; parent N=3, eval 0.1.
    # sqrt(3) = 1.7320508. Scores with c = 1.5 and FPU reduction 0.25:
    #  edge 0: 0.5  + 1.5*0.5*1.7320508/3 = 0.5 + 0.4330127 = 0.9330127
    #  edge 1: -0.5 + 1.5*0.3*1.7320508/2 = -0.5 + 0.3897114 = -0.1102886
    #  edge 2: (0.1 - 0.25*sqrt(0.8)) + 1.5*0.2*1.7320508 = -0.1236068 + 0.5196152 = 0.3960084
    trees = _hand_tree([0.5, 0.3, 0.2], [2, 1, None], [1.0, -0.5, 0.0], 0.1, 3)
    assert K.puct_select(*trees[:4], 0, 0, True, _params()) == 0
    # Make edge 0 look bad (W = -1.0 over 2 visits): edge 0 = -0.5 + 0.4330 = -0.0670, so the
    # unvisited edge 2 (0.3960) now wins.
    trees = _hand_tree([0.5, 0.3, 0.2], [2, 1, None], [-1.0, -0.5, 0.0], 0.1, 3)
    assert K.puct_select(*trees[:4], 0, 0, True, _params()) == 2
    # A larger FPU reduction (1.0): edge 2 = 0.1 - sqrt(0.8) + 0.5196 = -0.2748, below edge 0
    # (-0.0670) and edge 1 (-0.1103): edge 0 wins.
    assert K.puct_select(*trees[:4], 0, 0, True, _params(fpu_root=1.0)) == 0
    # Virtual loss on edge 0's child (2 in flight): N = 4, W = -1 - 2 = -3: q = -0.75,
    # U = 1.5*0.5*sqrt(3+0)/5 = 0.2598: -0.4902; edge 1 = -0.1103 is now best.
    trees[0][0, VLOSS, 1] = 2
    assert K.puct_select(*trees[:4], 0, 0, True, _params(fpu_root=1.0)) == 1


def test_first_play_urgency_starts_from_the_mean_value_not_one_evaluation():
    # The root's one evaluation was a lucky +1, but its 4 visits average -0.5 (its player's view).
    # Children: prior .9 visited twice (Q 0.3), prior .1 unvisited; c = 1, no reduction, sqrt(4) = 2.
    # visited: 0.3 + .9*2/3 = 0.9. Unvisited: -0.5 + .1*2 = -0.3 with the mean as base (the
    # visited child wins); it would be 1 + 0.2 = 1.2 with the single evaluation as base.
    trees = _hand_tree([0.9, 0.1], [2, None], [0.6, 0.0], -0.5, 4)
    trees.node_f[0, EVAL, 0] = 1.0
    assert K.puct_select(*trees[:4], 0, 0, True, _params(c_puct=1.0, fpu_root=0.0)) == 0
    # Before the first visit the evaluation is all there is: sqrt(max(N, 1)) = 1, visited
    # 0.3 + .9/3 = 0.6, unvisited 1 + .1 = 1.1.
    trees.node_i[0, VISITS, 0] = 0
    trees.node_f[0, VALUE_SUM, 0] = 0.0
    assert K.puct_select(*trees[:4], 0, 0, True, _params(c_puct=1.0, fpu_root=0.0)) == 1


def test_alphazero_exploration_constant_by_hand():
    # c(s) = log((1 + N + 19652) / 19652) + 1.25; with N = 100000: log(6.08864) + 1.25 = 3.05642.
    c = math.log((1 + 100000 + 19652) / 19652) + 1.25
    assert c == pytest.approx(3.05642, abs=1e-5)
    # Priors .9/.1, child visits 99000 (Q 0.1) and 1000 (Q 0.3), sqrt(N) = 316.228:
    # edge 0: 0.1 + 3.05642*.9*316.228/99001 = 0.10879; edge 1: 0.3 + 3.05642*.1*316.228/1001 = 0.39656.
    trees = _hand_tree([0.9, 0.1], [99000, 1000], [9900.0, 300.0], 0.0, 100000)
    assert K.puct_select(*trees[:4], 0, 0, True, _params(puct="alphazero")) == 1
    # Priors .5/.5, Q 0.25 and 0.2446. Constant c = 0.01: 0.25002 vs 0.24618, edge 0.
    # AlphaZero's c(s): 0.25 + 0.00488 = 0.25488 vs 0.2446 + 0.48277 = 0.72737, edge 1.
    trees = _hand_tree([0.5, 0.5], [99000, 1000], [24750.0, 244.6], 0.0, 100000)
    assert K.puct_select(*trees[:4], 0, 0, True, _params(c_puct=0.01)) == 0
    assert K.puct_select(*trees[:4], 0, 0, True, _params(puct="alphazero")) == 1


def _opening(size=9, moves=("E5", "C3", "G7")):
    game = GameState(size, komi=7.5)
    for v in moves:
        game.play(loc_of_vertex(v, size))
    return game


def test_no_virtual_loss_left_and_visits_add_up():
    game = _opening()
    search = BatchedSearch(SearchConfig(num_simulations=300, leaves_per_tree=8), 9, 3, RandomEvaluator(9, "agz", 1))
    for g in range(3):
        search.set_root(g, game)
    results = search.search()
    node_i = search.trees.node_i
    for g in range(3):
        used = search.trees.counts[g, 0]
        assert np.all(node_i[g, VLOSS, :used] == 0)
        assert results[g].num_simulations == 300
        # the root's visits = its first expansion + the visits of its children
        assert results[g].visit_counts.sum() == 299


def test_batched_trees_equal_trees_searched_alone():
    games = [_opening(moves=m) for m in (("E5",), ("C3", "D4"), ("E5", "E6", "F6"), ())]
    evaluator = RandomEvaluator(9, "agz", 7)
    config = SearchConfig(num_simulations=200, leaves_per_tree=4)
    together = BatchedSearch(config, 9, len(games), evaluator)
    for g, game in enumerate(games):
        together.set_root(g, game)
    batched = together.search()
    for g, game in enumerate(games):
        alone = BatchedSearch(config, 9, 1, evaluator)
        alone.set_root(0, game)
        single = alone.search()[0]
        np.testing.assert_array_equal(batched[g].visit_counts, single.visit_counts)
        np.testing.assert_allclose(batched[g].q, single.q, equal_nan=True)
        assert batched[g].pv == single.pv


def test_one_leaf_per_step_equals_sequential_search():
    """leaves_per_tree=1 is plain sequential MCTS; any batch across trees must not change it."""
    game = _opening(moves=("D4",))
    evaluator = RandomEvaluator(9, "agz", 3)
    config = SearchConfig(num_simulations=120, leaves_per_tree=1)
    a = BatchedSearch(config, 9, 1, evaluator)
    a.set_root(0, game)
    b = BatchedSearch(config, 9, 5, evaluator)
    for g in range(5):
        b.set_root(g, game)
    ra = a.search()[0]
    rb = b.search()
    for r in rb:
        np.testing.assert_array_equal(ra.visit_counts, r.visit_counts)


def test_tree_reuse_keeps_the_subtree():
    game = _opening()
    search = BatchedSearch(SearchConfig(num_simulations=400, leaves_per_tree=4), 9, 1, RandomEvaluator(9, "agz", 5))
    search.set_root(0, game)
    first = search.search()[0]
    action = int(np.argmax(first.visit_counts))
    kept = int(first.visit_counts[action])
    assert search.advance(0, action)
    game.play_action(action)
    search.set_root(0, game, reuse=True)
    before = search.result(0)
    assert before.num_simulations == kept
    after = search.search(num_simulations=100)[0]
    assert after.num_simulations == kept + 100


def test_dirichlet_noise_sums_to_one_and_changes_priors():
    game = _opening()
    config = SearchConfig(num_simulations=50, leaves_per_tree=1)
    plain = BatchedSearch(config, 9, 1, UniformEvaluator(9, "agz"))
    plain.set_root(0, game)
    p0 = plain.search()[0].prior
    noisy = BatchedSearch(config.with_(dirichlet_noise=True), 9, 1, UniformEvaluator(9, "agz"), seed=3)
    noisy.set_root(0, game)
    p1 = noisy.search()[0].prior
    assert p0.sum() == pytest.approx(1.0, abs=1e-5)
    assert p1.sum() == pytest.approx(1.0, abs=1e-5)
    assert np.all((p1 > 0) == (p0 > 0))
    assert np.abs(p1 - p0).max() > 1e-3
    # alpha scales with the board: 0.03 * 361 / 81
    assert config.alpha_for(9) == pytest.approx(0.1337, abs=1e-4)


class MaterialEvaluator:
    """A perfect judge of material on agz planes: value = tanh((own - opponent stones) / 2)."""

    feature_set = "agz"

    def __init__(self, size):
        self.board_size = size

    def evaluate(self, features):
        size = check_features(features, self.board_size)
        own = features[:, 0].reshape(len(features), -1).sum(1).astype(np.float64)
        opp = features[:, 8].reshape(len(features), -1).sum(1).astype(np.float64)
        return (np.zeros((len(features), size * size + 1), np.float32),
                np.tanh((own - opp) / 2.0).astype(np.float32))


@pytest.mark.parametrize("gumbel", [False, True])
def test_search_with_perfect_evaluator_takes_the_big_capture(gumbel):
    # White's D3 D4 have one liberty left, D2; capturing is worth two stones to a material judge,
    # and every other move is worth nothing. Gumbel gets enough simulations to try each move once.
    game = GameState(7, komi=0.5)
    setup = {loc_of_vertex(v, 7): BLACK for v in ("C3", "C4", "D5", "E4", "E3")}
    setup.update({loc_of_vertex(v, 7): WHITE for v in ("D3", "D4")})
    game.setup_stones(setup, to_play=BLACK)
    capture = action_of_loc(loc_of_vertex("D2", 7), 7)
    # PUCT with a uniform prior needs many more simulations than Gumbel to try every move.
    config = SearchConfig(num_simulations=64 if gumbel else 1500, leaves_per_tree=1, gumbel=gumbel, gumbel_m=64)
    search = BatchedSearch(config, 7, 1, MaterialEvaluator(7), seed=1)
    search.set_root(0, game)
    result = search.search()[0]
    chosen = result.gumbel_action if gumbel else int(np.argmax(result.visit_counts))
    assert chosen == capture
    if gumbel:
        assert int(np.argmax(result.policy_target)) == capture
