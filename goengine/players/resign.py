"""The resign rule every search player follows, on one scale: the root value for the player to
move, in [-1, 1] (a win rate w is the value 2w - 1). `training/resign.py` calibrates the same
rule against games that were played out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..game import GameState


@dataclass(frozen=True)
class ResignRule:
    """Resign when the root value was below `below` at `consecutive` of the player's own moves
    in a row, counting only moves from `min_move` on (None: `min_move_fraction` of the board's
    points, rounded down). `below` None: never resign."""
    below: Optional[float] = -0.9
    consecutive: int = 2
    min_move: Optional[int] = None
    min_move_fraction: float = 0.25

    def __post_init__(self) -> None:
        if self.below is not None and not -1.0 <= self.below <= 1.0:
            raise ValueError(f"a resign threshold is a root value in [-1, 1], got {self.below}")
        if self.consecutive < 1:
            raise ValueError("resigning needs at least one low value (consecutive >= 1)")

    @classmethod
    def from_winrate(cls, winrate: float, **changes) -> "ResignRule":
        """The rule for a win-rate threshold (<= 0: never resign)."""
        return cls(below=2.0 * winrate - 1.0 if winrate > 0 else None, **changes)

    def first_move(self, size: int) -> int:
        return self.min_move if self.min_move is not None else int(self.min_move_fraction * size * size)


class ResignStreaks:
    """Each (slot, colour)'s count of low root values in a row under `rule`."""

    def __init__(self, rule: ResignRule):
        self.rule = rule
        self._counts: dict[tuple[int, int], int] = {}

    def reset(self, slot: int) -> None:
        for key in [k for k in self._counts if k[0] == slot]:
            del self._counts[key]

    def update(self, slot: int, game: GameState, root_value: float) -> bool:
        """Count the search the player to move just made; True when the rule says it resigns."""
        rule = self.rule
        if rule.below is None:
            return False
        key = (slot, game.to_play)
        low = root_value < rule.below and game.move_number >= rule.first_move(game.size)
        count = self._counts.get(key, 0) + 1 if low else 0
        self._counts[key] = count
        return count >= rule.consecutive
