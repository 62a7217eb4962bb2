"""Numba readers of a searched tree's root: per-action statistics (visits, Q, prior, variance for
LCB) and principal variations, for move choice, analysis lines and logs. Array layouts are those
of kernels.py and tree.py."""

from __future__ import annotations

import numba as nb
import numpy as np

from .tree import (ACTION, CHILD, EDGE_COUNT, EDGE_START, EVAL, EXPANDED, ROOT, SQUARE_SUM, STATE,
                   VALUE_SUM, VISITS)


@nb.njit(cache=True)
def root_statistics(node_i, node_f, edge_i, edge_p, counts, g, visits, q, prior, q_var):
    """Per action at the root: visits, mean value Q (from the root player's view; NaN when
    unvisited), prior, and the variance of the backed-up values (for LCB). Returns the root's
    mean value from its player to move's view."""
    visits[:] = 0
    q[:] = np.nan
    prior[:] = 0.0
    q_var[:] = np.nan
    root = counts[g, ROOT]
    if node_i[g, STATE, root] == EXPANDED:
        start = node_i[g, EDGE_START, root]
        for e in range(start, start + node_i[g, EDGE_COUNT, root]):
            a = edge_i[g, ACTION, e]
            prior[a] = edge_p[g, e]
            child = edge_i[g, CHILD, e]
            if child >= 0 and node_i[g, VISITS, child] > 0:
                n = node_i[g, VISITS, child]
                visits[a] = n
                q[a] = node_f[g, VALUE_SUM, child] / n
                q_var[a] = max(node_f[g, SQUARE_SUM, child] / n - q[a] * q[a], 0.0)
    n = node_i[g, VISITS, root]
    if n == 0:
        return node_f[g, EVAL, root]
    return -node_f[g, VALUE_SUM, root] / n


@nb.njit(cache=True)
def _most_visited_edge(node_i, edge_i, g, node, min_visits):
    """The edge of an expanded node whose child has the most visits; -1 when none has
    `min_visits`."""
    start = node_i[g, EDGE_START, node]
    best = -1
    best_n = min_visits - 1
    for e in range(start, start + node_i[g, EDGE_COUNT, node]):
        child = edge_i[g, CHILD, e]
        if child >= 0 and node_i[g, VISITS, child] > best_n:
            best_n = node_i[g, VISITS, child]
            best = e
    return best


@nb.njit(cache=True)
def _follow_most_visited(node_i, edge_i, g, node, out, length, min_visits):
    """Append to out[length:] the actions of the most-visited path below `node`, while the next
    node has `min_visits`."""
    while node >= 0 and length < out.shape[0] and node_i[g, STATE, node] == EXPANDED:
        best = _most_visited_edge(node_i, edge_i, g, node, min_visits)
        if best < 0:
            break
        out[length] = edge_i[g, ACTION, best]
        length += 1
        node = edge_i[g, CHILD, best]
    return length


@nb.njit(cache=True)
def principal_variation(node_i, edge_i, counts, g, out):
    """Actions along the most-visited path from the root; returns its length."""
    return _follow_most_visited(node_i, edge_i, g, counts[g, ROOT], out, 0, 1)


@nb.njit(cache=True)
def child_pv(node_i, edge_i, counts, g, action, out, min_visits):
    """The principal variation starting with `action` at the root (for analysis lines), through
    nodes with at least `min_visits` visits."""
    root = counts[g, ROOT]
    out[0] = action
    if node_i[g, STATE, root] != EXPANDED:
        return 1
    start = node_i[g, EDGE_START, root]
    node = -1
    for e in range(start, start + node_i[g, EDGE_COUNT, root]):
        if edge_i[g, ACTION, e] == action:
            node = edge_i[g, CHILD, e]
    return _follow_most_visited(node_i, edge_i, g, node, out, 1, min_visits)
