"""The GTP engine: its state (the game, the search, the clocks) and the dispatch of commands
to handler functions.

A handler is `handler(engine, args) -> str | Stream`: `args` the command's arguments (a tuple
of strings). It returns the success text, raises `GtpError` to answer `? message` (having
changed nothing), or returns a `Stream` whose `run(emit)` writes lines while it works
(analysis). Handlers live in the `commands_*.py` modules, each exporting a `COMMANDS` table.

Nothing a command does can crash the engine or leave its board out of step with the
controller: an unexpected exception is logged (with its traceback) to stderr, answered with
`?`, and the game is restored to the state before the command.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Union

from ..board import BLACK, WHITE
from ..game import GameState, move_limit
from ..rules import Rules, get_rules
from .model_choice import Networks, parse_model
from .protocol import Command, GtpError, failure, parse_command, stream_header, success
from .timecontrol import Clock, TimePolicy, TimeSettings

log = logging.getLogger("goengine.gtp")

NAME = "goengine"
# GUIs read this as `major.minor`: Lizzie refuses engines whose minor number is below 15
# unless their name starts with "KataGo", so the GTP version is 0.17 whatever the package says.
VERSION = "0.17"


@dataclass(frozen=True)
class EngineOptions:
    """Everything the command line sets. `visits` None: the default for the evaluator kind;
    `komi` None: the rules' default; `resign_threshold` a win rate (<= 0: never resign).
    `model`: the forms of `model_choice.py` (None: the rollout search; "bundled": the bundled
    network for each board size, what `goengine gtp` plays without --model).
    `value_model`, `rollout_model` and `rollout_lambda`: AlphaGo's search (goengine.alphago_player)."""
    model: Optional[str] = None
    value_model: Optional[str] = None
    rollout_model: Optional[str] = None
    rollout_lambda: float = 0.0
    visits: Optional[int] = None
    time_per_move: Optional[float] = None
    rules: str = "chinese"
    komi: Optional[float] = None
    size: int = 19
    resign_threshold: float = 0.05
    threads: Optional[int] = None
    backend: str = "auto"  # runtime of the network: goengine.nn.backends
    precision: Optional[str] = None  # None: the runtime's exact default (fp32 on a CPU); "auto", "bf16"
    any_size: bool = False  # play a network on board sizes it was not trained on
    seed: int = 0
    # The opening's move temperature (`search.choice.opening_temperature`; 0: always the best).
    opening_temperature: float = 0.5
    ownership_playouts: int = 400
    tree_edges: int = 8_000_000  # room of the search tree (12 bytes an edge)
    resign_consecutive: int = 2
    resign_min_move_fraction: float = 0.5  # of the board's points: no resignation before
    time_policy: TimePolicy = field(default_factory=TimePolicy)


@dataclass(frozen=True)
class MovePlan:
    """A move's budget: a visit limit (None: none), the planned deadline and the latest an
    unclear move may think (monotonic seconds; None: no time limit)."""
    visits: Optional[int]
    deadline: Optional[float]
    hard_deadline: Optional[float]


@dataclass(frozen=True)
class Stream:
    """A reply written while the command works: `run(emit)` calls emit(line) for each line."""
    run: Callable[[Callable[[str], None]], None]


Handler = Callable[["Engine", tuple], Union[str, Stream]]


def _load_evaluator(options: EngineOptions):
    if options.value_model is not None:
        from ..alphago_player import load_alphago_evaluator

        return load_alphago_evaluator(options.model, options.value_model, threads=options.threads,
                                      backend=options.backend, precision=options.precision, log=log.info)
    from ..nn import load_evaluator  # torch only when a network is asked for

    # each leaf in a random orientation, as match plays (selfplay.players_spec says why)
    return load_evaluator(options.model, any_size=True, threads=options.threads, symmetry="random",
                          seed=options.seed,
                          backend=options.backend, precision=options.precision, log=log.info)


def trained_sizes(evaluator) -> Optional[tuple[int, ...]]:
    """The board sizes a network was trained on (None: unknown, or no network). Of AlphaGo's
    pair, the policy network's."""
    inner = getattr(evaluator, "policy_evaluator", evaluator)
    sizes = getattr(getattr(inner, "config", None), "board_sizes", None)
    return tuple(sizes) if sizes else None


def size_problem(evaluator, size: int, any_size: bool) -> Optional[str]:
    """Why a network should not play on `size`, or None. Every network here is fully
    convolutional, so any size runs; one trained on other sizes plays it badly, which is
    refused unless asked for (as `goengine match` refuses it)."""
    sizes = trained_sizes(evaluator)
    if any_size or sizes is None or size in sizes:
        return None
    trained = ", ".join(f"{n}x{n}" for n in sizes)
    return (f"the network was trained on {trained}, not {size}x{size} "
            f"(start with --any-size to play it on other sizes)")


class Engine:
    """One GTP session's state. `input_pending()` tells streaming commands that the controller
    sent more input (the server sets it; in-process callers may leave the default)."""

    def __init__(self, options: EngineOptions = EngineOptions(),
                 evaluator_loader: Callable[[EngineOptions], object] = _load_evaluator):
        self.options = options
        self.rules: Rules = get_rules(options.rules)
        self.komi_set: Optional[float] = options.komi
        self.size = options.size
        self.game = self._new_game()
        self.time_settings = TimeSettings()
        self.clocks = {BLACK: Clock(), WHITE: Clock()}
        # The loader reads the options of the moment (the runtime flags), the stem replacing
        # `model`: a bundled name or the bundled default resolves to a checkpoint per size.
        self.networks = Networks(parse_model(options.model),
                                 lambda stem: evaluator_loader(replace(self.options, model=stem)))
        self.quit_requested = False
        self.input_pending: Callable[[], bool] = lambda: True
        self.received_at: float = time.monotonic()
        self._evaluator_loader = evaluator_loader
        self._searcher = None  # a thinking.Searcher, built on first use
        self._warmup_thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._startup_error: Optional[str] = None
        self._model_loaded = False
        self.handlers: dict[str, Handler] = {}
        from . import (commands_analysis, commands_core, commands_kata, commands_play, commands_records,
                       commands_rules, commands_scoring, commands_time)
        for module in (commands_core, commands_play, commands_records, commands_scoring, commands_time,
                       commands_rules, commands_analysis, commands_kata):
            self.handlers.update(module.COMMANDS)

    # --- the game ----------------------------------------------------------------------------

    @property
    def komi(self) -> float:
        return self.rules.default_komi if self.komi_set is None else self.komi_set

    def max_moves(self, size: int) -> int:
        return move_limit(size, "gtp")

    def _new_game(self) -> GameState:
        return GameState(self.size, komi=self.komi, rules=self.rules, max_moves=self.max_moves(self.size))

    def clear_board(self) -> None:
        self.game = self._new_game()
        self.clocks = {c: Clock.start(self.time_settings) for c in (BLACK, WHITE)}
        if self._searcher is not None:
            self._searcher.new_game()

    def update_options(self, **changes) -> None:
        """Change search settings during a session (kata-set-param, lz-setoption): the search
        is rebuilt for them on its next use."""
        self.options = replace(self.options, **changes)
        self._searcher = None

    def forget_search(self) -> None:
        """Discard the search tree (its values no longer fit the game: a new komi)."""
        if self._searcher is not None:
            self._searcher.reset()

    def set_game(self, game: GameState) -> None:
        """Adopt a game built elsewhere (loadsgf, a change of rules)."""
        self.size = game.size
        self.game = game
        self.game.max_moves = self.max_moves(game.size)
        if self._searcher is not None:
            self._searcher.new_game()

    # --- the search --------------------------------------------------------------------------

    @property
    def evaluator(self):
        """The network that plays the board size in use (None: the rollout search, or not
        loaded yet)."""
        return self.networks.loaded_for(self.size)

    def load_model(self) -> None:
        """Load and check the network for the board size in use now (the command line does
        this before answering anything, so a broken model fails the start, not the first
        game). Raises the loader's error, or ValueError when a network named outright was not
        trained for the board size."""
        if self._model_loaded or self.networks.choice.kind == "rollout":
            return
        started = time.monotonic()
        evaluator = self.networks.for_size(self.size)
        if self.networks.choice.named:
            problem = size_problem(evaluator, self.size, self.options.any_size)
            if problem is not None:
                raise ValueError(problem)
        self._model_loaded = True
        if evaluator is not None:
            log.info("loaded %s in %.1f s", self.networks.stem_for(self.size), time.monotonic() - started)

    def size_problem(self, size: int) -> Optional[str]:
        """Why the engine cannot play `size`, or None. The bundled default loads the network of
        that size here (once), so that the command changing the size can fail cleanly."""
        if self.networks.choice.kind == "auto":
            try:
                self.networks.for_size(size)
            except Exception as e:
                log.error("loading the bundled network for %dx%d failed:\n%s", size, size, traceback.format_exc())
                return f"the bundled network for {size}x{size} failed to load: {type(e).__name__}: {e}"
            return None
        return size_problem(self.evaluator, size, self.options.any_size)

    def start_warmup(self) -> None:
        """Load the network (if any) and compile or load the numba kernels in the background,
        so that the first genmove does not wait and `name` is answered at once."""
        if self._warmup_thread is None:
            self._warmup_thread = threading.Thread(target=self._warm_up, name="gtp-warmup", daemon=True)
            self._warmup_thread.start()

    def _warm_up(self) -> None:
        try:
            from ..numba_cache import kernels_cached
            from .thinking import SearchSettings, Searcher
            self.load_model()
            started = time.monotonic()
            if self.evaluator is not None:
                cached = kernels_cached("kernels.select_leaves", "kernels.expand_and_backup")
            elif self.options.rollout_model is not None:
                cached = kernels_cached("batched._search_with_policy_rollouts")
            else:
                cached = kernels_cached("batched._search_with_random_rollouts")
            if not cached:
                log.info("first start with this version: compiling the search kernels once "
                         "(20-40 s on two cores); later starts load them from the cache")
            game = GameState(5)
            Searcher(5, self.evaluator, SearchSettings(visits=16, rollout_model=self.options.rollout_model,
                                                       rollout_lambda=self.options.rollout_lambda)
                     ).search(game, visits=16)
            self._build_searcher(self.size)  # its trees take a moment to allocate
            log.info("search ready in %.1f s (kernels %s)", time.monotonic() - started,
                     "loaded from the cache" if cached else "compiled and cached")
        except Exception as e:  # reported to every command that needs the search
            self._startup_error = f"{type(e).__name__}: {e}"
            log.error("start-up failed:\n%s", traceback.format_exc())
        finally:
            self._ready.set()
        if self._startup_error is None:
            # The end-of-game kernels (dead stones) are needed minutes later: not before the
            # first move.
            try:
                from ..ownership import rollout_ownership
                from ..stone_status import classify_stones
                game = GameState(5)
                classify_stones(game, rollout_ownership(game, 4))
                self._warm_up_bundled_kernels()
            except Exception:
                log.error("preparing the scoring kernels failed:\n%s", traceback.format_exc())

    def _warm_up_bundled_kernels(self) -> None:
        """With the bundled default on a size that no network plays, a later `boardsize` may
        switch to one: prepare the network search's kernels for its features now (with a
        stand-in evaluator, no weights loaded), not in that game's first genmove."""
        if self.networks.choice.kind != "auto" or self.evaluator is not None:
            return
        from ..evaluator import RandomEvaluator
        from ..networks import bundled_networks
        from .thinking import SearchSettings, Searcher

        for feature_set in sorted({n.feature_set for n in bundled_networks(self.networks.folder).values()}):
            Searcher(5, RandomEvaluator(None, feature_set), SearchSettings(visits=16, tree_edges=50_000)
                     ).search(GameState(5), visits=16)

    def wait_ready(self) -> None:
        if self._warmup_thread is None:
            self._warmup_thread = threading.current_thread()
            self._warm_up()
        self._ready.wait()
        if self._startup_error is not None:
            raise GtpError(f"engine failed to start: {self._startup_error}")

    def searcher(self):
        """The search (a thinking.Searcher) for the current board size, built on first use."""
        self.wait_ready()
        return self._build_searcher(self.game.size)

    def _build_searcher(self, size: int):
        from .thinking import SearchSettings, Searcher

        if self._searcher is None or self._searcher.size != size or self._searcher.evaluator is not self.evaluator:
            self._searcher = None  # free the old trees first
            o = self.options
            settings = SearchSettings(visits=o.visits, seed=o.seed, tree_edges=o.tree_edges,
                                      rollout_lambda=o.rollout_lambda, rollout_model=o.rollout_model)
            self._searcher = Searcher(size, self.evaluator, settings, max_moves=self.max_moves(size),
                                      play=self.player_config())
        return self._searcher

    def player_config(self):
        """How the engine's player decides (commands_play.py): the options' resign rule (a win
        rate there), passing once the game is won, and the network's opinion of dead stones."""
        from ..players import PlayerConfig, ResignRule

        o = self.options
        resign = ResignRule.from_winrate(o.resign_threshold, consecutive=o.resign_consecutive,
                                         min_move_fraction=o.resign_min_move_fraction)
        return PlayerConfig(resign=resign, pass_rule="won", opening_temperature=o.opening_temperature,
                            dead_stone_playouts=o.ownership_playouts, network_ownership=True)

    def prepare_search(self) -> None:
        """Build the search for the current size now if the engine is ready (a new board size
        otherwise costs the first genmove the allocation of the trees)."""
        if self._ready.is_set() and self._startup_error is None:
            self._build_searcher(self.game.size)

    def move_plan(self, color: int) -> "MovePlan":
        """The budget of a move of `color` that the controller asked for at `received_at`.
        Under a time control visits are limited only when set explicitly, and an unclear move
        may think until `hard_deadline` (TimePolicy.most); `--time-per-move` caps both."""
        searcher = self.searcher()
        policy = self.options.time_policy
        clock = self.clocks[color]
        args = (self.time_settings, clock, self.game.size, self.game.move_number)
        seconds, most = policy.budget(*args), policy.most(*args)
        cap = self.options.time_per_move
        if cap is not None:
            seconds = cap if seconds is None else min(seconds, cap)
            most = seconds if most is None else min(most, cap)
        visits: Optional[int] = searcher.default_visits
        if seconds is not None and self.options.visits is None:
            visits = None
        deadline = None if seconds is None else self.received_at + seconds
        hard = None if most is None else self.received_at + max(seconds, most)
        return MovePlan(visits, deadline, hard)

    # --- commands ----------------------------------------------------------------------------

    def execute(self, command: Command, write: Callable[[str], None], received_at: Optional[float] = None) -> None:
        """Run one command and write its whole reply."""
        self.received_at = time.monotonic() if received_at is None else received_at
        if not command.name:
            write(failure(command.id, "missing command name"))
            return
        handler = self.handlers.get(command.name)
        if handler is None:
            write(failure(command.id, "unknown command"))
            return
        saved = (self.game.copy(), self.size, self.rules, self.komi_set)
        try:
            reply = handler(self, command.args)
        except GtpError as e:
            write(failure(command.id, e.message))
            return
        except Exception as e:
            log.error("command %r failed:\n%s", command, traceback.format_exc())
            self._restore(saved)
            write(failure(command.id, f"internal error: {type(e).__name__}: {e}"))
            return
        if not isinstance(reply, Stream):
            write(success(command.id, reply))
            return
        write(stream_header(command.id))

        def emit(line: str) -> None:
            text = " ".join(line.split())
            if text:
                write(text + "\n")

        try:
            reply.run(emit)
        except Exception:
            log.error("command %r failed while streaming:\n%s", command, traceback.format_exc())
            self._restore(saved)
        write("\n")

    def _restore(self, saved) -> None:
        game, self.size, self.rules, self.komi_set = saved
        self.game = game
        if self._searcher is not None:
            self._searcher.reset()

    def handle_line(self, raw: str) -> str:
        """The full reply to one input line ("" for an empty or comment line): for tests and
        embedding without a process."""
        command = parse_command(raw)
        if command is None:
            return ""
        out: list[str] = []
        self.execute(command, out.append)
        return "".join(out)
