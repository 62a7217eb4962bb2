"""The interface every player implements, and the random player.

A player serves one game, or G games in lockstep in slots 0..G-1. `decide_many(slots, games)`
answers every game of those slots at once (a search player with one batched search, a policy
player with one network call); `decide(game, slot)` is the one-game form. A subclass overrides
at least one of the two. `begin(slots, games)` starts the work and returns a callable that
yields the decisions: an external engine (`external`) sends its requests at once, so that it
thinks while the players of this process compute. Players never change the game.

Every game is reproducible from its seed alone: `start_game(slot, game, seed)` reseeds the
slot's random generators and clears what the slot remembers of its previous game.

The end of a game (KGS's procedure, run by `selfplay.match`): after two passes each player
names the stones it holds dead (`dead_stones`, by default the rollout estimate of
`goengine.stone_status`). When the two lists differ, play resumes (`GameState.resumed`: the
cleanup phase), where a player must capture dead stones on the board rather than pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from ..coords import PASS_LOC, loc_of_action
from ..game import GameState
from ..playout import drop_eye_fills
from ..search import SearchResult
from ..stone_status import dead_stone_opinion


@dataclass(frozen=True)
class Decision:
    """A player's answer for one game: the move (a loc, PASS_LOC to pass), whether it resigns,
    and the search behind it. A search player that resigns still names the move it would have
    played (self-play plays on in the games it plays through). `forfeit` says why a player gave
    no legal move at all (an external engine that crashed, timed out or played an illegal
    move)."""
    loc: int = PASS_LOC
    resign: bool = False
    result: Optional[SearchResult] = None
    forfeit: Optional[str] = None


class Player:
    """The interface, with the defaults of a player that keeps no state between moves.
    `num_slots`: how many games the player can serve at once (None: any number)."""
    name = "player"
    external = False
    num_slots: Optional[int] = None

    def start_game(self, slot: int, game: GameState, seed: int) -> None:
        pass

    def decide(self, game: GameState, slot: int = 0) -> Decision:
        return self.decide_many([slot], [game])[0]

    def decide_many(self, slots: Sequence[int], games: Sequence[GameState]) -> list[Decision]:
        return [self.decide(game, slot) for slot, game in zip(slots, games)]

    def begin(self, slots: Sequence[int], games: Sequence[GameState]) -> Callable[[], list[Decision]]:
        slots, games = list(slots), list(games)
        return lambda: self.decide_many(slots, games)

    def dead_stones(self, slot: int, game: GameState) -> Optional[frozenset[int]]:
        """The stones (locs) this player holds dead now that two passes ended the game, or None
        when it cannot say."""
        return dead_stone_opinion(game)

    def end_game(self, slot: int, game: GameState, scored: bool) -> Optional[str]:
        """Called when the game in `slot` ends; an external engine's own verdict (final_score)
        when the game was scored and the engine gives one, else None."""
        return None

    def close(self) -> None:
        pass


def random_move(game: GameState, rng: np.random.Generator) -> int:
    """Uniform over legal board moves that do not fill the mover's own eye; PASS_LOC when none."""
    mask = game.legal_mask()
    drop_eye_fills(game.board, game.to_play, mask)
    candidates = np.flatnonzero(mask[:-1])
    if not len(candidates):
        return PASS_LOC
    return loc_of_action(int(candidates[int(rng.integers(len(candidates)))]), game.size)


class RandomPlayer(Player):
    """Uniform over legal moves that do not fill the player's own single-point eye."""

    def __init__(self, seed: Optional[int] = None, name: str = "random"):
        self.name = name
        self.seed = seed
        self.rngs: dict[int, np.random.Generator] = {}

    def start_game(self, slot: int, game: GameState, seed: int) -> None:
        self.rngs[slot] = np.random.default_rng(seed)

    def decide(self, game: GameState, slot: int = 0) -> Decision:
        rng = self.rngs.setdefault(slot, np.random.default_rng(self.seed))
        return Decision(random_move(game, rng))
