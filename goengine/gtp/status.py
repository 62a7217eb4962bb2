"""The status of every stone at the end of a game (alive, dead, in seki) and the final score.

A chain is dead when, averaged over its stones, the ownership estimate (`ownership.py`,
Black's view, float64[N*N]) gives the point to the opponent: that is, in most random playouts
the opponent ends up owning it. Seki is recognised on the board with the dead chains removed,
by the mutual self-atari test of `goengine.scoring`. Stone lists are locs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..board import BLACK, COLOR, EMPTY, HEAD, WHITE, set_stones
from ..coords import action_of_loc, all_locs
from ..game import GameState
from ..scoring import Score, seki_chains, region_owners

# Mean ownership from the chain's own view below which it counts as dead: 0 means the opponent
# owns its points in more playouts than its owner does.
DEAD_BELOW = 0.0
# A chain whose mean ownership is this far from 0 either way (or that is in seki) has a settled
# status; a capturing race the playouts cannot call (a semeai) sits near 0.
SETTLED_BEYOND = 0.5


@dataclass(frozen=True)
class StoneStatus:
    alive: tuple[int, ...]
    dead: tuple[int, ...]
    seki: tuple[int, ...]  # also in `alive`, as GTP's final_status_list expects
    unsettled: tuple[int, ...] = ()  # stones whose status the estimate cannot call

    def chains(self, game: GameState, which: str) -> list[list[int]]:
        """The stones of one status grouped by chain, each chain sorted."""
        stones = set(getattr(self, which))
        groups: dict[int, list[int]] = {}
        for loc in sorted(stones):
            groups.setdefault(int(game.board[HEAD, loc]), []).append(loc)
        return list(groups.values())


def chains_of(game: GameState) -> dict[int, list[int]]:
    """head loc -> the locs of its chain, for every chain on the board."""
    chains: dict[int, list[int]] = {}
    for loc in all_locs(game.size):
        if game.board[COLOR, loc] in (BLACK, WHITE):
            chains.setdefault(int(game.board[HEAD, loc]), []).append(loc)
    return chains


def classify_stones(game: GameState, ownership: np.ndarray) -> StoneStatus:
    """Alive, dead and seki stones given an ownership estimate (Black's view)."""
    alive: list[int] = []
    dead: list[int] = []
    unsure: list[int] = []
    for head, stones in chains_of(game).items():
        sign = 1.0 if game.board[COLOR, head] == BLACK else -1.0
        mean = sign * float(np.mean([ownership[action_of_loc(loc, game.size)] for loc in stones]))
        (dead if mean < DEAD_BELOW else alive).extend(stones)
        if abs(mean) < SETTLED_BEYOND:
            unsure.extend(stones)
    work = game.board.copy()
    if dead:
        set_stones(work, {loc: EMPTY for loc in dead})
    owner = np.empty(work.shape[1], np.int8)
    region_owners(work, owner, np.empty(work.shape[1], np.int32))
    seki_heads = seki_chains(work, owner)
    seki = [loc for loc in alive if int(work[HEAD, loc]) in seki_heads]
    unsettled = sorted(set(unsure) - set(seki))
    return StoneStatus(tuple(sorted(alive)), tuple(sorted(dead)), tuple(sorted(seki)), tuple(unsettled))


def final_score(game: GameState, status: StoneStatus) -> Score:
    """The score under the game's rules with the dead stones taken off."""
    return game.score(dead=status.dead)
