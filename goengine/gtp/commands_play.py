"""Move generation: genmove, reg_genmove, kgs-genmove_cleanup.

How a move is chosen, in order:
1. Near the move limit the engine passes (the search cannot look past it).
2. After the opponent passed, the engine passes when the score with dead stones removed (by
   the ownership estimate) already wins and no chain's status is in doubt: that is how games
   end.
3. Otherwise it searches (by visits, or by the clock under a time control) and plays the most
   visited move (or, with a network, the best lower confidence bound); in the opening, a move
   drawn with a low temperature from the well-visited ones (`opening_temperature`), so that
   games against a deterministic opponent differ. Past the opening the search stops as soon
   as the budget left could not change the move (a forced move costs little), and a move
   whose choice is unclear may think up to 1.5 times its planned time
   (goengine.search.stopping, TimePolicy.most).
4. It resigns when the win rate stayed below the resign threshold for `resign_consecutive`
   of its moves in a row, never in the first `resign_min_move_fraction` of the board's points.
During cleanup (kgs-genmove_cleanup) it never resigns, and never passes while the opponent
still has dead stones on the board.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..board import COLOR
from ..coords import PASS_LOC, loc_of_action, vertex_of_loc
from ..game import GameState
from ..search import SearchResult
from ..search.choice import choose_action, opening_temperature
from ..search.stopping import StopRule
from . import args as A
from .engine import Engine
from ..stone_status import end_of_game_status

RESIGN = -1


@dataclass(frozen=True)
class MoveChoice:
    loc: int  # a loc, PASS_LOC, or RESIGN
    result: Optional[SearchResult] = None

    def vertex(self, size: int) -> str:
        return "resign" if self.loc == RESIGN else vertex_of_loc(self.loc, size)


def game_to_move(engine: Engine, color: int, commit: bool) -> GameState:
    """The game with `color` to move: the engine's own when committing (the colour to play is
    changed by a setup event when needed, as GTP allows either colour to move), else a copy."""
    game = engine.game if commit else engine.game.copy()
    if game.to_play != color:
        game.setup_stones({}, to_play=color)
    return game


def _status(engine: Engine, game: GameState):
    return end_of_game_status(game, engine.evaluator, engine.options.ownership_playouts)


def _opponent_passed(game: GameState, color: int) -> bool:
    return bool(game.moves) and game.moves[-1].loc == PASS_LOC and game.moves[-1].color != color


def _passing_wins(engine: Engine, game: GameState, color: int) -> bool:
    """Whether passing now ends a won game: the score with dead stones removed wins, and the
    status of every chain is clear. An unclear one (a capturing race the playouts call either
    way) is left to the search: under area scoring, playing on costs nothing."""
    status = _status(engine, game)
    if status.unsettled:
        return False
    margin = game.score(dead=status.dead).margin
    return margin > 0 if color == 1 else margin < 0


def _opponent_dead_stones(engine: Engine, game: GameState, color: int) -> bool:
    return any(game.board[COLOR, loc] == 3 - color for loc in _status(engine, game).dead)


# In the opening, moves drawn with a temperature are drawn among those with at least this share
# of the most visited move's visits: variety, never a blunder the search saw through.
OPENING_MIN_VISIT_FRACTION = 0.1


def _choose(engine: Engine, result: SearchResult, allowed: Optional[np.ndarray], game: GameState) -> int:
    size = game.size
    config = engine.searcher().config
    if allowed is not None and result.visit_counts[allowed].sum() == 0:
        legal = np.flatnonzero(allowed & (result.prior > 0))
        action = int(legal[np.argmax(result.prior[legal])]) if len(legal) else size * size
    else:
        temperature = opening_temperature(game.move_number, size, engine.options.opening_temperature)
        action = choose_action(result, temperature, engine.move_rng, config.use_lcb, config.lcb_min_visit_fraction,
                               min_visit_fraction=OPENING_MIN_VISIT_FRACTION)
    return loc_of_action(action, size)


def _stop_rule(engine: Engine, game: GameState, searcher) -> Optional[StopRule]:
    """How the search of a move may stop early or run long: only for moves chosen greedily
    (an opening move drawn with a temperature sees the whole budget's visits)."""
    if opening_temperature(game.move_number, game.size, engine.options.opening_temperature) > 0:
        return None
    config = searcher.config
    return StopRule(use_lcb=config.use_lcb, lcb_min_visit_fraction=config.lcb_min_visit_fraction)


def _should_resign(engine: Engine, game: GameState, color: int, result: SearchResult) -> bool:
    options = engine.options
    if options.resign_threshold <= 0:
        return False
    if result.winrate < options.resign_threshold:
        engine.low_winrates[color] += 1
    else:
        engine.low_winrates[color] = 0
    too_early = game.move_number < options.resign_min_move_fraction * game.size * game.size
    return not too_early and engine.low_winrates[color] >= options.resign_consecutive


def generate_move(engine: Engine, color: int, *, commit: bool = True, cleanup: bool = False,
                  allowed: Optional[np.ndarray] = None,
                  on_progress: Optional[Callable[[SearchResult], None]] = None,
                  progress_every: Optional[float] = None) -> MoveChoice:
    """Choose (and with `commit`, play and charge to the clock) a move for `color`."""
    searcher = engine.searcher()
    started = engine.received_at
    game = game_to_move(engine, color, commit)
    choice = _decide(engine, game, color, cleanup, allowed, on_progress, progress_every, searcher)
    if commit:
        if choice.loc != RESIGN:
            game.play(choice.loc, color)
        engine.clocks[color].charge(engine.time_settings, time.monotonic() - started)
    return choice


def _decide(engine, game, color, cleanup, allowed, on_progress, progress_every, searcher) -> MoveChoice:
    size = game.size
    if not searcher.can_search(game):
        return MoveChoice(PASS_LOC)
    if cleanup:
        if _opponent_dead_stones(engine, game, color):
            no_pass = game.legal_mask(color)
            no_pass[-1] = False
            allowed = no_pass if allowed is None else (allowed & no_pass)
    elif _opponent_passed(game, color) and (allowed is None or allowed[-1]) and _passing_wins(engine, game, color):
        return MoveChoice(PASS_LOC)
    plan = engine.move_plan(color)
    result = searcher.search(game, visits=plan.visits, deadline=plan.deadline, allowed=allowed,
                             on_progress=on_progress, progress_every=progress_every,
                             hard_deadline=plan.hard_deadline, stop_rule=_stop_rule(engine, game, searcher))
    if not cleanup and _should_resign(engine, game, color, result):
        return MoveChoice(RESIGN, result)
    return MoveChoice(_choose(engine, result, allowed, game), result)


def genmove(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="genmove COLOR")
    color = A.colour(args[0])
    return generate_move(engine, color).vertex(engine.game.size)


def reg_genmove(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="reg_genmove COLOR")
    color = A.colour(args[0])
    return generate_move(engine, color, commit=False).vertex(engine.game.size)


def genmove_cleanup(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="kgs-genmove_cleanup COLOR")
    color = A.colour(args[0])
    return generate_move(engine, color, cleanup=True).vertex(engine.game.size)


COMMANDS = {
    "genmove": genmove,
    "reg_genmove": reg_genmove,
    "kgs-genmove_cleanup": genmove_cleanup,
}
