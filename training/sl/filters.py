"""Which expert games the supervised policy learns from: ranks, handicap, length, board size.

Ranks are compared as integers (`rank_value`): kyu ranks k -> 1 - k (1k = 0, 30k = -29), dan
ranks d -> d (1..9), professional ranks p -> 9 + p (above every amateur dan), anything
unreadable or missing -> RANK_UNKNOWN, which fails every minimum. KGS marks uncertain ranks
"6d?" and some servers write "6d*" or "6 dan": the marks and spaces are ignored.

A game is "even" when its HA is below 2 and its root holds no setup stones; a game with stones
placed after the root (a teaching record, a problem) is never kept, since its positions are
not positions of one game.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Optional

from goengine.sgf import SgfGame, Setup

RANK_UNKNOWN = -100

HANDICAP = "handicap game"
LOW_RANK = "rank below minimum"
UNKNOWN_RANK = "rank unknown"
TOO_SHORT = "too few moves"
LATER_SETUP = "setup stones after the start"
FILTER_REASONS = (HANDICAP, LOW_RANK, UNKNOWN_RANK, TOO_SHORT, LATER_SETUP)

_RANK = re.compile(r"^\s*(\d+)\s*(k|kyu|d|dan|p|pro)\b", re.IGNORECASE)


def rank_value(text: Optional[str]) -> int:
    """A rank such as "6d", "1k", "3p" as a comparable integer; RANK_UNKNOWN when unreadable."""
    if not text:
        return RANK_UNKNOWN
    m = _RANK.match(text)
    if not m:
        return RANK_UNKNOWN
    number, kind = int(m.group(1)), m.group(2).lower()[0]
    if kind == "k":
        return 1 - number if 1 <= number <= 30 else RANK_UNKNOWN
    if kind == "d":
        return number if 1 <= number <= 9 else RANK_UNKNOWN
    return 9 + number if 1 <= number <= 9 else RANK_UNKNOWN


@dataclass(frozen=True)
class GameFilter:
    """min_rank: both players at least this rank ("" or None: any rank, unknown included);
    min_moves: at least this many moves (passes count); allow_handicap: keep handicap games
    too; board_size: the one size kept (others are counted by the archive reader)."""
    min_rank: Optional[str] = "6d"
    min_moves: int = 50
    allow_handicap: bool = False
    board_size: int = 19

    def __post_init__(self) -> None:
        if self.min_rank and rank_value(self.min_rank) == RANK_UNKNOWN:
            raise ValueError(f"cannot read the rank {self.min_rank!r} (examples: 6d, 1k, 1p)")
        if self.min_moves < 1:
            raise ValueError(f"min_moves must be at least 1, got {self.min_moves}")

    def reject_reason(self, record: SgfGame) -> Optional[str]:
        """None when the game is kept, else one of FILTER_REASONS."""
        if any(isinstance(e, Setup) for e in record.events):
            return LATER_SETUP
        if not self.allow_handicap and (record.handicap >= 2 or record.setup.stones):
            return HANDICAP
        if self.min_rank:
            needed = rank_value(self.min_rank)
            ranks = (rank_value(record.black_rank), rank_value(record.white_rank))
            if RANK_UNKNOWN in ranks:
                return UNKNOWN_RANK
            if min(ranks) < needed:
                return LOW_RANK
        if len(record.events) < self.min_moves:
            return TOO_SHORT
        return None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
