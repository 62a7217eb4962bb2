"""Analysis commands: lz-analyze, kata-analyze (streaming until the next command arrives),
lz-genmove_analyze, kata-genmove_analyze (streaming while choosing a move, ending with
`play <vertex>`), and stop (analysis has already ended when it arrives: it only acknowledges).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Optional

import numpy as np

from ..board import BLACK
from ..coords import action_of_loc
from ..game import GameState
from ..search import SearchResult
from . import args as A
from ..analysis.estimates import Estimate, MoveEstimates, root_estimate
from .analysis import KATA, LZ, AnalyzeRequest, RootLine, kata_line, lz_line, move_infos, parse_analyze_args
from .commands_play import game_to_move, generate_move, move_vertex
from .engine import Engine, Stream
from .protocol import GtpError
from .thinking import Searcher


class _Reporter:
    """Formats analysis updates for one position: the search's statistics plus the score and
    ownership estimates (goengine.analysis.estimates), computed once per position and move."""

    def __init__(self, engine: Engine, kind: str, game: GameState, request: AnalyzeRequest,
                 allowed: Optional[np.ndarray]):
        self.engine = engine
        self.kind = kind
        self.game = game
        self.request = request
        self.allowed = allowed
        self.searcher: Searcher = engine.searcher()
        evaluator = engine.evaluator
        self.root: Optional[Estimate] = None
        if kind == KATA or request.ownership:
            self.root = root_estimate(game, evaluator, engine.options.ownership_playouts, engine.options.seed)
        self.moves = MoveEstimates(game, evaluator, self.root) if self.root is not None and kind == KATA else None
        self.ownership: Optional[np.ndarray] = None
        self.ownership_stdev: Optional[np.ndarray] = None
        if request.ownership and self.root is not None:
            self.ownership = self._to_move_view(self.root.ownership)
            if request.ownership_stdev:
                # Each point's final owner is +-1 with mean o: its standard deviation.
                self.ownership_stdev = np.sqrt(np.clip(1.0 - self.ownership ** 2, 0.0, 1.0))

    def _to_move_view(self, ownership: Optional[np.ndarray]) -> Optional[np.ndarray]:
        if ownership is None:
            return None
        return ownership if self.game.to_play == BLACK else -ownership

    def line(self, result: SearchResult, first_action: Optional[int] = None) -> str:
        # With rollouts a move with one visit has one random playout behind it: noise, not
        # worth a circle on the GUI's board.
        min_visits = 1 if self.engine.evaluator is not None else 2
        infos = move_infos(result, self.searcher.child_pv, first_action, self.request.min_moves,
                           self.request.max_moves, self.allowed, min_visits)
        if self.kind == LZ:
            return lz_line(infos, self.game.size, self.ownership)
        estimates = self.moves.get([m.action for m in infos])
        infos = [replace(m, score_lead=estimates[m.action].score_lead, score_stdev=estimates[m.action].score_stdev,
                         pv_visits=self.searcher.pv_visits(m.pv) if self.request.pv_visits else None,
                         ownership=(self._to_move_view(estimates[m.action].ownership)
                                    if self.request.moves_ownership else None))
                 for m in infos]
        root = None
        if self.request.root_info:
            root = RootLine(result.num_simulations, result.winrate, self.root.score_lead, self.root.score_stdev)
        return kata_line(infos, self.game.size, self.ownership, root, self.ownership_stdev)


def _effective(allowed: Optional[np.ndarray], game: GameState) -> Optional[np.ndarray]:
    """The allowed moves that are legal; pass alone when none is."""
    if allowed is None:
        return None
    allowed = allowed & game.legal_mask()
    if not allowed[:-1].any():
        allowed[-1] = True
    return allowed


def _analyze(kind: str):
    def handler(engine: Engine, args: tuple) -> Stream:
        request = parse_analyze_args(args, kind, engine.game.size)
        searcher = engine.searcher()

        def run(emit) -> None:
            color = engine.game.to_play if request.color is None else request.color
            game = game_to_move(engine, color, commit=False)
            allowed = _effective(request.root_mask(game.to_play, game.size), game)
            if not searcher.can_search(game):
                while not engine.input_pending():
                    time.sleep(0.01)
                return
            reporter = _Reporter(engine, kind, game, request, allowed)
            result = searcher.search(game, allowed=allowed, should_stop=engine.input_pending,
                                     on_progress=lambda r: emit(reporter.line(r)), progress_every=request.interval)
            # The tree is full: keep reporting the same result until the controller speaks.
            last = time.monotonic()
            while not engine.input_pending():
                time.sleep(0.01)
                if request.interval is not None and time.monotonic() - last >= request.interval:
                    emit(reporter.line(result))
                    last = time.monotonic()
            if request.interval is not None:
                emit(reporter.line(result))
            if color != engine.game.to_play:
                searcher.reset()  # the tree belongs to a side that is not to move

        return Stream(run)

    return handler


def _genmove_analyze(kind: str):
    def handler(engine: Engine, args: tuple) -> Stream:
        if not args:
            raise GtpError(f"{kind}-genmove_analyze needs a color")
        color = A.colour(args[0])
        request = parse_analyze_args(args[1:], kind, engine.game.size)
        engine.searcher()

        def run(emit) -> None:
            before = game_to_move(engine, color, commit=False)
            allowed = _effective(request.root_mask(color, before.size), before)
            reporter = _Reporter(engine, kind, before, request, allowed)
            progress = (lambda r: emit(reporter.line(r))) if request.interval is not None else None
            choice = generate_move(engine, color, allowed=allowed, on_progress=progress,
                                   progress_every=request.interval)
            if choice.result is not None and request.interval is not None:
                first = None if choice.resign else action_of_loc(choice.loc, before.size)
                emit(reporter.line(choice.result, first))
            emit(f"play {move_vertex(choice, before.size)}")

        return Stream(run)

    return handler


def stop(engine: Engine, args: tuple) -> str:
    return ""


COMMANDS = {
    "lz-analyze": _analyze(LZ),
    "kata-analyze": _analyze(KATA),
    "lz-genmove_analyze": _genmove_analyze(LZ),
    "kata-genmove_analyze": _genmove_analyze(KATA),
    "stop": stop,
}
