"""Training positions for the value network, one per self-play game, as AlphaGo made them
(Silver et al. 2016, "Reinforcement learning of value networks"): draw a move number U, play
moves 1..U-1 with the SL policy, move U uniformly at random among the sensible moves, then the
RL policy to the end; keep only the position after move U and the game's outcome. One position
per game keeps the samples independent (whole games made the network memorise outcomes).

Games are played in lockstep (`training.rl.games`), one network call per policy per move
across games. A `ValuePositions` set (P positions, N board size, C planes):

| field    | dtype   | shape        | meaning                                                  |
|----------|---------|--------------|----------------------------------------------------------|
| features | uint8   | [P, C, N, N] | the position after move U, for the player to move there   |
| outcome  | float32 | [P]          | the game's result for that player: +1 win, -1 loss, 0 draw |
| move     | int64   | [P]          | U + 1, the number of the move about to be played          |
| seed     | int64   | [P]          | the seed of the batch the game was played in              |
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from goengine.features import get_feature_set

from ..rl.games import G_MOVES, G_TO_PLAY, LockstepGames, sample_actions, uniform_actions
from ..rl.policy import TorchPolicy


@dataclass
class ValuePositions:
    features: np.ndarray
    outcome: np.ndarray
    move: np.ndarray
    seed: np.ndarray

    def __len__(self) -> int:
        return int(self.outcome.shape[0])

    def subset(self, index) -> "ValuePositions":
        return ValuePositions(self.features[index], self.outcome[index], self.move[index], self.seed[index])

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, features=self.features, outcome=self.outcome, move=self.move, seed=self.seed)

    @classmethod
    def load(cls, path: str | Path) -> "ValuePositions":
        with np.load(path) as d:
            return cls(d["features"], d["outcome"], d["move"], d["seed"])

    @classmethod
    def concatenate(cls, parts: list["ValuePositions"]) -> "ValuePositions":
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("features", "outcome", "move", "seed")))


def value_games(sl: TorchPolicy, rl: TorchPolicy, num_games: int, size: int, seed: int,
                feature_set: str = "alphago-value", komi: float = 7.5, max_moves: Optional[int] = None,
                u_max: Optional[int] = None, rules: str = "chinese") -> tuple[ValuePositions, int]:
    """Play `num_games` games and return (positions, games dropped): a game that ends before
    move U (both players passed) gives no position. U is uniform on 1..u_max (default N*N)."""
    rng = np.random.default_rng(seed)
    u_max = size * size if u_max is None else int(u_max)
    games = LockstepGames(size, num_games, komi=komi, max_moves=max_moves, rules=rules)
    u = rng.integers(1, u_max + 1, size=num_games)
    fs = get_feature_set(feature_set)
    kept = np.zeros((num_games, fs.num_planes, size, size), np.uint8)
    recorded = np.zeros(num_games, np.bool_)
    player = np.zeros(num_games, np.int64)
    while True:
        moves = games.state[:, G_MOVES]
        reached = np.flatnonzero(~recorded & (moves == u))
        if len(reached):
            x, _ = games.encode(reached, fs.name)
            kept[reached] = x
            player[reached] = games.state[reached, G_TO_PLAY]
            recorded[reached] = True
        active = games.active()
        if len(active) == 0:
            break
        number = moves[active] + 1  # the number of the move about to be played
        for policy, index in ((sl, active[number < u[active]]), (rl, active[number > u[active]])):
            if len(index):
                x, m = games.encode(index, policy.feature_set)
                games.play(index, sample_actions(policy.logits(x), m, rng))
        random_index = active[number == u[active]]
        if len(random_index):
            _, m = games.encode(random_index, None)
            games.play(random_index, uniform_actions(m, rng))
    winners = games.winners()
    outcome = np.where(winners == 0, 0.0, np.where(winners == player, 1.0, -1.0)).astype(np.float32)
    keep = np.flatnonzero(recorded)
    positions = ValuePositions(kept[keep], outcome[keep], (u[keep] + 1).astype(np.int64),
                               np.full(len(keep), seed, np.int64))
    return positions, num_games - len(keep)
