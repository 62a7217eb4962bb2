"""Move generation: genmove, reg_genmove, kgs-genmove_cleanup. The engine's search player
(goengine.players.SearchPlayer) decides; these commands only run its steps around the
clock-bounded search of thinking.py and play the move:

1. Near the move limit the engine passes (the search cannot look past it).
2. The player's pass rule ("won"): after the opponent passed, it passes when the score with
   dead stones removed (by the ownership estimate) already wins and no chain's status is in
   doubt: that is how games end. During cleanup (kgs-genmove_cleanup) it never passes while
   the opponent still has dead stones on the board.
3. The search, by visits or by the clock under a time control. Past the opening it stops as
   soon as the budget left could not change the move (a forced move costs little), and a
   move whose choice is unclear may think up to 1.5 times its planned time
   (goengine.search.stopping, TimePolicy.most).
4. The player's choice: the most visited move (with a network, the best lower confidence
   bound); in the opening a move drawn with a low temperature from the well-visited ones
   (`opening_temperature`), so that games against a deterministic opponent differ. It resigns
   by its resign rule (the win rate below `resign_threshold` at `resign_consecutive` of its
   moves in a row, not in the first `resign_min_move_fraction` of the board's points), never
   during cleanup.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np

from ..coords import PASS_LOC, vertex_of_loc
from ..game import GameState
from ..players import Decision, SearchPlayer
from ..search import SearchResult
from ..search.stopping import StopRule
from . import args as A
from .engine import Engine


def move_vertex(decision: Decision, size: int) -> str:
    return "resign" if decision.resign else vertex_of_loc(decision.loc, size)


def game_to_move(engine: Engine, color: int, commit: bool) -> GameState:
    """The game with `color` to move: the engine's own when committing (the colour to play is
    changed by a setup event when needed, as GTP allows either colour to move), else a copy."""
    game = engine.game if commit else engine.game.copy()
    if game.to_play != color:
        game.setup_stones({}, to_play=color)
    return game


def _stop_rule(player: SearchPlayer, game: GameState) -> Optional[StopRule]:
    """How the search of a move may stop early or run long: only for moves chosen greedily
    (an opening move drawn with a temperature sees the whole budget's visits)."""
    if player.temperature(game) > 0:
        return None
    return StopRule(use_lcb=player.config.use_lcb, lcb_min_visit_fraction=player.config.lcb_min_visit_fraction)


def generate_move(engine: Engine, color: int, *, commit: bool = True, cleanup: bool = False,
                  allowed: Optional[np.ndarray] = None,
                  on_progress: Optional[Callable[[SearchResult], None]] = None,
                  progress_every: Optional[float] = None) -> Decision:
    """Choose (and with `commit`, play and charge to the clock) a move for `color`."""
    searcher = engine.searcher()
    started = engine.received_at
    game = game_to_move(engine, color, commit)
    player = searcher.player
    if not searcher.can_search(game):
        decision = Decision(PASS_LOC)
    else:
        decision, allowed = player.before_search(0, game, cleanup, allowed)
    if decision is None:
        plan = engine.move_plan(color)
        result = searcher.search(game, visits=plan.visits, deadline=plan.deadline, allowed=allowed,
                                 on_progress=on_progress, progress_every=progress_every,
                                 hard_deadline=plan.hard_deadline, stop_rule=_stop_rule(player, game))
        decision = player.after_search(0, game, result, cleanup)
    if commit:
        if not decision.resign:
            game.play(decision.loc, color)
        engine.clocks[color].charge(engine.time_settings, time.monotonic() - started)
    return decision


def _genmove(commit: bool = True, cleanup: bool = False, usage: str = "genmove COLOR"):
    def handler(engine: Engine, args: tuple) -> str:
        A.expect_count(args, 1, usage=usage)
        return move_vertex(generate_move(engine, A.colour(args[0]), commit=commit, cleanup=cleanup),
                           engine.game.size)
    return handler


COMMANDS = {
    "genmove": _genmove(),
    "reg_genmove": _genmove(commit=False, usage="reg_genmove COLOR"),
    "kgs-genmove_cleanup": _genmove(cleanup=True, usage="kgs-genmove_cleanup COLOR"),
}
