"""The numba half of the batched search: select leaves across G trees, then expand and back up.

One step of the search is `select_leaves` (descend every tree with PUCT and virtual loss, replay
each path on a copy of the root board, score terminal leaves at once, encode the features of
the others into one batch), one network call from Python, and `expand_and_backup`. Readers of
the finished root (statistics, principal variations) are in root_stats.py.

Per-game root state (index g):

| array       | dtype  | shape         | meaning                                                   |
|-------------|--------|---------------|-----------------------------------------------------------|
| root_board  | int64  | [G, F, L]     | the board at the root (see board.py)                      |
| root_hist   | int64  | [G, H, L]     | COLOR rows of the root and its H-1 predecessors            |
| root_moves  | int64  | [G, H]        | locs of the last H moves, most recent first (-1: none)     |
| keys        | int64  | [G, K]        | superko keys of every position so far; the path's own      |
|             |        |               | keys are written after the root's during a simulation      |
| root_info   | int64  | [G, 8]        | see R_* below                                              |
| komi        | float64| [G]           | komi plus White's handicap bonus                           |

Batch slots (index s < G * leaves_per_tree):

| array         | dtype  | shape          | meaning                                               |
|---------------|--------|----------------|-------------------------------------------------------|
| slot_info     | int64  | [S, 9]         | see S_* below                                          |
| slot_path     | int32  | [S, D]         | nodes from the root to the leaf                        |
| slot_legal    | bool   | [S, A]         | legal actions at the leaf (superko included)           |
| slot_board    | int64  | [S, F, L]      | the leaf's board (a simulation replays its path here)  |
| slot_hist     | int64  | [S, H, L]      | the leaf's COLOR rows, most recent first (with features|
|               |        |                | only; [S, 1, 1] otherwise)                             |
| slot_moves    | int64  | [S, H]         | the leaf's last H moves, most recent first (-1: none)  |
| slot_features | uint8  | [S, C, N, N]   | the leaf's input planes                                |
| slot_rollout  | float64| [S]            | rollout outcome from the leaf's player to move         |

Features and rollouts of the leaves are computed afterwards by the kernels of leaves.py, one
kernel per feature set and per kind of rollout (uniformly random, or the rollout policy of
`goengine.rollout` with `rollout_weights`, float64 [NUM_FEATURES]).

The kernels take these arrays in a few tuples, in this order (BatchedSearch builds them):

| tuple   | arrays                                                                  |
|---------|-------------------------------------------------------------------------|
| tree    | node_i, node_f, edge_i, edge_p, counts (tree.py)                         |
| roots   | root_board, root_hist, root_moves, keys, root_info, komi                 |
| scratch | path_hist [G, H, L] and leaf_moves [G, H] (the path's own history),      |
|         | owner [G, L] int8 and stack [G, L] int32 (area scoring)                  |
| budget  | sims_target, sims_started, sims_done [G], root_action_plan [G, 2 + K]    |
| slots   | slot_info, slot_path, slot_legal, slot_board, slot_hist, slot_moves      |
| leaf    | slot_rollout, logits [S, A] float32, values [S] float32 (the evaluation) |
| noise   | root_noise [G, A] float64, noise_weight [G] float64                      |
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..board import COLOR, INFO, SIZE, HASH, play, situation_key
from ..game import legal_actions
from ..rules import KO_SITUATIONAL
from ..scoring import area_score
from .tree import (ACTION, CHILD, EDGE_COUNT, EDGE_START, EVAL, EXPANDED, FULL, NUM_EDGES,
                   PENDING, ROOT, SQUARE_SUM, STATE, TERMINAL, UNEXPANDED, VALUE_SUM, VISITS,
                   VLOSS, new_node)

# root_info columns
R_TO_PLAY, R_PASSES, R_MOVE_NUMBER, R_MAX_MOVES, R_KO_RULE, R_SUICIDE, R_KEYS_LEN, R_HIST_LEN = range(8)
# slot_info columns
S_TREE, S_NODE, S_PATH_LEN, S_TO_PLAY, S_PASSES, S_HIST_LEN, S_MOVES_LEN, S_LAST_MOVE, S_PREV_MOVE = range(9)
SLOT_INFO_COLUMNS = 9
# params (float64 vector) entries
(P_PUCT_ALPHAZERO, P_C_PUCT, P_C_BASE, P_C_INIT, P_FPU, P_FPU_ROOT, P_VLOSS, P_LAMBDA,
 P_SOFTMAX_T, P_FEATURE_CODE, P_LEAVES, P_ROLLOUT_MOVES, P_GUMBEL, P_C_VISIT, P_C_SCALE) = range(15)
NUM_PARAMS = 15


@nb.njit(cache=True, inline="always")
def _terminal_value(board, to_play, komi, owner, stack):
    """Exact outcome by area for the player to move: 1 win, -1 loss, 0 draw."""
    margin = area_score(board, owner, stack) - komi
    if margin == 0:
        return 0.0
    black_wins = margin > 0
    return 1.0 if black_wins == (to_play == 1) else -1.0


@nb.njit(cache=True)
def puct_select(node_i, node_f, edge_i, edge_p, g, node, is_root, params):
    """The edge to follow from an expanded node: argmax Q + U with virtual loss and FPU."""
    start = node_i[g, EDGE_START, node]
    count = node_i[g, EDGE_COUNT, node]
    parent_n = node_i[g, VISITS, node] + node_i[g, VLOSS, node]
    if params[P_PUCT_ALPHAZERO] > 0:
        c = math.log((1.0 + parent_n + params[P_C_BASE]) / params[P_C_BASE]) + params[P_C_INIT]
    else:
        c = params[P_C_PUCT]
    sqrt_n = math.sqrt(max(parent_n, 1))
    vloss = params[P_VLOSS]
    visited_prior = 0.0
    for e in range(start, start + count):
        child = edge_i[g, CHILD, e]
        if child >= 0 and node_i[g, VISITS, child] + node_i[g, VLOSS, child] > 0:
            visited_prior += edge_p[g, e]
    reduction = params[P_FPU_ROOT] if is_root else params[P_FPU]
    # The base of first-play urgency is the node's mean value so far (its own evaluation before
    # its first visit): with rollouts, a single evaluation is a +-1 coin that would send every
    # visit to the first child that happened to win one playout.
    base = node_f[g, EVAL, node]
    if node_i[g, VISITS, node] > 0:
        base = -node_f[g, VALUE_SUM, node] / node_i[g, VISITS, node]
    fpu = base - reduction * math.sqrt(visited_prior)
    best = start
    best_score = -1e300
    for e in range(start, start + count):
        child = edge_i[g, CHILD, e]
        n = 0
        q = fpu
        if child >= 0:
            n = node_i[g, VISITS, child] + node_i[g, VLOSS, child]
            if n > 0:
                q = (node_f[g, VALUE_SUM, child] - vloss * node_i[g, VLOSS, child]) / n
        score = q + c * edge_p[g, e] * sqrt_n / (1.0 + n)
        if score > best_score:
            best_score = score
            best = e
    return best


@nb.njit(cache=True)
def _gumbel_interior_select(node_i, node_f, edge_i, edge_p, g, node, params):
    """Gumbel MuZero's deterministic choice below the root: argmax of the improved policy
    pi'(a) = softmax(log prior + sigma(completed Q)) minus N(a) / (1 + sum N)."""
    start = node_i[g, EDGE_START, node]
    count = node_i[g, EDGE_COUNT, node]
    vloss = params[P_VLOSS]
    total_n = 0.0
    max_n = 0.0
    sum_pq = 0.0
    sum_p = 0.0
    for e in range(start, start + count):
        child = edge_i[g, CHILD, e]
        if child >= 0:
            n = node_i[g, VISITS, child] + node_i[g, VLOSS, child]
            if n > 0:
                q = (node_f[g, VALUE_SUM, child] - vloss * node_i[g, VLOSS, child]) / n
                total_n += n
                max_n = max(max_n, n)
                sum_pq += edge_p[g, e] * q
                sum_p += edge_p[g, e]
    v = node_f[g, EVAL, node]
    # v_mix: the node's value estimate mixed with the prior-weighted Q of visited children.
    v_mix = v
    if sum_p > 0:
        v_mix = (v + total_n * sum_pq / sum_p) / (1.0 + total_n)
    sigma = (params[P_C_VISIT] + max_n) * params[P_C_SCALE]
    # Completed q-values are rescaled by their min and max over the children (as at the root).
    lo = 1e300
    hi = -1e300
    for e in range(start, start + count):
        q = _completed_q(node_i, node_f, edge_i, g, e, v_mix, vloss)
        lo = min(lo, q)
        hi = max(hi, q)
    scale = 1.0 / (hi - lo) if hi - lo > 1e-9 else 0.0
    m = -1e300
    for e in range(start, start + count):
        q = (_completed_q(node_i, node_f, edge_i, g, e, v_mix, vloss) - lo) * scale
        z = math.log(max(edge_p[g, e], 1e-30)) + sigma * q
        if z > m:
            m = z
    norm = 0.0
    for e in range(start, start + count):
        q = (_completed_q(node_i, node_f, edge_i, g, e, v_mix, vloss) - lo) * scale
        norm += math.exp(math.log(max(edge_p[g, e], 1e-30)) + sigma * q - m)
    best = start
    best_score = -1e300
    for e in range(start, start + count):
        q = (_completed_q(node_i, node_f, edge_i, g, e, v_mix, vloss) - lo) * scale
        pi = math.exp(math.log(max(edge_p[g, e], 1e-30)) + sigma * q - m) / norm
        child = edge_i[g, CHILD, e]
        n = 0.0
        if child >= 0:
            n = node_i[g, VISITS, child] + node_i[g, VLOSS, child]
        score = pi - n / (1.0 + total_n)
        if score > best_score:
            best_score = score
            best = e
    return best


@nb.njit(cache=True, inline="always")
def _completed_q(node_i, node_f, edge_i, g, e, v_mix, vloss):
    child = edge_i[g, CHILD, e]
    if child >= 0:
        n = node_i[g, VISITS, child] + node_i[g, VLOSS, child]
        if n > 0:
            return (node_f[g, VALUE_SUM, child] - vloss * node_i[g, VLOSS, child]) / n
    return v_mix


@nb.njit(cache=True)
def _backup(node_i, node_f, g, path, path_len, value, vloss):
    """Add one visit along the path. `value` is from the view of the player to move at the
    leaf; each node's VALUE_SUM is from the view of the player who moved into it."""
    v = -value
    for i in range(path_len - 1, -1, -1):
        node = path[i]
        node_i[g, VISITS, node] += 1
        node_i[g, VLOSS, node] -= vloss
        node_f[g, VALUE_SUM, node] += v
        node_f[g, SQUARE_SUM, node] += v * v
        v = -v


@nb.njit(cache=True)
def _revert_virtual_loss(node_i, g, path, path_len, vloss):
    for i in range(path_len):
        node_i[g, VLOSS, path[i]] -= vloss


@nb.njit(cache=True)
def select_leaves(tree, roots, scratch, budget, slots, params):
    """Select up to `leaves_per_tree` leaves in every tree that still owes simulations.
    Terminal leaves are backed up at once; the others fill batch slots (their features and
    rollouts are leaves.py's work). Returns the number of slots filled. `root_action_plan[g]`
    >= 0 forces the root's next action (Gumbel search)."""
    node_i, node_f, edge_i, edge_p, counts = tree
    root_board, root_hist, root_moves, keys, root_info, komi = roots
    path_hist, leaf_moves, owner, stack = scratch
    sims_target, sims_started, sims_done, root_action_plan = budget
    slot_info, slot_path, slot_legal, slot_board, slot_hist, slot_moves = slots
    num_trees = node_i.shape[0]
    leaves = int(params[P_LEAVES])
    vloss = int(params[P_VLOSS])
    feature_code = int(params[P_FEATURE_CODE])
    gumbel = params[P_GUMBEL] > 0
    hist_h = root_hist.shape[1]
    max_depth = slot_path.shape[1]
    n_slots = 0
    for g in range(num_trees):
        taken = 0
        misses = 0
        while taken < leaves and sims_started[g] < sims_target[g] and counts[g, FULL] == 0:
            if gumbel and root_action_plan[g, 0] == -2:
                break  # sequential halving waits for this phase's results
            s = n_slots
            path = slot_path[s]
            b = slot_board[s]
            b[:] = root_board[g]
            to_play = root_info[g, R_TO_PLAY]
            passes = root_info[g, R_PASSES]
            move_number = root_info[g, R_MOVE_NUMBER]
            keys_len = root_info[g, R_KEYS_LEN]
            situational = root_info[g, R_KO_RULE] == KO_SITUATIONAL
            node = counts[g, ROOT]
            path[0] = node
            node_i[g, VLOSS, node] += vloss
            depth = 0
            while node_i[g, STATE, node] == EXPANDED and depth + 1 < max_depth:
                if depth == 0 and gumbel:
                    e = _planned_edge(node_i, edge_i, g, node, root_action_plan)
                elif gumbel:
                    e = _gumbel_interior_select(node_i, node_f, edge_i, edge_p, g, node, params)
                else:
                    e = puct_select(node_i, node_f, edge_i, edge_p, g, node, depth == 0, params)
                child = edge_i[g, CHILD, e]
                if child < 0:
                    child = new_node(node_i, node_f, counts, g)
                    if child < 0:
                        break
                    node_i[g, STATE, child] = UNEXPANDED
                    edge_i[g, CHILD, e] = child
                action = edge_i[g, ACTION, e]
                n = b[INFO, SIZE]
                loc = 0
                if action < n * n:
                    loc = (action // n + 1) * (n + 2) + action % n + 1
                    passes = 0
                else:
                    passes += 1
                play(b, loc, to_play)
                to_play = 3 - to_play
                move_number += 1
                depth += 1
                keys[g, keys_len] = situation_key(b[INFO, HASH], to_play, situational)
                keys_len += 1
                path_hist[g, depth % hist_h, :] = b[COLOR]
                leaf_moves[g, depth % hist_h] = loc
                node_i[g, VLOSS, child] += vloss
                path[depth] = child
                node = child
            if counts[g, FULL] != 0:
                _revert_virtual_loss(node_i, g, path, depth + 1, vloss)
                break
            state = node_i[g, STATE, node]
            if state == EXPANDED:
                # The path reached the depth cap; the slot arrays are sized so this cannot happen
                # before the move limit ends the game.
                _revert_virtual_loss(node_i, g, path, depth + 1, vloss)
                break
            if state == PENDING:
                # Another leaf of this batch is already waiting on this node.
                _revert_virtual_loss(node_i, g, path, depth + 1, vloss)
                misses += 1
                if misses > leaves:
                    break
                continue
            sims_started[g] += 1
            if gumbel and depth > 0:
                _advance_plan(root_action_plan, g)
            if state == TERMINAL or passes >= 2 or move_number >= root_info[g, R_MAX_MOVES]:
                if state != TERMINAL:
                    node_i[g, STATE, node] = TERMINAL
                    node_f[g, EVAL, node] = _terminal_value(b, to_play, komi[g], owner[g], stack[g])
                _backup(node_i, node_f, g, path, depth + 1, node_f[g, EVAL, node], vloss)
                sims_done[g] += 1
                continue
            node_i[g, STATE, node] = PENDING
            slot_info[s, S_TREE] = g
            slot_info[s, S_NODE] = node
            slot_info[s, S_PATH_LEN] = depth + 1
            slot_info[s, S_TO_PLAY] = to_play
            slot_info[s, S_PASSES] = passes
            legal_actions(b, to_play, root_info[g, R_KO_RULE], root_info[g, R_SUICIDE] != 0,
                          keys[g], keys_len, slot_legal[s])
            slot_info[s, S_LAST_MOVE] = leaf_moves[g, depth % hist_h] if depth >= 1 else root_moves[g, 0]
            slot_info[s, S_PREV_MOVE] = (leaf_moves[g, (depth - 1) % hist_h] if depth >= 2
                                         else root_moves[g, 1 - depth])
            slot_info[s, S_HIST_LEN] = min(hist_h, root_info[g, R_HIST_LEN] + depth)
            slot_info[s, S_MOVES_LEN] = min(hist_h, move_number)
            _leaf_history(root_hist, root_moves, path_hist, leaf_moves, slot_hist[s], slot_moves[s], g, depth,
                          feature_code > 0)
            n_slots += 1
            taken += 1
    return n_slots


@nb.njit(cache=True)
def _leaf_history(root_hist, root_moves, path_hist, leaf_moves, hist, moves, g, depth, with_colours):
    """Write the leaf's move history (and, `with_colours`, its colour history) most recent
    first into `moves` and `hist`: positions on the path come from `path_hist` and
    `leaf_moves[g]` (written at index depth % H), older ones from the root's history."""
    h = root_hist.shape[1]
    for i in range(h):
        d = depth - i
        if d >= 1:
            if with_colours:
                hist[i, :] = path_hist[g, d % h, :]
            moves[i] = leaf_moves[g, d % h]
        else:
            if with_colours:
                hist[i, :] = root_hist[g, -d, :]
            moves[i] = root_moves[g, -d] if -d < h else -1


@nb.njit(cache=True, inline="always")
def _planned_edge(node_i, edge_i, g, node, plan):
    start = node_i[g, EDGE_START, node]
    want = plan[g, plan[g, 1] + 2]
    for e in range(start, start + node_i[g, EDGE_COUNT, node]):
        if edge_i[g, ACTION, e] == want:
            return e
    return start


@nb.njit(cache=True, inline="always")
def _advance_plan(plan, g):
    # plan[g] = [state, cursor, actions...]; state -2 means "wait", cursor walks the actions.
    plan[g, 1] += 1
    if plan[g, 1] >= plan[g, 0]:
        plan[g, 0] = -2


@nb.njit(cache=True)
def expand_and_backup(tree, slots, budget, leaf, noise, n_slots, params):
    """Expand every slot's leaf with the softmax of its logits over the legal moves, mix the
    network value with the rollout outcome, and back the value up the path. Root noise (when
    `noise_weight` > 0 and the leaf is the root) is mixed into the new priors."""
    node_i, node_f, edge_i, edge_p, counts = tree
    slot_info, slot_path, slot_legal = slots[0], slots[1], slots[2]
    sims_done = budget[2]
    slot_rollout, logits, values = leaf
    root_noise, noise_weight = noise
    vloss = int(params[P_VLOSS])
    lam = params[P_LAMBDA]
    temp = params[P_SOFTMAX_T]
    num_actions = slot_legal.shape[1]
    for s in range(n_slots):
        g = slot_info[s, S_TREE]
        node = slot_info[s, S_NODE]
        legal = slot_legal[s]
        count = 0
        for a in range(num_actions):
            if legal[a]:
                count += 1
        start = counts[g, NUM_EDGES]
        if start + count > edge_i.shape[2]:
            counts[g, FULL] = 1
            node_i[g, STATE, node] = UNEXPANDED
            _revert_virtual_loss(node_i, g, slot_path[s], slot_info[s, S_PATH_LEN], vloss)
            continue
        m = -1e300
        for a in range(num_actions):
            if legal[a] and logits[s, a] > m:
                m = logits[s, a]
        total = 0.0
        e = start
        for a in range(num_actions):
            if legal[a]:
                p = math.exp((logits[s, a] - m) / temp)
                edge_i[g, ACTION, e] = a
                edge_i[g, CHILD, e] = -1
                edge_p[g, e] = p
                total += p
                e += 1
        for k in range(start, start + count):
            edge_p[g, k] /= total
        if noise_weight[g] > 0 and node == counts[g, ROOT]:
            _mix_noise(edge_i, edge_p, g, start, count, root_noise[g], noise_weight[g])
            noise_weight[g] = 0.0
        counts[g, NUM_EDGES] = start + count
        node_i[g, EDGE_START, node] = start
        node_i[g, EDGE_COUNT, node] = count
        node_i[g, STATE, node] = EXPANDED
        value = (1.0 - lam) * values[s] + lam * slot_rollout[s]
        node_f[g, EVAL, node] = value
        _backup(node_i, node_f, g, slot_path[s], slot_info[s, S_PATH_LEN], value, vloss)
        sims_done[g] += 1


@nb.njit(cache=True)
def _mix_noise(edge_i, edge_p, g, start, count, noise, weight):
    total = 0.0
    for e in range(start, start + count):
        total += noise[edge_i[g, ACTION, e]]
    if total <= 0:
        return
    for e in range(start, start + count):
        edge_p[g, e] = (1.0 - weight) * edge_p[g, e] + weight * noise[edge_i[g, ACTION, e]] / total


@nb.njit(cache=True)
def apply_root_noise(node_i, edge_i, edge_p, counts, g, noise, weight):
    """Mix noise into an already expanded root's priors (a reused tree). Returns True if done."""
    root = counts[g, ROOT]
    if node_i[g, STATE, root] != EXPANDED:
        return False
    _mix_noise(edge_i, edge_p, g, node_i[g, EDGE_START, root], node_i[g, EDGE_COUNT, root], noise, weight)
    return True
