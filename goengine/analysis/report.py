"""The JSON response for one searched turn, in the fields KataGo's analysis engine writes.

Values are from the view that `reportAnalysisWinratesAs` names (BLACK, WHITE, or SIDETOMOVE).
Per move: `winrate` (mean value of the move's subtree as a probability), `lcb` (the winrate
less 1.96 standard errors of the values backed up through the move), `utility` = 2 winrate - 1
and `utilityLcb` = 2 lcb - 1 (no score utility is added), `scoreLead` = `scoreMean` =
`scoreSelfplay` and `scoreStdev` (see estimates.py), `prior`, `order` (0 the most visited),
`pv` (GTP vertices), `pvVisits` and `ownership` when asked. `rootInfo` holds the same for the
position itself plus `currentPlayer` and `thisHash`; `ownership` (N*N values, row by row from
the top-left) and `policy` (N*N+1 priors, -1 where illegal, pass last) when asked.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..board import BLACK, HASH, INFO
from ..coords import loc_of_action, vertex_of_loc
from ..gtp.analysis import move_infos
from ..search import SearchResult
from .estimates import Estimate, MoveEstimates
from .query import Turn

DIGITS = 6


def _flip(turn: Turn) -> bool:
    to_play = turn.game.to_play
    return (turn.perspective == "BLACK" and to_play != BLACK) or (turn.perspective == "WHITE" and to_play == BLACK)


def _ownership(turn: Turn, ownership: np.ndarray) -> list[float]:
    """Black's view -> the reported view."""
    view = ownership
    if turn.perspective == "WHITE" or (turn.perspective == "SIDETOMOVE" and turn.game.to_play != BLACK):
        view = -ownership
    return [round(float(v), DIGITS) for v in np.clip(view, -1.0, 1.0)]


def _values(turn: Turn, winrate: float, lcb: float, estimate: Estimate) -> dict:
    """The winrate, lcb and scores (side to move's view) in the reported view."""
    flip = _flip(turn)
    reported = 1.0 - winrate if flip else winrate
    reported_lcb = reported - (winrate - lcb)
    lead = -estimate.score_lead if flip else estimate.score_lead
    return {"winrate": round(reported, DIGITS), "lcb": round(reported_lcb, DIGITS),
            "utility": round(2.0 * reported - 1.0, DIGITS), "utilityLcb": round(2.0 * reported_lcb - 1.0, DIGITS),
            "scoreLead": round(lead, DIGITS), "scoreMean": round(lead, DIGITS),
            "scoreSelfplay": round(lead, DIGITS), "scoreStdev": round(estimate.score_stdev, DIGITS)}


def turn_response(turn: Turn, result: SearchResult, pv_of: Callable[[int], list[int]],
                  pv_visits_of: Callable[[list[int]], list[int]], root: Estimate, moves: MoveEstimates,
                  during_search: bool) -> dict:
    size = turn.game.size
    infos = move_infos(result, pv_of, allowed=turn.allowed)
    estimates = moves.get([m.action for m in infos])
    move_list = []
    for order, info in enumerate(infos):
        estimate = estimates[info.action]
        entry = {"move": vertex_of_loc(loc_of_action(info.action, size), size), "visits": info.visits,
                 **_values(turn, info.winrate, info.lcb, estimate), "prior": round(info.prior, DIGITS),
                 "order": order, "pv": [vertex_of_loc(loc_of_action(a, size), size) for a in info.pv]}
        if turn.include_pv_visits:
            entry["pvVisits"] = pv_visits_of(info.pv)
        if turn.include_moves_ownership and estimate.ownership is not None:
            entry["ownership"] = _ownership(turn, estimate.ownership)
        move_list.append(entry)
    root_winrate = result.winrate
    # The spread of the values backed up through the root: each child's own spread plus how far
    # its mean lies from the root's, weighted by visits (a single visit counts as the widest).
    visited = result.visit_counts > 0
    spread = 1.0
    if visited.any():
        n = result.visit_counts[visited].astype(np.float64)
        q = (result.q[visited] + 1.0) / 2.0
        own = np.where(n > 1, np.nan_to_num(result.q_var[visited]) / 4.0, 0.25)
        spread = 4.0 * float(np.sum(n * (own + (q - root_winrate) ** 2)) / n.sum())
    root_lcb = root_winrate - 1.96 * np.sqrt(spread / max(1, result.num_simulations)) / 2.0
    root_info = {**_values(turn, root_winrate, root_lcb, root), "visits": int(result.num_simulations),
                 "currentPlayer": "B" if turn.game.to_play == BLACK else "W",
                 "thisHash": f"{int(turn.game.board[INFO, HASH]) & (2 ** 64 - 1):016X}{turn.game.to_play}"}
    response = {"id": turn.query_id, "isDuringSearch": during_search, "turnNumber": turn.turn_number,
                "moveInfos": move_list, "rootInfo": root_info}
    if turn.include_ownership and root.ownership is not None:
        response["ownership"] = _ownership(turn, root.ownership)
    if turn.include_policy:
        legal = turn.game.legal_mask()
        prior = np.asarray(result.prior, np.float64)
        total = prior[legal].sum()
        policy = np.where(legal, prior / total if total > 0 else 1.0 / max(1, legal.sum()), -1.0)
        response["policy"] = [round(float(p), DIGITS) for p in policy]
    return response


def no_results(turn: Turn) -> dict:
    """The answer for a turn terminated before any search."""
    return {"id": turn.query_id, "isDuringSearch": False, "turnNumber": turn.turn_number, "noResults": True}


def pv_visits_in_tree(node_i: np.ndarray, edge_i: np.ndarray, root: int, pv: list[int]) -> list[int]:
    """Visits of each node along `pv` (actions from the root) in one tree's arrays
    (tree.py's node_i [5, M], edge_i [2, E] of one game)."""
    from ..search.tree import ACTION, CHILD, EDGE_COUNT, EDGE_START, EXPANDED, STATE, VISITS

    out = []
    node = root
    for action in pv:
        child = -1
        if node >= 0 and node_i[STATE, node] == EXPANDED:
            start, count = int(node_i[EDGE_START, node]), int(node_i[EDGE_COUNT, node])
            hits = np.flatnonzero(edge_i[ACTION, start:start + count] == action)
            if len(hits):
                child = int(edge_i[CHILD, start + hits[0]])
        out.append(int(node_i[VISITS, child]) if child >= 0 else 0)
        node = child
    return out
