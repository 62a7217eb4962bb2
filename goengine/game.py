"""A game of Go: the board plus the rules, history, superko, passes, resignation and scoring.

`GameState` is the Python-level object the players, GTP and SGF code work with. The hot loops
(playouts, search, self-play) use the numba kernels on board arrays directly; `legal_actions`
is the one numba kernel here, shared by all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import numba as nb
import numpy as np

from .board import (BLACK, CAPTURES, COLOR, EMPTY, HASH, INFO, KO_COLOR, KO_LOC, WHITE, is_legal,
                    new_board, play, repeats_position, set_stones, situation_key)
from .coords import PASS_LOC, action_of_loc, all_locs, check_size, loc_of_action, vertex_of_loc
from .rules import KO_SIMPLE, KO_SITUATIONAL, Rules, get_rules
from .scoring import Score, score


HISTORY = 8  # positions and moves kept for feature encoders

# Move limits as multiples of the board's points; every default comes from here. Games between
# programs (self-play, the AlphaGo pipeline, the lines a search looks at) end at 2 N^2; a match
# leaves room for cleanup after the passes, and a random playout room to finish (3 N^2); the GTP
# and analysis engines never cut short a game that a person plays on (4 N^2).
MOVES_PER_POINT = {"game": 2, "match": 3, "playout": 3, "gtp": 4}


def move_limit(size: int, purpose: str = "game") -> int:
    return MOVES_PER_POINT[purpose] * size * size


class IllegalMove(ValueError):
    """A move the rules forbid; the game is left unchanged."""


@dataclass(frozen=True)
class Move:
    color: int
    loc: int  # PASS_LOC for a pass


def colour_name(color: int) -> str:
    return {BLACK: "black", WHITE: "white"}[color]


def parse_colour(text: str) -> int:
    t = text.strip().lower()
    if t in ("b", "black"):
        return BLACK
    if t in ("w", "white"):
        return WHITE
    raise ValueError(f"invalid colour {text!r}")


@nb.njit(cache=True)
def legal_actions(b, color, ko_rule, allow_suicide, history_keys, history_len, out):
    """Fill `out` (bool[N*N+1], action order, pass last) with the legal moves of `color`,
    superko included. Returns the number of legal board moves."""
    n = b[INFO, 0]
    w = n + 2
    count = 0
    situational = ko_rule == KO_SITUATIONAL
    for row in range(n):
        for col in range(n):
            loc = (row + 1) * w + col + 1
            ok = is_legal(b, loc, color, allow_suicide)
            if ok and ko_rule != KO_SIMPLE:
                ok = not repeats_position(b, loc, color, history_keys, history_len, situational)
            out[row * n + col] = ok
            if ok:
                count += 1
    out[n * n] = True
    return count


class GameState:
    """A game in progress. Colours are BLACK (1) and WHITE (2); points are locs (`coords.py`)."""

    def __init__(self, size: int = 19, komi: Optional[float] = None, rules: Rules | str = "chinese",
                 max_moves: Optional[int] = None):
        check_size(size)
        self.size = size
        self.rules = get_rules(rules) if isinstance(rules, str) else rules
        self.komi = float(self.rules.default_komi if komi is None else komi)
        self.max_moves = int(max_moves) if max_moves is not None else move_limit(size)
        self._situational = self.rules.ko_code == KO_SITUATIONAL
        self._ko_code = self.rules.ko_code
        self.board = new_board(size)
        self.to_play = BLACK
        self.handicap = 0
        self.moves: list[Move] = []
        self.consecutive_passes = 0
        self.resigned: Optional[int] = None
        self.resumed = False  # play went on after two passes (resume)
        # Every event since the start, for undo by replay: ("move", Move), ("setup", {loc: colour})
        # or ("resume", None).
        self._events: list[tuple[str, object]] = []
        self.history_keys = np.zeros(64, dtype=np.int64)
        self.history_len = 0
        # COLOR rows of the last HISTORY positions and locs of the last HISTORY moves, most
        # recent first: what feature encoders and the search read.
        self.color_history: list[np.ndarray] = []
        self.recent_moves: list[int] = []
        self._push_key()

    # --- history -----------------------------------------------------------------------------

    @property
    def situational(self) -> bool:
        return self._situational

    @property
    def events(self) -> list[tuple[str, object]]:
        """Everything that happened, in order: ("move", Move), ("setup", (stones, to_play)) or
        ("resume", None)."""
        return list(self._events)

    def _push_key(self) -> None:
        if self.history_len == self.history_keys.shape[0]:
            self.history_keys = np.concatenate([self.history_keys, np.zeros_like(self.history_keys)])
        self.history_keys[self.history_len] = situation_key(self.board[INFO, HASH], self.to_play, self.situational)
        self.history_len += 1
        self.color_history.insert(0, self.board[COLOR].copy())
        del self.color_history[HISTORY:]

    @property
    def move_number(self) -> int:
        return len(self.moves)

    @property
    def captures(self) -> tuple[int, int]:
        """Stones captured by (Black, White) so far."""
        return int(self.board[INFO, CAPTURES + BLACK]), int(self.board[INFO, CAPTURES + WHITE])

    # --- setup -------------------------------------------------------------------------------

    def setup_stones(self, stones: dict[int, int], to_play: Optional[int] = None) -> None:
        """Place (or with EMPTY, remove) stones without playing moves: handicap and SGF setup."""
        set_stones(self.board, stones)
        self._events.append(("setup", (dict(stones), to_play)))
        if to_play is not None:
            self.to_play = to_play
        self._push_key()
        # A setup changes the position without a move: it replaces the current history entry.
        if len(self.color_history) > 1:
            del self.color_history[1]

    def place_handicap(self, locs: Iterable[int]) -> None:
        """Black's handicap stones; White moves next. Only on an empty board."""
        locs = list(locs)
        if self.moves or np.any(self.board[COLOR] == BLACK) or np.any(self.board[COLOR] == WHITE):
            raise IllegalMove("handicap stones go on an empty board")
        self.setup_stones({loc: BLACK for loc in locs}, to_play=WHITE)
        self.handicap = len(locs)

    # --- moves -------------------------------------------------------------------------------

    def is_legal(self, loc: int, color: Optional[int] = None) -> bool:
        color = self.to_play if color is None else color
        if loc == PASS_LOC:
            return True
        if not self._on_board(loc):
            return False
        if not is_legal(self.board, loc, color, self.rules.suicide):
            return False
        if self._ko_code == KO_SIMPLE:
            return True
        return not repeats_position(self.board, loc, color, self.history_keys, self.history_len, self.situational)

    def _on_board(self, loc: int) -> bool:
        return 0 < loc < self.board.shape[1] and self.board[COLOR, loc] != 3

    def illegal_reason(self, loc: int, color: int) -> str:
        if not self._on_board(loc):
            return "not a point on the board"
        if self.board[COLOR, loc] != EMPTY:
            return "point is occupied"
        if loc == self.board[INFO, KO_LOC] and color == self.board[INFO, KO_COLOR]:
            return "ko"
        if not is_legal(self.board, loc, color, self.rules.suicide):
            return "suicide"
        return "superko"

    def play(self, loc: int, color: Optional[int] = None) -> int:
        """Play `loc` (PASS_LOC to pass) for `color` (default: the side to move). Raises
        IllegalMove, leaving the game unchanged. Returns the number of stones captured."""
        color = self.to_play if color is None else color
        if color not in (BLACK, WHITE):
            raise ValueError(f"invalid colour {color}")
        if self.resigned is not None:
            raise IllegalMove("the game is over: a player resigned")
        if not self.is_legal(loc, color):
            where = vertex_of_loc(loc, self.size) if self._on_board(loc) or loc == PASS_LOC else str(loc)
            raise IllegalMove(f"illegal move {colour_name(color)} {where}: {self.illegal_reason(loc, color)}")
        captured = play(self.board, loc, color)
        move = Move(color, loc)
        self.moves.append(move)
        self.recent_moves.insert(0, loc)
        del self.recent_moves[HISTORY:]
        self._events.append(("move", move))
        self.consecutive_passes = self.consecutive_passes + 1 if loc == PASS_LOC else 0
        self.to_play = 3 - color
        self._push_key()
        return captured

    def play_action(self, action: int) -> int:
        return self.play(loc_of_action(action, self.size))

    def resign(self, color: Optional[int] = None) -> None:
        self.resigned = self.to_play if color is None else color

    def resume(self) -> None:
        """Continue a game that two passes ended (KGS: the players disagreed about which stones
        are dead, so they play on to capture them). The passes stay in the record."""
        if self.resigned is not None:
            raise IllegalMove("the game is over: a player resigned")
        self.consecutive_passes = 0
        self.resumed = True
        self._events.append(("resume", None))

    def undo(self) -> None:
        """Take back the last move (setup events after it go too). Raises IndexError when there
        is no move to undo."""
        if not self.moves:
            raise IndexError("no move to undo")
        events = list(self._events)
        while events and events[-1][0] != "move":
            events.pop()
        events.pop()
        self._replay(events)

    def _replay(self, events: list[tuple[str, object]]) -> None:
        handicap = self.handicap
        self.__init__(self.size, self.komi, self.rules, self.max_moves)
        for kind, payload in events:
            if kind == "setup":
                stones, to_play = payload  # type: ignore[misc]
                self.setup_stones(stones, to_play)
            elif kind == "resume":
                self.resume()
            else:
                self.play(payload.loc, payload.color)  # type: ignore[union-attr]
        self.handicap = handicap

    def legal_mask(self, color: Optional[int] = None) -> np.ndarray:
        """bool[N*N+1] over actions (pass last)."""
        color = self.to_play if color is None else color
        out = np.zeros(self.size * self.size + 1, dtype=np.bool_)
        legal_actions(self.board, color, self.rules.ko_code, self.rules.suicide, self.history_keys,
                      self.history_len, out)
        return out

    def legal_locs(self, color: Optional[int] = None) -> list[int]:
        mask = self.legal_mask(color)
        return [loc_of_action(a, self.size) for a in np.flatnonzero(mask)]

    # --- the end -----------------------------------------------------------------------------

    @property
    def is_over(self) -> bool:
        return (self.resigned is not None or self.consecutive_passes >= 2
                or len(self.moves) >= self.max_moves)

    def score(self, dead: Iterable[int] = ()) -> Score:
        """Score the position under the game's rules, with `dead` stones taken off."""
        return score(self.board, self.rules.scoring, self.komi, dead=dead, captures=self.captures,
                     white_bonus=self.rules.white_bonus(self.handicap))

    def winner(self, dead: Iterable[int] = ()) -> int:
        """BLACK, WHITE, or EMPTY (0) for a draw."""
        if self.resigned is not None:
            return 3 - self.resigned
        margin = self.score(dead).margin
        return BLACK if margin > 0 else WHITE if margin < 0 else EMPTY

    def result_string(self, dead: Iterable[int] = ()) -> str:
        """"B+R", "W+3.5", "0" (draw): the SGF RE value."""
        if self.resigned is not None:
            return ("W" if self.resigned == BLACK else "B") + "+R"
        return self.score(dead).result_string()

    # --- misc --------------------------------------------------------------------------------

    def copy(self) -> "GameState":
        other = GameState.__new__(GameState)
        other.__dict__.update(self.__dict__)
        other.board = self.board.copy()
        other.moves = list(self.moves)
        other._events = list(self._events)
        other.history_keys = self.history_keys.copy()
        other.color_history = list(self.color_history)
        other.recent_moves = list(self.recent_moves)
        return other

    def stone_at(self, loc: int) -> int:
        return int(self.board[COLOR, loc])

    def to_ascii(self) -> str:
        """The board with GTP coordinates; X black, O white, . empty."""
        from .ascii_board import render
        return render(self.board)

    def action_of(self, loc: int) -> int:
        return action_of_loc(loc, self.size)

    def empty_points(self) -> list[int]:
        return [loc for loc in all_locs(self.size) if self.board[COLOR, loc] == EMPTY]
