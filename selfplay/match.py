"""Matches between two players: `play_match(a, b, config) -> MatchResult`.

Games. Game i (0-based) gets its own seed, derived from (config.seed, i); A plays Black in the
even games and White in the odd ones. Games 2k and 2k+1 start from the same opening: k-th SGF
file of `opening_sgf_dir` (its main-line moves), or a number of random moves drawn uniformly from
`opening_moves` (inclusive range), each uniform over the legal moves that fill no own eye, from
a generator seeded by (config.seed, k). Deterministic engines need this to play more than one
distinct game per colour.

Lockstep. Up to `parallel` games run at once. At each step, each side moves in all the games
where it is to move: a network side with one batched search over all of them (one network call
per search step), an external engine with one process per game, thinking concurrently. Games
are independent of their slot and of the games beside them, so a match gives the same games
whatever `parallel` is, for players whose evaluations depend only on the position. A network
player loaded from a checkpoint searches with each leaf in a random orientation, drawn from one
generator seeded by `config.seed` (`selfplay.players_spec`: it plays stronger so): its games
then depend on the batches they shared, and a rerun gives games alike in kind, not move for move.

Endings. Two passes (or the move limit, 3 N^2 moves by default) end a game, scored by our own
scoring under the match's rules. Which stones are dead is settled as on KGS (`dead_stones =
"agree"`, the default): each player names the stones it holds dead (`goengine.players`); when the two
lists are the same, they come off the board and the rest is counted; when they differ, play
resumes in cleanup, where dead stones must be captured on the board, and two more passes end
the game as it stands. Under Tromp-Taylor rules, or with `dead_stones = "as-is"` (gomill's
internal scorer), every stone on the board at two passes counts as alive: then players must
capture dead stones themselves (give GNU Go `--capture-all-dead`). A resignation decides the
game. An external engine that crashes, times
out, answers a command with failure or plays an illegal move forfeits (SGF result "B+F"/"W+F",
reason kept) and the next game starts a fresh process. An external engine's own `final_score`
is recorded beside our score.

Output. Each finished game is saved as SGF in `sgf_dir` (atomically) and appended to the ledger
(`selfplay.ledger`); `progress(game, match)` is called after each. The result table says how
many games were distinct (not a move-for-move repeat of another with the same colours). With `sprt` set the match
stops as soon as the test decides (`selfplay.match_stats`); games in flight then are abandoned
and not recorded. A match with a fixed `match_id` can be resumed from its ledger
(`play_match(..., resume=True)`): the games recorded there are taken as played, the others are
played (each from its own seed, so they are the games the first run would have played, but
for the orientations above).
"""

from __future__ import annotations

import datetime
import hashlib
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from goengine.board import BLACK, WHITE
from goengine.game import GameState, IllegalMove, Move, move_limit
from goengine.players import Player, ResignRule, random_move
from goengine.rules import get_rules
from goengine.search import SearchConfig

from . import match_stats as stats
from .ledger import append_record, read_ledger
from .players_spec import PlayerSettings, PlayerSpec, as_spec, build_player
from .rundir import RunDir


DEAD_STONE_MODES = ("agree", "as-is")


@dataclass(frozen=True)
class MatchConfig:
    games: int = 100
    size: int = 9
    komi: float = 7.5
    rules: str = "chinese"
    visits: int = 200                         # simulations per move of internal search players
    seed: int = 0
    sgf_dir: Optional[str] = None
    sprt: Optional[tuple[float, float]] = None  # (elo0, elo1)
    alpha: float = 0.05
    beta: float = 0.05
    opening_moves: tuple[int, int] = (0, 2)   # random opening moves per game pair, inclusive
    opening_sgf_dir: Optional[str] = None     # or openings from SGF files (main lines)
    move_timeout: float = 60.0                # seconds per genmove of an external engine
    setup_timeout: float = 30.0               # seconds for its other commands
    parallel: int = 0                         # concurrent games; 0 = automatic
    max_moves: Optional[int] = None           # default 3 * N * N
    # Base settings (visits override). Network players choose by LCB as `goengine gtp` does;
    # the rollout search always plays its most visited move.
    search: SearchConfig = field(default_factory=lambda: SearchConfig(use_lcb=True))
    allow_resign: bool = True
    resign: ResignRule = ResignRule(below=-0.95)  # of internal search players, when allowed
    engine_score: bool = True                 # ask external engines for final_score
    device: str = "cpu"
    backend: str = "auto"                     # runtime of networks: auto, torch, openvino, onnxruntime
    precision: Optional[str] = None           # None: the runtime's exact default; "auto", "fp32" or "bf16"
    announce_backend: bool = True             # say on stderr which runtime each network runs on
    dead_stones: str = "agree"                # "agree" (KGS: agreement, else cleanup) or "as-is"
    match_id: Optional[str] = None            # the ledger's match id (default: time, players, seed)

    def __post_init__(self) -> None:
        if self.games < 1:
            raise ValueError("a match needs at least one game")
        lo, hi = self.opening_moves
        if not 0 <= lo <= hi:
            raise ValueError(f"opening_moves must be (low, high) with 0 <= low <= high, got {self.opening_moves}")
        if self.sprt is not None:
            stats.Sprt(self.sprt[0], self.sprt[1], self.alpha, self.beta)  # validates
        if self.dead_stones not in DEAD_STONE_MODES:
            raise ValueError(f"dead_stones must be one of {DEAD_STONE_MODES}, got {self.dead_stones!r}")

    @property
    def move_limit(self) -> int:
        return self.max_moves if self.max_moves is not None else move_limit(self.size, "match")

    def parallel_for(self, a: PlayerSpec, b: PlayerSpec) -> int:
        if self.parallel > 0:
            return min(self.parallel, self.games)
        if a.external or b.external:
            return min(self.games, os.cpu_count() or 1)
        return min(self.games, 32)


@dataclass(frozen=True)
class GameResult:
    index: int
    seed: int
    black: str
    white: str
    winner: int                 # BLACK, WHITE, or 0 for a draw
    result: str                 # SGF RE: "B+3.5", "W+R", "B+F", "0"
    reason: str                 # "score", "score, dead stones agreed", "score after cleanup",
                                # "move limit", "resign", "forfeit: <why>"
    score: Optional[float]      # Black minus White (komi included), None if not scored
    moves: int
    dead_stones: int = 0        # stones taken off as dead by agreement before counting
    engine_score: dict[str, str] = field(default_factory=dict)
    sgf: Optional[str] = None
    move_locs: tuple[int, ...] = ()   # every move played, opening included (locs; 0 = pass)
    moves_hash: Optional[str] = None  # `moves_hash(move_locs)`: kept in the ledger

    @property
    def identity(self) -> tuple:
        """Equal for two games with the same players in the same colours and the same moves."""
        return (self.black, self.white, self.moves_hash or moves_hash(self.move_locs))

    @property
    def winner_name(self) -> Optional[str]:
        return self.black if self.winner == BLACK else self.white if self.winner == WHITE else None


@dataclass
class MatchResult:
    """The games of a match (ordered by index) and their statistics from A's point of view."""
    player_a: str
    player_b: str
    config: MatchConfig
    games: list[GameResult] = field(default_factory=list)
    sprt_llr: Optional[float] = None
    sprt_decision: Optional[str] = None  # "H1", "H0" or None
    # Whether a search player took its visits from the match (rather than its own @N or, for a
    # GTP engine, its own budget): only then does the table's header name the match's visits.
    match_visits_used: bool = True

    @property
    def wins(self) -> int:
        return sum(1 for g in self.games if g.winner != 0 and self._a_won(g))

    @property
    def draws(self) -> int:
        return sum(1 for g in self.games if g.winner == 0)

    @property
    def losses(self) -> int:
        return len(self.games) - self.wins - self.draws

    @staticmethod
    def _colour_of(g: GameResult, side: int) -> int:
        """The colour side 0 (A) or 1 (B) played in game g: A is Black in even games."""
        return BLACK if (g.index + side) % 2 == 0 else WHITE

    def _a_won(self, g: GameResult) -> bool:
        return g.winner == self._colour_of(g, 0)

    @property
    def distinct_games(self) -> int:
        """Games that are not a move-for-move repeat (same players, same colours) of another:
        a deterministic engine against another plays the same game again and again."""
        return len({g.identity for g in self.games})

    @property
    def forfeits(self) -> int:
        return sum(1 for g in self.games if g.reason.startswith("forfeit"))

    @property
    def score(self) -> float:
        return stats.score_of(self.wins, self.draws, self.losses)

    @property
    def score_interval(self) -> tuple[float, float]:
        return stats.wilson_interval(self.wins, self.draws, self.losses)

    @property
    def elo(self) -> tuple[float, float, float]:
        """(elo, low, high) of A over B, 95%."""
        return stats.elo_interval(self.wins, self.draws, self.losses)

    def table(self) -> str:
        n = len(self.games)
        lo, hi = self.score_interval
        elo, elo_lo, elo_hi = self.elo
        lines = [
            f"{self.player_a} vs {self.player_b}: {n} games "
            f"({self.config.size}x{self.config.size}, {self.config.rules}, komi {self.config.komi:g}"
            + (f", {self.config.visits} visits)" if self.match_visits_used else ")"),
            f"  {'player':<28}{'wins':>6}{'losses':>8}{'draws':>7}{'as black':>10}{'as white':>10}",
        ]
        for side, name in enumerate((self.player_a, self.player_b)):
            won_black = sum(1 for g in self.games if self._colour_of(g, side) == BLACK == g.winner)
            won_white = sum(1 for g in self.games if self._colour_of(g, side) == WHITE == g.winner)
            won = won_black + won_white
            lost = len(self.games) - self.draws - won
            lines.append(f"  {name[:27]:<28}{won:>6}{lost:>8}{self.draws:>7}{won_black:>10}{won_white:>10}")
        lines.append(f"  score of {self.player_a}: {100 * self.score:.1f}% "
                     f"(95% {100 * lo:.1f}% .. {100 * hi:.1f}%, Wilson)" if n else "  no games")
        if n:
            lines.append(f"  Elo {self.player_a} - {self.player_b}: {format_elo(elo)} "
                         f"(95% {format_elo(elo_lo)} .. {format_elo(elo_hi)})")
        reasons: dict[str, int] = {}
        for g in self.games:
            key = "forfeit" if g.reason.startswith("forfeit") else g.reason
            reasons[key] = reasons.get(key, 0) + 1
        if reasons:
            lines.append("  endings: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
        if n:
            distinct = self.distinct_games
            lines.append(f"  distinct games: {distinct} of {n}" + (
                f" ({n - distinct} repeat an earlier game move for move: deterministic players? "
                f"try more --openings)" if distinct < n else ""))
        if self.config.sprt is not None:
            lower, upper = stats.sprt_bounds(self.config.alpha, self.config.beta)
            verdict = {"H1": f"H1 accepted: {self.player_a} is at least {self.config.sprt[1]:g} Elo stronger",
                       "H0": f"H0 accepted: {self.player_a} is at most {self.config.sprt[0]:g} Elo stronger",
                       None: "undecided"}[self.sprt_decision]
            lines.append(f"  SPRT({self.config.sprt[0]:g}, {self.config.sprt[1]:g}): LLR "
                         f"{self.sprt_llr if self.sprt_llr is not None else float('nan'):.2f} "
                         f"(bounds {lower:.2f}, {upper:.2f}): {verdict}")
        return "\n".join(lines)


def format_elo(x: float) -> str:
    return f"{round(x):+d}" if math.isfinite(x) else ("+inf" if x > 0 else "-inf")


def moves_hash(move_locs: tuple[int, ...]) -> str:
    """A short digest of a game's moves, to tell repeated games apart (in the ledger too)."""
    return hashlib.sha1(",".join(map(str, move_locs)).encode("ascii")).hexdigest()[:16]


def game_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:40] or "player"


def load_sgf_openings(folder: str | os.PathLike, size: int) -> list[list[Move]]:
    """The main-line moves of every *.sgf in `folder` (sorted by name), for games of `size`."""
    from goengine.sgf import read_sgf
    paths = sorted(p for p in Path(folder).glob("*.sgf") if not p.name.startswith("."))
    if not paths:
        raise ValueError(f"no .sgf files in {folder}")
    openings = []
    for path in paths:
        record = read_sgf(path)
        if record.size != size:
            raise ValueError(f"{path} is a {record.size}x{record.size} game, the match is {size}x{size}")
        if record.setup.stones or any(not isinstance(e, Move) for e in record.events):
            raise ValueError(f"{path} has setup stones; an opening must be moves only")
        openings.append(record.moves)
    return openings


def log_backend(message: str) -> None:
    """Which runtime a network player runs on, said once per player on stderr."""
    print(message, file=sys.stderr, flush=True)


class _Match:
    """The state of one running match (see play_match)."""

    def __init__(self, spec_a: PlayerSpec, spec_b: PlayerSpec, config: MatchConfig,
                 progress: Optional[Callable[[GameResult, MatchResult], None]], ledger: Optional[Path]):
        self.a, self.b, self.config = spec_a, spec_b, config
        self.progress, self.ledger = progress, ledger
        self.result = MatchResult(spec_a.name, spec_b.name, config, match_visits_used=any(
            s.kind in ("rollout", "mcts") and s.visits is None for s in (spec_a, spec_b)))
        # Tromp-Taylor counts the board as it stands by definition: nothing to agree on.
        self.agreement = config.dead_stones == "agree" and get_rules(config.rules).name != "tromp-taylor"
        self.sprt = stats.Sprt(config.sprt[0], config.sprt[1], config.alpha, config.beta) if config.sprt else None
        self.openings = load_sgf_openings(config.opening_sgf_dir, config.size) if config.opening_sgf_dir else None
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.match_id = config.match_id or f"{stamp}-{_safe(spec_a.name)}-vs-{_safe(spec_b.name)}-s{config.seed}"
        self.resumed: set[int] = set()
        if config.sgf_dir:
            Path(config.sgf_dir).mkdir(parents=True, exist_ok=True)
        self.settings = PlayerSettings(size=config.size, komi=config.komi, max_moves=config.move_limit,
                                       search=config.search.with_(num_simulations=config.visits),
                                       resign=config.resign if config.allow_resign else ResignRule(below=None),
                                       move_timeout=config.move_timeout, setup_timeout=config.setup_timeout,
                                       engine_score=config.engine_score, device=config.device,
                                       backend=config.backend, precision=config.precision,
                                       log=log_backend if config.announce_backend else None,
                                       seed=config.seed)

    def _new_game(self, index: int) -> GameState:
        c = self.config
        game = GameState(c.size, komi=c.komi, rules=c.rules, max_moves=c.move_limit)
        pair = index // 2
        if self.openings is not None:
            for move in self.openings[pair % len(self.openings)]:
                game.play(move.loc, move.color)
        else:
            rng = np.random.default_rng([c.seed, pair, 0x0BE7])
            lo, hi = c.opening_moves
            for _ in range(int(rng.integers(lo, hi + 1))):
                game.play(random_move(game, rng))
        return game

    def resume(self, records: list[dict[str, Any]]) -> None:
        """Take the games of ledger records of this match (same id, index, players and seed)
        as played: a resumed match plays only the others."""
        for record in records:
            game = self._game_of_record(record)
            if game is not None and game.index not in self.resumed:
                self.resumed.add(game.index)
                self.result.games.append(game)
        self._update_sprt()

    def _game_of_record(self, r: dict[str, Any]) -> Optional[GameResult]:
        index = r.get("game")
        if r.get("match") != self.match_id or not isinstance(index, int) or not 0 <= index < self.config.games:
            return None
        names = (self.a.name, self.b.name) if index % 2 == 0 else (self.b.name, self.a.name)
        if (r.get("black"), r.get("white")) != names or r.get("seed") != game_seed(self.config.seed, index):
            return None
        winner = BLACK if r.get("winner") == names[0] else WHITE if r.get("winner") == names[1] else 0
        return GameResult(index=index, seed=r["seed"], black=names[0], white=names[1], winner=winner,
                          result=str(r.get("result")), reason=str(r.get("reason")), score=r.get("score"),
                          moves=int(r.get("moves") or 0), dead_stones=int(r.get("dead_stones") or 0),
                          engine_score=dict(r.get("engine_score") or {}), sgf=r.get("sgf"),
                          moves_hash=r.get("moves_hash") or f"unknown-{index}")

    def _update_sprt(self) -> None:
        if self.sprt is not None:
            r = self.result
            r.sprt_llr = self.sprt.llr(r.wins, r.draws, r.losses)
            r.sprt_decision = self.sprt.decide(r.sprt_llr)

    def run(self) -> MatchResult:
        parallel = self.config.parallel_for(self.a, self.b)
        players: list[Player] = []
        try:
            players.append(build_player(self.a, self.settings, parallel))
            players.append(build_player(self.b, self.settings, parallel))
            # A ready player object serves the games its own slots allow.
            parallel = min([parallel] + [p.num_slots for p in players if p.num_slots])
            self._loop(players, parallel)
        finally:
            for player in players:
                player.close()
        self.result.games.sort(key=lambda g: g.index)
        return self.result

    def _loop(self, players: list[Player], parallel: int) -> None:
        c = self.config
        slots: list[Optional[tuple[int, GameState, int]]] = [None] * parallel  # (index, game, seed)
        next_index = 0
        while True:
            if self.result.sprt_decision is None:
                for s in range(parallel):
                    while next_index in self.resumed:
                        next_index += 1
                    if slots[s] is None and next_index < c.games:
                        slots[s] = self._start(players, s, next_index)
                        next_index += 1
            else:
                slots = [None] * parallel  # decided: games in flight are abandoned
            active = [s for s in range(parallel) if slots[s] is not None]
            if not active:
                return
            # Player 0 (A) plays Black in even games. External players start first so that their
            # engines think while an internal side computes.
            to_move = {0: [], 1: []}
            for s in active:
                index, game, _ = slots[s]
                to_move[self._side_of(index, game.to_play)].append(s)
            order = sorted((k for k in (0, 1) if to_move[k]), key=lambda k: not players[k].external)
            pending = {k: players[k].begin(to_move[k], [slots[s][1] for s in to_move[k]]) for k in order}
            replies = {}
            for k in sorted(pending, key=lambda k: players[k].external):
                replies[k] = pending[k]()
            for k, reply_list in replies.items():
                for s, reply in zip(to_move[k], reply_list):
                    if self._apply(players, s, slots[s], reply):
                        slots[s] = None

    @staticmethod
    def _side_of(index: int, colour: int) -> int:
        a_colour = BLACK if index % 2 == 0 else WHITE
        return 0 if colour == a_colour else 1

    def _start(self, players: list[Player], slot: int, index: int) -> tuple[int, GameState, int]:
        seed = game_seed(self.config.seed, index)
        game = self._new_game(index)
        for k, player in enumerate(players):
            player.start_game(slot, game, seed + k)
        return index, game, seed

    def _apply(self, players: list[Player], slot: int, entry: tuple[int, GameState, int], reply) -> bool:
        """Play a reply; True when the game is over (and recorded)."""
        index, game, seed = entry
        mover = game.to_play
        if reply.forfeit is not None:
            return self._finish(players, slot, entry, winner=3 - mover, reason=f"forfeit: {reply.forfeit}",
                                result=("B" if mover == WHITE else "W") + "+F")
        if reply.resign:
            game.resign(mover)
            return self._finish(players, slot, entry, winner=3 - mover, reason="resign", result=game.result_string())
        try:
            game.play(reply.loc)
        except IllegalMove as e:
            return self._finish(players, slot, entry, winner=3 - mover, reason=f"forfeit: {e}",
                                result=("B" if mover == WHITE else "W") + "+F")
        if not game.is_over:
            return False
        dead: frozenset[int] = frozenset()
        if game.consecutive_passes < 2:
            reason = "move limit"
        elif game.resumed:
            reason = "score after cleanup"
        elif not self.agreement:
            reason = "score"
        else:
            lists = [player.dead_stones(slot, game) for player in players]
            if lists[0] is None or lists[0] != lists[1]:
                # KGS: no agreement, so the dead stones are captured on the board.
                game.resume()
                return False
            dead = lists[0]
            reason = "score, dead stones agreed" if dead else "score"
        return self._finish(players, slot, entry, winner=game.winner(dead), reason=reason,
                            result=game.result_string(dead), score=float(game.score(dead).margin),
                            dead_stones=len(dead))

    def _finish(self, players, slot, entry, *, winner: int, reason: str, result: str,
                score: Optional[float] = None, dead_stones: int = 0) -> bool:
        index, game, seed = entry
        c = self.config
        names = (self.a.name, self.b.name) if index % 2 == 0 else (self.b.name, self.a.name)
        engine_score = {}
        for player in players:
            text = player.end_game(slot, game, scored=score is not None)
            if text:
                engine_score[player.name] = text
        sgf_path = None
        if c.sgf_dir:
            from goengine.sgf import write_sgf
            sgf_path = str(Path(c.sgf_dir) / f"{self.match_id}-{index:04d}.sgf")
            comment = (reason + (f" ({dead_stones} stones)" if dead_stones else "")
                       + "".join(f"; {k} final_score {v}" for k, v in engine_score.items()))
            write_sgf(game, sgf_path, black=names[0], white=names[1], result=result, comment=comment,
                      GN=f"{self.match_id} game {index}",
                      DT=datetime.date.today().isoformat())
        game_result = GameResult(index=index, seed=seed, black=names[0], white=names[1], winner=winner,
                                 result=result, reason=reason, score=score, moves=game.move_number,
                                 dead_stones=dead_stones, engine_score=engine_score, sgf=sgf_path,
                                 move_locs=tuple(m.loc for m in game.moves),
                                 moves_hash=moves_hash(tuple(m.loc for m in game.moves)))
        self.result.games.append(game_result)
        if self.ledger is not None:
            append_record(self.ledger, self._ledger_record(game_result))
        self._update_sprt()
        if self.progress is not None:
            self.progress(game_result, self.result)
        return True

    def _ledger_record(self, g: GameResult) -> dict[str, Any]:
        c = self.config
        return {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "match": self.match_id, "game": g.index, "black": g.black, "white": g.white,
            "result": g.result, "winner": g.winner_name, "score": g.score,
            "engine_score": g.engine_score or None, "size": c.size, "komi": c.komi, "rules": c.rules,
            "visits": c.visits, "moves": g.moves, "seed": g.seed, "reason": g.reason, "dead_stones": g.dead_stones,
            "sgf": g.sgf, "moves_hash": g.moves_hash,
        }


def default_ledger(a: PlayerSpec, b: PlayerSpec) -> Optional[Path]:
    """The ledger of the training run either player comes from, if any."""
    for spec in (a, b):
        if spec.run_dir is not None:
            return RunDir(spec.run_dir).ledger
    return None


def play_match(a: Any, b: Any, config: MatchConfig,
               progress: Optional[Callable[[GameResult, MatchResult], None]] = None,
               ledger: str | os.PathLike | None = None, resume: bool = False) -> MatchResult:
    """Play a match of A against B. `a` and `b`: spec strings (`selfplay.players_spec`),
    PlayerSpecs (e.g. `network_player(evaluator, name)` for networks already built), Evaluators
    (MCTS with them) or player objects. `ledger`: a JSONL path to append every game to (None:
    no ledger). With `resume` (and a fixed `config.match_id`), the games the ledger already
    holds for this match count as played and only the others are played, so an interrupted
    match goes on where it stopped and no game is recorded twice. Returns every finished game
    and the statistics."""
    spec_a, spec_b = as_spec(a), as_spec(b)
    match = _Match(spec_a, spec_b, config, progress, Path(ledger) if ledger is not None else None)
    if resume:
        if config.match_id is None or ledger is None:
            raise ValueError("resuming a match needs its ledger and a fixed match_id")
        match.resume(read_ledger(ledger).records)
    return match.run()
