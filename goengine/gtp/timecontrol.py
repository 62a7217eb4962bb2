"""Time controls as GTP's time_settings and KGS's kgs-time_settings announce them, the clock of
each colour, and the time one move may take.

`TimeSettings` (seconds):

| kind      | main_time | period_time            | period_stones             | periods          |
|-----------|-----------|------------------------|---------------------------|------------------|
| none      | -         | -                      | -                         | -                |
| absolute  | main      | 0                      | 0                         | 0                |
| canadian  | main      | the byo-yomi period    | stones to play in it      | 1                |
| byoyomi   | main      | one (Japanese) period  | 1                         | number of periods|

`Clock` (one per colour): `main_left`; in byo-yomi (`in_byoyomi`), `period_left` and
`stones_left` (canadian: stones still owed in the current period; byoyomi: periods left).
The controller's time_left sets it; between time_left commands the engine charges its own
thinking time to it, so a controller that never sends time_left is still respected.

The budget spends main time evenly over the moves the engine still expects to play (keeping
back `lag` plus `min_move_seconds` for each of them), then most of a byo-yomi period per move
(less `lag`, which covers the time spent outside the search and on the wire). A move whose
choice the search finds unclear may think past its budget up to `most()`: `extend_factor`
times the budget, never into the reserve kept for later moves nor past the byo-yomi period.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

KINDS = ("none", "absolute", "canadian", "byoyomi")
# What a controller may announce is clamped to these: a clock of 1e308 seconds means "no
# practical limit", and arithmetic on it (deadlines, simulations per second times seconds)
# must stay within floats and integers. A year and a million stones are more than any game.
MAX_SECONDS = 365.0 * 24 * 3600
MAX_COUNT = 1_000_000


@dataclass(frozen=True)
class TimeSettings:
    kind: str = "none"
    main_time: float = 0.0
    period_time: float = 0.0
    period_stones: int = 0
    periods: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"time control must be one of {KINDS}, got {self.kind!r}")
        for name in ("main_time", "period_time"):
            value = getattr(self, name)
            if not value >= 0.0 or value == float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.period_stones < 0 or self.periods < 0:
            raise ValueError("stones and periods must be >= 0")
        if self.kind == "canadian" and (self.period_time <= 0 or self.period_stones < 1):
            raise ValueError("canadian byo-yomi needs a period time > 0 and at least one stone")
        if self.kind == "byoyomi" and (self.period_time <= 0 or self.periods < 1):
            raise ValueError("byo-yomi needs a period time > 0 and at least one period")

    @property
    def limited(self) -> bool:
        return self.kind != "none"

    @property
    def has_byoyomi(self) -> bool:
        return self.kind in ("canadian", "byoyomi")


def gtp_time_settings(main_time: float, byo_yomi_time: float, byo_yomi_stones: int) -> TimeSettings:
    """GTP's time_settings: byo-yomi time 0 is absolute time; byo-yomi time > 0 with 0 stones
    means no limit (as the specification says); otherwise canadian byo-yomi."""
    if byo_yomi_time > 0 and byo_yomi_stones == 0:
        return TimeSettings("none")
    if byo_yomi_time == 0:
        return TimeSettings("absolute", main_time) if main_time > 0 else TimeSettings("none")
    return TimeSettings("canadian", main_time, byo_yomi_time, byo_yomi_stones, 1)


@dataclass
class Clock:
    main_left: float = 0.0
    in_byoyomi: bool = False
    period_left: float = 0.0
    stones_left: int = 0

    @classmethod
    def start(cls, settings: TimeSettings) -> "Clock":
        clock = cls(main_left=settings.main_time)
        if settings.has_byoyomi and settings.main_time <= 0:
            clock._enter_byoyomi(settings)
        return clock

    def _enter_byoyomi(self, settings: TimeSettings) -> None:
        self.in_byoyomi = True
        self.main_left = 0.0
        self.period_left = settings.period_time
        self.stones_left = settings.period_stones if settings.kind == "canadian" else settings.periods

    def set_left(self, settings: TimeSettings, seconds: float, stones: int) -> None:
        """GTP time_left: `stones` 0 means still in main time."""
        if stones <= 0 or not settings.has_byoyomi:
            self.in_byoyomi = False
            self.main_left = max(0.0, seconds)
        else:
            self.in_byoyomi = True
            self.main_left = 0.0
            self.period_left = max(0.0, seconds)
            self.stones_left = stones

    def charge(self, settings: TimeSettings, seconds: float) -> None:
        """Take the time one of this colour's moves used off the clock."""
        if not settings.limited:
            return
        if not self.in_byoyomi:
            self.main_left -= seconds
            if self.main_left >= 0 or not settings.has_byoyomi:
                self.main_left = max(0.0, self.main_left)
                return
            seconds = -self.main_left
            self._enter_byoyomi(settings)
        if settings.kind == "canadian":
            self.period_left -= seconds
            self.stones_left -= 1
            if self.stones_left <= 0:
                self.period_left = settings.period_time
                self.stones_left = settings.period_stones
        else:
            if seconds > self.period_left and self.stones_left > 1:
                self.stones_left -= 1
            self.period_left = settings.period_time


@dataclass(frozen=True)
class TimePolicy:
    lag: float = 0.3  # seconds kept back every move for overhead and transport
    # What a move costs at least, search aside: main time keeps this much for every move still
    # expected, so a long game on absolute time ends with fast moves rather than a lost clock.
    min_move_seconds: float = 0.05
    byoyomi_fraction: float = 0.8  # of a period (per stone) spent on one move
    # Expected game length in moves: factor * points + extra (about 110 moves on 9x9 and 300
    # on 19x19, where play goes on until the dame are filled).
    game_length_factor: float = 0.7
    game_length_extra: float = 50.0
    min_moves_factor: float = 0.25  # own moves always expected to remain, per board point
    extend_factor: float = 1.5  # of the budget, for a move whose choice is unclear

    def with_(self, **changes) -> "TimePolicy":
        return replace(self, **changes)

    def own_moves_left(self, size: int, move_number: int) -> float:
        points = size * size
        expected = self.game_length_factor * points + self.game_length_extra
        return max(5.0, self.min_moves_factor * points, (expected - move_number) / 2.0)

    def budget(self, settings: TimeSettings, clock: Clock, size: int, move_number: int) -> Optional[float]:
        """Seconds the next move may think, or None without a time limit."""
        if not settings.limited:
            return None
        byo = 0.0
        if settings.has_byoyomi:
            if clock.in_byoyomi:
                period = clock.period_left
                per_move = period / max(1, clock.stones_left) if settings.kind == "canadian" else period
            else:
                period = settings.period_time
                per_move = period / max(1, settings.period_stones) if settings.kind == "canadian" else period
            byo = max(0.0, per_move * self.byoyomi_fraction - self.lag)
            if clock.in_byoyomi:
                return byo
        moves_left = self.own_moves_left(size, move_number)
        usable = max(0.0, clock.main_left - self.lag - self.min_move_seconds * moves_left)
        return max(usable / moves_left, byo)

    def most(self, settings: TimeSettings, clock: Clock, size: int, move_number: int) -> Optional[float]:
        """The longest the next move may think when its choice is unclear (at least the
        budget), or None without a time limit: `extend_factor` times the budget, within what
        the clock allows. Main time keeps the reserve of every later move; in byo-yomi one move
        may take its whole period less `lag` (canadian: less `lag + min_move_seconds` for
        each stone still owed after it)."""
        planned = self.budget(settings, clock, size, move_number)
        if planned is None:
            return None
        wanted = planned * self.extend_factor
        if clock.in_byoyomi:
            if settings.kind == "canadian":
                owed = max(0, clock.stones_left - 1)
                allowed = clock.period_left - self.lag - owed * (self.lag + self.min_move_seconds)
            else:
                allowed = clock.period_left - self.lag
            return max(planned, min(wanted, allowed))
        moves_left = self.own_moves_left(size, move_number)
        usable = max(0.0, clock.main_left - self.lag - self.min_move_seconds * moves_left)
        # Past the main time the move runs into byo-yomi, whose first period starts full.
        byo_most = 0.0
        if settings.has_byoyomi:
            period = settings.period_time
            owed = max(0, settings.period_stones - 1) if settings.kind == "canadian" else 0
            byo_most = max(0.0, period - self.lag - owed * (self.lag + self.min_move_seconds))
        return max(planned, min(wanted, usable + byo_most))
