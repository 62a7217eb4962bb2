"""Analysis for GUIs: the arguments of lz-analyze / kata-analyze and the `info` lines Sabaki and
Lizzie parse.

Arguments: `[color] [interval] [key value ...]` with keys `interval CENTISECONDS`,
`minmoves N`, `maxmoves N`, `avoid COLOR VERTICES UNTILDEPTH`, `allow COLOR VERTICES
UNTILDEPTH` (VERTICES comma-separated), `ownership true|false`, and (kata-analyze) KataGo's
`ownershipStdev`, `movesOwnership`, `pvVisits`, `rootInfo`; `pvEdgeVisits` is accepted and
ignored. Avoid and allow apply at the root only, to the colour named when it is the colour
to move (UNTILDEPTH >= 1).

One update is one line holding every candidate move, best first:
- lz:   `info move D4 visits 120 winrate 5230 prior 1810 lcb 5100 order 0 pv D4 Q16 ...`
  (win rate, prior and lcb are integers, the value times 10000), then ` ownership` and N*N
  values when asked.
- kata: `info move D4 visits 120 utility 0.046 winrate 0.523 scoreMean S scoreStdev D
  scoreLead S prior 0.181 lcb 0.51 utilityLcb 0.02 order 0 pv D4 Q16 ... [pvVisits 120 64 ...]
  [movesOwnership <N*N>]`, then ` rootInfo visits ... winrate ... scoreLead ...`,
  ` ownership <N*N>` and ` ownershipStdev <N*N>` when asked.
Ownership values are in [-1, 1] from the side to move's view, row by row from the top-left.
Win rates and scores are the side to move's; utility = 2 winrate - 1 (no score utility), the
scores as `goengine.analysis.estimates` describes (the score head's, or playouts' without one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from ..coords import action_of_loc, loc_of_action, vertex_of_loc
from ..search import SearchResult
from ..search.choice import lower_confidence_bounds
from . import args as A
from .protocol import GtpError

LZ = "lz"
KATA = "kata"
_IGNORED_KEYS = ("pvedgevisits",)
_KATA_FLAGS = {"ownershipstdev": "ownership_stdev", "movesownership": "moves_ownership", "pvvisits": "pv_visits",
               "rootinfo": "root_info"}
MAX_PV = 24


@dataclass(frozen=True)
class AnalyzeRequest:
    color: Optional[int] = None  # None: the side to move
    interval: Optional[float] = None  # seconds between updates; None: no periodic updates
    min_moves: int = 0
    max_moves: Optional[int] = None
    avoid: tuple[tuple[int, frozenset[int], int], ...] = ()  # (colour, locs, until depth)
    allow: tuple[tuple[int, frozenset[int], int], ...] = ()
    ownership: bool = False
    ownership_stdev: bool = False
    moves_ownership: bool = False
    pv_visits: bool = False
    root_info: bool = False

    def root_mask(self, to_play: int, size: int) -> Optional[np.ndarray]:
        """bool[N*N+1] of the root moves the search may consider, or None for all."""
        allow = [locs for color, locs, depth in self.allow if color == to_play and depth >= 1]
        avoid = [locs for color, locs, depth in self.avoid if color == to_play and depth >= 1]
        if not allow and not avoid:
            return None
        mask = np.ones(size * size + 1, bool)
        if allow:
            mask[:] = False
            for locs in allow:
                for loc in locs:
                    mask[action_of_loc(loc, size)] = True
        for locs in avoid:
            for loc in locs:
                mask[action_of_loc(loc, size)] = False
        return mask


def _looks_like_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _vertex_list(text: str, size: int) -> frozenset[int]:
    locs = set()
    for part in text.split(","):
        if part:
            locs.add(A.vertex(part, size))
    if not locs:
        raise GtpError("avoid/allow needs at least one vertex")
    return frozenset(locs)


def parse_analyze_args(args: Sequence[str], kind: str, size: int) -> AnalyzeRequest:
    """Read `[color] [interval] [key value ...]`; GtpError names the first problem."""
    tokens = list(args)
    fields: dict = {"avoid": [], "allow": []}
    i = 0
    if i < len(tokens) and tokens[i].lower() in ("b", "w", "black", "white"):
        fields["color"] = A.colour(tokens[i])
        i += 1
    if i < len(tokens) and _looks_like_number(tokens[i]):
        fields["interval"] = A.number(tokens[i], "interval")
        i += 1
    while i < len(tokens):
        key = tokens[i].lower()
        if key in ("avoid", "allow"):
            if i + 3 >= len(tokens):
                raise GtpError(f"{key} needs COLOR VERTICES UNTILDEPTH")
            color = A.colour(tokens[i + 1])
            locs = _vertex_list(tokens[i + 2], size)
            depth = A.integer(tokens[i + 3], f"{key} depth")
            if depth < 1:
                raise GtpError(f"{key} depth must be at least 1")
            fields[key].append((color, locs, depth))
            i += 4
            continue
        if i + 1 >= len(tokens):
            raise GtpError(f"analysis option {tokens[i]!r} needs a value")
        value = tokens[i + 1]
        if key == "interval":
            fields["interval"] = A.number(value, "interval")
        elif key == "minmoves":
            fields["min_moves"] = max(0, A.integer(value, "minmoves"))
        elif key == "maxmoves":
            fields["max_moves"] = max(0, A.integer(value, "maxmoves"))
        elif key == "ownership":
            fields["ownership"] = A.boolean(value, "ownership")
        elif key in _KATA_FLAGS and kind == KATA:
            fields[_KATA_FLAGS[key]] = A.boolean(value, key)
        elif key in _IGNORED_KEYS:
            A.boolean(value, key)
        else:
            raise GtpError(f"unknown analysis option {tokens[i]!r}")
        i += 2
    if len(fields["allow"]) > 1:
        raise GtpError("only one allow is supported")
    interval = fields.pop("interval", None)
    seconds = interval / 100.0 if interval is not None and interval > 0 else None
    return AnalyzeRequest(interval=seconds, avoid=tuple(fields.pop("avoid")), allow=tuple(fields.pop("allow")),
                          **fields)


@dataclass(frozen=True)
class MoveInfo:
    """One candidate move, values from the view of the side to move."""
    action: int
    visits: int
    winrate: float  # [0, 1]
    prior: float
    lcb: float  # [0, 1]
    pv: list[int] = field(default_factory=list)  # actions, starting with `action`
    score_lead: Optional[float] = None
    score_stdev: Optional[float] = None
    pv_visits: Optional[list[int]] = None
    ownership: Optional[np.ndarray] = None  # after the move, side to move's view


def move_infos(result: SearchResult, pv_of, first_action: Optional[int] = None, min_moves: int = 0,
               max_moves: Optional[int] = None, allowed: Optional[np.ndarray] = None,
               min_visits: int = 1) -> list[MoveInfo]:
    """Candidates in display order: `first_action` (the move the engine would play) first,
    then by visits; moves with at least `min_visits` visits, at least `min_moves` of them
    (adding less visited ones by prior) and at most `max_moves`. `pv_of(action)` gives the
    principal variation through a root action."""
    visits = result.visit_counts
    candidates = np.flatnonzero(visits >= max(1, min_visits))
    if allowed is not None:
        candidates = candidates[allowed[candidates]]
    order = sorted(candidates, key=lambda a: (-int(visits[a]), -np.nan_to_num(result.q[a], nan=-2.0)))
    if first_action is not None:
        if first_action in order:
            order.remove(first_action)
        order.insert(0, first_action)
    if len(order) < min_moves:
        rest = np.flatnonzero((visits < max(1, min_visits)) & (result.prior > 0))
        if allowed is not None:
            rest = rest[allowed[rest]]
        rest = sorted(rest, key=lambda a: -float(result.prior[a]))
        order += rest[:min_moves - len(order)]
    if max_moves is not None and max_moves > 0:
        order = order[:max_moves]
    root_winrate = (result.root_value + 1.0) / 2.0
    infos = []
    for a in order:
        a = int(a)
        n = int(visits[a])
        if n > 0:
            winrate = (float(result.q[a]) + 1.0) / 2.0
            lcb = (float(lower_confidence_bounds(result.q[a:a + 1], result.q_var[a:a + 1], visits[a:a + 1])[0])
                   + 1.0) / 2.0
            pv = pv_of(a)[:MAX_PV] or [a]
        else:
            winrate, lcb, pv = root_winrate, 0.0, [a]
        infos.append(MoveInfo(a, n, min(1.0, max(0.0, winrate)), float(result.prior[a]),
                              min(1.0, max(0.0, lcb)), pv))
    return infos


def _pv_text(pv: list[int], size: int) -> str:
    return " ".join(vertex_of_loc(loc_of_action(a, size), size) for a in pv)


def _values(values: np.ndarray) -> str:
    return " ".join(f"{v:.4f}" for v in np.clip(values, -1.0, 1.0))


def lz_line(infos: list[MoveInfo], size: int, ownership: Optional[np.ndarray] = None) -> str:
    parts = []
    for order, m in enumerate(infos):
        parts.append(f"info move {vertex_of_loc(loc_of_action(m.action, size), size)} visits {m.visits} "
                     f"winrate {round(m.winrate * 10000)} prior {round(m.prior * 10000)} "
                     f"lcb {round(m.lcb * 10000)} order {order} pv {_pv_text(m.pv, size)}")
    line = " ".join(parts)
    if ownership is not None:
        line += " ownership " + _values(ownership)
    return line


@dataclass(frozen=True)
class RootLine:
    """kata-analyze's `rootInfo`: the position itself, side to move's view."""
    visits: int
    winrate: float
    score_lead: Optional[float] = None
    score_stdev: Optional[float] = None


def _scores(lead: Optional[float], stdev: Optional[float]) -> str:
    if lead is None:
        return ""
    text = f"scoreMean {lead:.4f} "
    if stdev is not None and np.isfinite(stdev):
        text += f"scoreStdev {stdev:.4f} "
    return text + f"scoreLead {lead:.4f} "


def kata_line(infos: list[MoveInfo], size: int, ownership: Optional[np.ndarray] = None,
              root: Optional[RootLine] = None, ownership_stdev: Optional[np.ndarray] = None) -> str:
    """`ownership`, `ownership_stdev`: float[N*N] from the side to move's view, or None."""
    parts = []
    for order, m in enumerate(infos):
        text = (f"info move {vertex_of_loc(loc_of_action(m.action, size), size)} visits {m.visits} "
                f"utility {2.0 * m.winrate - 1.0:.6f} winrate {m.winrate:.6f} {_scores(m.score_lead, m.score_stdev)}"
                f"prior {m.prior:.6f} lcb {m.lcb:.6f} utilityLcb {2.0 * m.lcb - 1.0:.6f} order {order} "
                f"pv {_pv_text(m.pv, size)}")
        if m.pv_visits is not None:
            text += " pvVisits " + " ".join(str(v) for v in m.pv_visits)
        if m.ownership is not None:
            text += " movesOwnership " + _values(m.ownership)
        parts.append(text)
    line = " ".join(parts)
    if root is not None:
        line += (f" rootInfo visits {root.visits} utility {2.0 * root.winrate - 1.0:.6f} "
                 f"winrate {root.winrate:.6f} {_scores(root.score_lead, root.score_stdev)}").rstrip()
    if ownership is not None:
        line += " ownership " + _values(ownership)
    if ownership_stdev is not None:
        line += " ownershipStdev " + " ".join(f"{v:.4f}" for v in ownership_stdev)
    return line
