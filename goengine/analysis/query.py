"""Reading one query of KataGo's JSON analysis protocol into the positions to search.

A query is one JSON object on one line. Read here: `id` (string, required), `moves`
([["B","Q4"],["W","D4"],...], GTP vertices or "pass"), `initialStones` (the same form,
placed before the moves), `initialPlayer` ("B"/"W", who moves first when `moves` does not
say), `rules` (a preset name or KataGo's rules object, see `goengine.rules.rules_from_katago`),
`komi`, `boardXSize`/`boardYSize` (square boards only), `analyzeTurns` (turn numbers 0..len(moves);
default the last), `maxVisits`, `includeOwnership`, `includeMovesOwnership`, `includePolicy`,
`includePVVisits`, `avoidMoves`/`allowMoves` (depth 1 only: applied at the root),
`reportDuringSearchEvery` (seconds), `priority`/`priorities`, and in `overrideSettings`:
`maxVisits`, `maxTime` (seconds), `reportAnalysisWinratesAs` (BLACK, WHITE or SIDETOMOVE).
Other fields and settings are accepted with a warning naming them; anything malformed is a
`QueryError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..board import BLACK, WHITE
from ..coords import MAX_SIZE, MIN_SIZE, PASS_LOC, action_of_loc, loc_of_vertex
from ..game import GameState, IllegalMove, move_limit
from ..rules import rules_from_katago

PERSPECTIVES = ("BLACK", "WHITE", "SIDETOMOVE")
KNOWN_FIELDS = {"id", "moves", "initialStones", "initialPlayer", "rules", "komi", "boardXSize", "boardYSize",
                "analyzeTurns", "maxVisits", "includeOwnership", "includeMovesOwnership", "includePolicy",
                "includePVVisits", "avoidMoves", "allowMoves", "reportDuringSearchEvery", "priority",
                "priorities", "overrideSettings"}
# Fields KataGo knows that change nothing here.
IGNORED_FIELDS = {"rootPolicyTemperature", "rootFpuReductionMax", "includeOwnershipStdev", "includeNoResultValue",
                  "analysisPVLen", "whiteHandicapBonus"}
SETTINGS = {"maxVisits", "maxTime", "reportAnalysisWinratesAs"}


class QueryError(Exception):
    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Turn:
    """One position of a query to search."""
    query_id: str
    turn_number: int
    game: GameState
    max_visits: Optional[int]
    max_time: Optional[float]
    allowed: Optional[np.ndarray]  # bool[N*N+1] root moves, or None for all
    priority: int
    report_every: Optional[float]
    perspective: str
    include_ownership: bool
    include_moves_ownership: bool
    include_policy: bool
    include_pv_visits: bool


@dataclass(frozen=True)
class Query:
    id: str
    turns: tuple[Turn, ...]
    warnings: tuple[tuple[str, str], ...]  # (field, message)


def _color(value: Any, field: str) -> int:
    if isinstance(value, str) and value.strip().upper() in ("B", "BLACK"):
        return BLACK
    if isinstance(value, str) and value.strip().upper() in ("W", "WHITE"):
        return WHITE
    raise QueryError(f"expected a player \"B\" or \"W\", got {value!r}", field)


def _loc(value: Any, size: int, field: str) -> int:
    if not isinstance(value, str):
        raise QueryError(f"expected a move such as \"D4\" or \"pass\", got {value!r}", field)
    try:
        return loc_of_vertex(value, size)
    except ValueError as e:
        raise QueryError(f"could not parse move {value!r}: {e}", field) from None


def _pairs(query: dict, field: str, size: int) -> list[tuple[int, int]]:
    raw = query.get(field, [])
    if not isinstance(raw, list):
        raise QueryError("expected a list of [player, move] pairs", field)
    out = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2):
            raise QueryError(f"expected a [player, move] pair, got {item!r}", field)
        out.append((_color(item[0], field), _loc(item[1], size, field)))
    return out


def _number(query: dict, field: str, low: float, integer: bool = False, default: Any = None) -> Any:
    value = query.get(field, default)
    if value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if integer:
        ok = ok and float(value).is_integer()
    if not ok or value < low:
        kind = "an integer" if integer else "a number"
        raise QueryError(f"expected {kind} >= {low:g}, got {value!r}", field)
    return int(value) if integer else float(value)


def _flag(query: dict, field: str) -> bool:
    value = query.get(field, False)
    if not isinstance(value, bool):
        raise QueryError(f"expected true or false, got {value!r}", field)
    return value


def _root_mask(query: dict, size: int, to_play: int) -> Optional[np.ndarray]:
    masks = []
    for field in ("allowMoves", "avoidMoves"):
        raw = query.get(field)
        if raw is None:
            continue
        if not isinstance(raw, list) or (field == "allowMoves" and len(raw) > 1):
            raise QueryError("expected a list of {player, moves, untilDepth}" +
                             (" (one at most)" if field == "allowMoves" else ""), field)
        for entry in raw:
            if not isinstance(entry, dict) or not {"player", "moves", "untilDepth"} <= set(entry):
                raise QueryError("each entry needs player, moves and untilDepth", field)
            player = _color(entry["player"], field)
            depth = entry["untilDepth"]
            if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
                raise QueryError(f"untilDepth must be a positive integer, got {depth!r}", field)
            if not isinstance(entry["moves"], list):
                raise QueryError("moves must be a list", field)
            locs = [_loc(m, size, field) for m in entry["moves"]]
            if player == to_play:
                masks.append((field, {action_of_loc(loc, size) for loc in locs}))
    if not masks:
        return None
    mask = np.ones(size * size + 1, bool)
    for field, actions in masks:
        if field == "allowMoves":
            allowed = np.zeros_like(mask)
            allowed[list(actions)] = True
            mask &= allowed
    for field, actions in masks:
        if field == "avoidMoves":
            mask[list(actions)] = False
    return mask


def parse_query(query: dict, default_visits: int, default_perspective: str = "BLACK",
                max_size: int = MAX_SIZE) -> Query:
    """The turns to search for one analysis query (not an action)."""
    query_id = query["id"]
    warnings = [(f, "unused field") for f in sorted(set(query) - KNOWN_FIELDS - IGNORED_FIELDS)]
    warnings += [(f, "not supported, ignored") for f in sorted(set(query) & IGNORED_FIELDS)]
    x = _number(query, "boardXSize", MIN_SIZE, integer=True, default=19)
    y = _number(query, "boardYSize", MIN_SIZE, integer=True, default=19)
    if x != y:
        raise QueryError(f"only square boards are supported, got {x}x{y}", "boardXSize")
    if x > max_size:
        raise QueryError(f"board size must be at most {max_size}, got {x}", "boardXSize")
    size = x
    if "rules" not in query:
        raise QueryError("rules are required (a preset name such as \"chinese\" or a rules object)", "rules")
    try:
        rules = rules_from_katago(query["rules"])
    except ValueError as e:
        raise QueryError(str(e), "rules") from None
    komi = _number(query, "komi", -1000.0)
    if komi is not None and (komi * 2 != round(komi * 2) or abs(komi) > 150):
        raise QueryError(f"komi must be a multiple of 0.5 within 150, got {komi}", "komi")
    settings = query.get("overrideSettings", {})
    if not isinstance(settings, dict):
        raise QueryError("expected an object of settings", "overrideSettings")
    warnings += [(f"overrideSettings.{k}", "not supported, ignored") for k in sorted(set(settings) - SETTINGS)]
    perspective = str(settings.get("reportAnalysisWinratesAs", default_perspective)).upper()
    if perspective not in PERSPECTIVES:
        raise QueryError(f"reportAnalysisWinratesAs must be one of {', '.join(PERSPECTIVES)}", "overrideSettings")
    max_visits = _number(settings, "maxVisits", 1, integer=True) or _number(query, "maxVisits", 1, integer=True)
    max_time = _number(settings, "maxTime", 0.0)
    report_every = _number(query, "reportDuringSearchEvery", 0.001)

    stones = _pairs(query, "initialStones", size)
    moves = _pairs(query, "moves", size)
    turns_wanted = query.get("analyzeTurns", [len(moves)])
    if not isinstance(turns_wanted, list) or not turns_wanted or not all(
            isinstance(t, int) and not isinstance(t, bool) and 0 <= t <= len(moves) for t in turns_wanted):
        raise QueryError(f"expected a list of turn numbers from 0 to {len(moves)}", "analyzeTurns")
    priorities = query.get("priorities")
    if priorities is not None and (not isinstance(priorities, list) or len(priorities) != len(turns_wanted)
                                   or not all(isinstance(p, int) for p in priorities)):
        raise QueryError("expected one integer priority per analyzed turn", "priorities")
    priority = _number(query, "priority", -2 ** 62, integer=True, default=0)

    game = GameState(size, komi=komi, rules=rules, max_moves=max(move_limit(size, "gtp"), len(moves) + move_limit(size)))
    if stones:
        placed = {}
        for color, loc in stones:
            if loc == PASS_LOC:
                raise QueryError("an initial stone cannot be a pass", "initialStones")
            placed[loc] = color
        first = _color(query["initialPlayer"], "initialPlayer") if "initialPlayer" in query else None
        game.setup_stones(placed, to_play=first if first is not None else (moves[0][0] if moves else BLACK))
        if all(c == BLACK for c in placed.values()) and len(placed) >= 2:
            game.handicap = len(placed)
    elif "initialPlayer" in query:
        game.to_play = _color(query["initialPlayer"], "initialPlayer")
    flags = {name: _flag(query, field) for name, field in (
        ("include_ownership", "includeOwnership"), ("include_moves_ownership", "includeMovesOwnership"),
        ("include_policy", "includePolicy"), ("include_pv_visits", "includePVVisits"))}
    wanted = {t: i for i, t in enumerate(turns_wanted)}
    turns = []
    for number in range(len(moves) + 1):
        if number in wanted:
            turns.append(Turn(query_id, number, game.copy(), max_visits or default_visits, max_time,
                              _root_mask(query, size, game.to_play),
                              priorities[wanted[number]] if priorities is not None else priority,
                              report_every, perspective, **flags))
        if number < len(moves):
            color, loc = moves[number]
            try:
                game.play(loc, color)
            except IllegalMove as e:
                raise QueryError(f"Illegal move {number}: {e}", "moves") from None
    return Query(query_id, tuple(turns), tuple(warnings))
