"""The search trees of G games, in preallocated arrays (numba kernels index them directly).

Nodes hold statistics only, never boards: a simulation copies its root board and replays the
path. Edges (one per legal move of an expanded node) hold the action, the prior and the child
node (-1 until the edge is first visited), so a node costs nothing until the search reaches it.

| array     | dtype   | shape      | meaning                                                      |
|-----------|---------|------------|--------------------------------------------------------------|
| node_i    | int32   | [G, 5, M]  | VISITS, VLOSS (virtual losses in flight), EDGE_START,        |
|           |         |            | EDGE_COUNT, STATE (UNEXPANDED, PENDING, EXPANDED, TERMINAL)  |
| node_f    | float64 | [G, 3, M]  | VALUE_SUM and SQUARE_SUM (from the view of the player who    |
|           |         |            | moved into the node), EVAL (the node's own evaluation, from  |
|           |         |            | the view of its player to move)                              |
| edge_i    | int32   | [G, 2, E]  | ACTION, CHILD (node index or -1)                             |
| edge_p    | float32 | [G, E]     | prior probability                                            |
| counts    | int64   | [G, 4]     | NUM_NODES, NUM_EDGES, ROOT (node index), FULL (out of room)  |

Values are in [-1, 1]. Every path starts at ROOT; with tree reuse, ROOT moves down the tree and
the nodes above it are garbage until `compact` copies the live subtree to the front.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

VISITS, VLOSS, EDGE_START, EDGE_COUNT, STATE = range(5)
VALUE_SUM, SQUARE_SUM, EVAL = range(3)
ACTION, CHILD = range(2)
NUM_NODES, NUM_EDGES, ROOT, FULL = range(4)
UNEXPANDED, PENDING, EXPANDED, TERMINAL = range(4)


class Trees(NamedTuple):
    node_i: np.ndarray
    node_f: np.ndarray
    edge_i: np.ndarray
    edge_p: np.ndarray
    counts: np.ndarray

    @property
    def num_trees(self) -> int:
        return self.node_i.shape[0]


def new_trees(num_trees: int, max_nodes: int, max_edges: int) -> Trees:
    trees = Trees(
        node_i=np.zeros((num_trees, 5, max_nodes), np.int32),
        node_f=np.zeros((num_trees, 3, max_nodes), np.float64),
        edge_i=np.full((num_trees, 2, max_edges), -1, np.int32),
        edge_p=np.zeros((num_trees, max_edges), np.float32),
        counts=np.zeros((num_trees, 4), np.int64),
    )
    for g in range(num_trees):
        reset_tree(trees.node_i, trees.node_f, trees.counts, g)
    return trees


@nb.njit(cache=True)
def reset_tree(node_i, node_f, counts, g):
    """An empty tree: one unexpanded root."""
    node_i[g, :, 0] = 0
    node_f[g, :, 0] = 0.0
    node_i[g, STATE, 0] = UNEXPANDED
    counts[g, NUM_NODES] = 1
    counts[g, NUM_EDGES] = 0
    counts[g, ROOT] = 0
    counts[g, FULL] = 0


@nb.njit(cache=True)
def new_node(node_i, node_f, counts, g):
    """Allocate an unexpanded node; -1 when the tree is full."""
    n = counts[g, NUM_NODES]
    if n >= node_i.shape[2]:
        counts[g, FULL] = 1
        return -1
    counts[g, NUM_NODES] = n + 1
    node_i[g, :, n] = 0
    node_f[g, :, n] = 0.0
    return n


@nb.njit(cache=True)
def advance_root(node_i, node_f, edge_i, counts, g, action):
    """Tree reuse: make the child reached by `action` the root. Returns True when the subtree
    was kept, False when the tree had to start afresh."""
    root = counts[g, ROOT]
    if node_i[g, STATE, root] == EXPANDED:
        start = node_i[g, EDGE_START, root]
        for e in range(start, start + node_i[g, EDGE_COUNT, root]):
            if edge_i[g, ACTION, e] == action:
                child = edge_i[g, CHILD, e]
                if child >= 0 and node_i[g, STATE, child] != PENDING:
                    counts[g, ROOT] = child
                    return True
                break
    reset_tree(node_i, node_f, counts, g)
    return False


@nb.njit(cache=True)
def compact(node_i, node_f, edge_i, edge_p, counts, g, scratch_nodes, scratch_map):
    """Copy the live subtree under ROOT to the front of the arrays (breadth first), so a reused
    tree regains the room its discarded ancestors held. `scratch_nodes` and `scratch_map` are
    int64 arrays of length M. Must not run while leaves are pending."""
    root = counts[g, ROOT]
    scratch_map[:] = -1
    # BFS order of live nodes.
    scratch_nodes[0] = root
    scratch_map[root] = 0
    head = 0
    tail = 1
    while head < tail:
        node = scratch_nodes[head]
        head += 1
        if node_i[g, STATE, node] == EXPANDED:
            start = node_i[g, EDGE_START, node]
            for e in range(start, start + node_i[g, EDGE_COUNT, node]):
                child = edge_i[g, CHILD, e]
                if child >= 0:
                    scratch_map[child] = tail
                    scratch_nodes[tail] = child
                    tail += 1
    # Old and new slots overlap, so everything goes through buffers.
    ni = node_i[g, :, :tail].copy()
    nf = node_f[g, :, :tail].copy()
    for new in range(tail):
        old = scratch_nodes[new]
        ni[:, new] = node_i[g, :, old]
        nf[:, new] = node_f[g, :, old]
    # Edges: copy each expanded node's block contiguously.
    ei = edge_i[g, :, :].copy()
    ep = edge_p[g, :].copy()
    num_edges = 0
    for new in range(tail):
        if ni[STATE, new] == EXPANDED:
            start = ni[EDGE_START, new]
            count = ni[EDGE_COUNT, new]
            for k in range(count):
                old_e = start + k
                child = edge_i[g, CHILD, old_e]
                ei[ACTION, num_edges + k] = edge_i[g, ACTION, old_e]
                ei[CHILD, num_edges + k] = scratch_map[child] if child >= 0 else -1
                ep[num_edges + k] = edge_p[g, old_e]
            ni[EDGE_START, new] = num_edges
            num_edges += count
    node_i[g, :, :tail] = ni
    node_f[g, :, :tail] = nf
    edge_i[g, :, :num_edges] = ei[:, :num_edges]
    edge_p[g, :num_edges] = ep[:num_edges]
    counts[g, NUM_NODES] = tail
    counts[g, NUM_EDGES] = num_edges
    counts[g, ROOT] = 0
    counts[g, FULL] = 0
    return tail
