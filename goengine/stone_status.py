"""The status of every stone at the end of a game (alive, dead, in seki) and the final score.

A chain is dead when, averaged over its stones, the ownership estimate (`ownership.py`,
Black's view, float64[N*N]) gives the point to the opponent: that is, in most random playouts
the opponent ends up owning it. Seki is recognised on the board with the dead chains removed,
by the mutual self-atari test of `goengine.scoring`. A chain the estimate cannot call (its mean
ownership near 0) that is in seki once the clearly dead chains are gone is alive: random
playouts break a seki at random (whoever first fills a shared liberty loses), so they put
seki stones near 0 either way, and only the board can tell. Stone lists are locs.

The end of a game (final_score, final_status_list, the decision to pass, a match's dead
stones) reads the estimate from a fixed playout seed, `SCORING_SEED`: the same position gets
the same answer whatever seed the engine plays with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .board import BLACK, COLOR, EMPTY, HEAD, WHITE, set_stones
from .coords import action_of_loc, all_locs
from .game import GameState
from .scoring import Score, seki_chains, region_owners

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


# The playout seed of every end-of-game estimate.
SCORING_SEED = 0


def _seki_heads(game: GameState, dead: list[int]) -> tuple[np.ndarray, set[int]]:
    """The board with `dead` taken off, and the heads of its chains in seki."""
    work = game.board.copy()
    if dead:
        set_stones(work, {loc: EMPTY for loc in dead})
    owner = np.empty(work.shape[1], np.int8)
    region_owners(work, owner, np.empty(work.shape[1], np.int32))
    return work, seki_chains(work, owner)


def classify_stones(game: GameState, ownership: np.ndarray) -> StoneStatus:
    """Alive, dead and seki stones given an ownership estimate (Black's view)."""
    means: dict[int, float] = {}
    chains = chains_of(game)
    for head, stones in chains.items():
        sign = 1.0 if game.board[COLOR, head] == BLACK else -1.0
        means[head] = sign * float(np.mean([ownership[action_of_loc(loc, game.size)] for loc in stones]))
    clearly_dead = [loc for head, stones in chains.items() if means[head] <= -SETTLED_BEYOND for loc in stones]
    _, seki_first = _seki_heads(game, clearly_dead)
    alive: list[int] = []
    dead: list[int] = []
    unsure: list[int] = []
    for head, stones in chains.items():
        mean = means[head]
        in_doubt = abs(mean) < SETTLED_BEYOND
        lives = mean >= DEAD_BELOW or (in_doubt and head in seki_first)
        (alive if lives else dead).extend(stones)
        if in_doubt:
            unsure.extend(stones)
    work, seki_heads = _seki_heads(game, dead)
    seki = [loc for loc in alive if int(work[HEAD, loc]) in seki_heads]
    unsettled = sorted(set(unsure) - set(seki))
    return StoneStatus(tuple(sorted(alive)), tuple(sorted(dead)), tuple(sorted(seki)), tuple(unsettled))


def final_score(game: GameState, status: StoneStatus) -> Score:
    """The score under the game's rules with the dead stones taken off."""
    return game.score(dead=status.dead)


# Random playouts per end-of-game estimate, unless a player is told otherwise.
DEAD_STONE_PLAYOUTS = 400


def end_of_game_ownership(game: GameState, evaluator=None, num_playouts: int = DEAD_STONE_PLAYOUTS) -> np.ndarray:
    """Ownership (Black's view) for deciding the end of a game: `num_playouts` random playouts
    from `SCORING_SEED` decide, and the network's ownership head, when `evaluator` has one,
    speaks only for the chains the playouts leave in doubt (a capturing race they call either
    way). The playouts lead because they were the better judge: on the 18 finished 9x9
    positions of tests/data/finished_9x9.json they agree with GNU Go 18 times, the bundled 9x9
    network's head 16 times, and in games against GNU Go the head kept large dead groups alive
    (W+41.5 where GNU Go and the playouts said W+88.5)."""
    from .ownership import network_ownership, rollout_ownership

    own = rollout_ownership(game, num_playouts, SCORING_SEED)
    head = network_ownership(game, evaluator) if evaluator is not None else None
    if head is None:
        return own
    for stones in chains_of(game).values():
        points = [action_of_loc(loc, game.size) for loc in stones]
        if abs(float(np.mean(own[points]))) < SETTLED_BEYOND:
            own[points] = head[points]
    return own


def end_of_game_status(game: GameState, evaluator=None, num_playouts: int = DEAD_STONE_PLAYOUTS) -> StoneStatus:
    """The status of every stone by `end_of_game_ownership`: one answer per position."""
    return classify_stones(game, end_of_game_ownership(game, evaluator, num_playouts))


def dead_stone_opinion(game: GameState, evaluator=None,
                       num_playouts: int = DEAD_STONE_PLAYOUTS) -> Optional[frozenset[int]]:
    """The stones a player holds dead now that two passes ended the game, or None when the
    estimate cannot call a chain (a player then names none, and the stones are settled on the
    board)."""
    status = end_of_game_status(game, evaluator, num_playouts)
    return None if status.unsettled else frozenset(status.dead)


def opponent_dead_stones(game: GameState, evaluator=None, num_playouts: int = DEAD_STONE_PLAYOUTS) -> list[int]:
    """Stones of the opponent of the player to move that the estimate holds dead."""
    opponent = 3 - game.to_play
    return [loc for loc in end_of_game_status(game, evaluator, num_playouts).dead if game.stone_at(loc) == opponent]


def passing_wins(game: GameState, evaluator=None, num_playouts: int = DEAD_STONE_PLAYOUTS) -> bool:
    """Whether a pass by the player to move ends a won game: the score with dead stones taken
    off wins, and the status of every chain is clear. An unclear one (a capturing race the
    playouts call either way) is left to the search: under area scoring, playing on costs
    nothing."""
    status = end_of_game_status(game, evaluator, num_playouts)
    if status.unsettled:
        return False
    margin = game.score(dead=status.dead).margin
    return margin > 0 if game.to_play == BLACK else margin < 0
