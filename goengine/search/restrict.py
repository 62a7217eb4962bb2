"""Restricting the moves the search may consider at its root (analysis `avoid` / `allow`, "do
not pass" during cleanup, self-play that passes only at the end), by editing the root of a
search tree (`BatchedSearch.search(..., allowed=...)` does this for its callers).

The root's edge block is rearranged in place: the
allowed edges move to the front of the block, EDGE_COUNT shrinks to their number, and their
priors are renormalised. Statistics that went through a dropped edge are taken off the root,
so the root value describes the allowed moves only. Dropped children become unreachable and
vanish at the next `compact`. The caller must discard the tree before searching the same
position without the restriction (the dropped moves are gone from it).

`allowed` is bool[N*N+1] over actions (pass last).
"""

from __future__ import annotations

import numpy as np

from .tree import (ACTION, CHILD, EDGE_COUNT, EDGE_START, EXPANDED, ROOT, SQUARE_SUM, STATE, VALUE_SUM,
                   VISITS)


def restrict_root(search, g: int, allowed: np.ndarray) -> int:
    """Keep only the allowed root edges of tree g; returns how many remain, or -1 when the
    root is not expanded yet. When no legal move is allowed, pass is kept so that the
    search always has a move (and every edge when pass is not among them)."""
    t = search.trees
    root = int(t.counts[g, ROOT])
    if t.node_i[g, STATE, root] != EXPANDED:
        return -1
    start = int(t.node_i[g, EDGE_START, root])
    count = int(t.node_i[g, EDGE_COUNT, root])
    edges = np.arange(start, start + count)
    actions = t.edge_i[g, ACTION, edges].astype(np.int64)
    keep = allowed[actions].astype(bool)
    if not keep.any():
        keep = actions == len(allowed) - 1
    if not keep.any():
        # Neither an allowed move nor pass among the root's edges (a root expanded under an
        # earlier restriction): searching every edge beats a root with no move at all.
        return count
    if keep.all():
        return count
    for e in edges[~keep]:
        child = t.edge_i[g, CHILD, e]
        if child >= 0 and t.node_i[g, VISITS, child] > 0:
            # The child's sums are from the root player's view, the root's from the other side.
            t.node_i[g, VISITS, root] -= t.node_i[g, VISITS, child]
            t.node_f[g, VALUE_SUM, root] += t.node_f[g, VALUE_SUM, child]
            t.node_f[g, SQUARE_SUM, root] -= t.node_f[g, SQUARE_SUM, child]
    order = np.concatenate([edges[keep], edges[~keep]])
    t.edge_i[g, :, start:start + count] = t.edge_i[g][:, order]
    t.edge_p[g, start:start + count] = t.edge_p[g][order]
    kept = int(keep.sum())
    total = float(t.edge_p[g, start:start + kept].sum())
    if total > 0:
        t.edge_p[g, start:start + kept] /= total
    else:
        t.edge_p[g, start:start + kept] = 1.0 / kept
    t.node_i[g, EDGE_COUNT, root] = kept
    return kept
