"""REINFORCE for the policy network (Silver et al. 2016, section "Reinforcement learning of
policy networks"): games of the learner against an opponent, both sampling their moves, then
one gradient step on  -sum_games sum_t (z - baseline) log pi(a_t | s_t) / games.

`z` is the game's outcome for the learner (+1 win, -1 loss, 0 draw); the baseline is the mean
outcome of the iteration's games ("mean") or 0 ("none"). The log-probabilities are those of the
masked softmax the moves were sampled from (`games.sensible_mask`).

An `Episodes` holds the learner's moves of one batch of games (T moves, B games):

| field    | dtype   | shape        | meaning                                          |
|----------|---------|--------------|--------------------------------------------------|
| features | uint8   | [T, C, N, N] | the learner's input before each of its moves     |
| masks    | bool    | [T, A]       | the moves it could choose from                    |
| actions  | int64   | [T]          | the move it chose                                 |
| game     | int64   | [T]          | the game each move belongs to                     |
| outcome  | float32 | [B]          | z of each game for the learner                   |
| learner_colour | int64 | [B]     | BLACK or WHITE                                    |
| moves    | int64   | [B]          | moves played in each game                         |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from goengine.board import BLACK, WHITE

from .games import LockstepGames, sample_actions
from .policy import TorchPolicy


@dataclass
class Episodes:
    features: np.ndarray
    masks: np.ndarray
    actions: np.ndarray
    game: np.ndarray
    outcome: np.ndarray
    learner_colour: np.ndarray
    moves: np.ndarray

    @property
    def num_games(self) -> int:
        return int(self.outcome.shape[0])

    def wins(self) -> int:
        return int((self.outcome > 0).sum())

    def win_rate(self) -> float:
        """Wins plus half the draws, over the games."""
        return float(((self.outcome > 0).sum() + 0.5 * (self.outcome == 0).sum()) / max(self.num_games, 1))


def play_episodes(learner: TorchPolicy, opponent: TorchPolicy, num_games: int, size: int,
                  rng: np.random.Generator, komi: float = 7.5, max_moves: Optional[int] = None,
                  temperature: float = 1.0, record: bool = True, rules: str = "chinese") -> Episodes:
    """`num_games` games in lockstep, the learner Black in the first half and White in the rest,
    each side sampling from its policy (one network call per side per move across games)."""
    games = LockstepGames(size, num_games, komi=komi, max_moves=max_moves, rules=rules)
    colour = np.where(np.arange(num_games) < (num_games + 1) // 2, BLACK, WHITE).astype(np.int64)
    feats, masks, actions, owners = [], [], [], []
    while True:
        active = games.active()
        if len(active) == 0:
            break
        mine = games.to_play(active) == colour[active]
        for side, index in ((learner, active[mine]), (opponent, active[~mine])):
            if len(index) == 0:
                continue
            x, m = games.encode(index, side.feature_set)
            a = sample_actions(side.logits(x), m, rng, temperature)
            if record and side is learner:
                feats.append(x)
                masks.append(m)
                actions.append(a)
                owners.append(index)
            games.play(index, a)
    winners = games.winners()
    outcome = np.where(winners == 0, 0.0, np.where(winners == colour, 1.0, -1.0)).astype(np.float32)
    n = size * size + 1
    planes = feats[0].shape[1] if feats else 0
    return Episodes(
        features=np.concatenate(feats) if feats else np.zeros((0, planes, size, size), np.uint8),
        masks=np.concatenate(masks) if masks else np.zeros((0, n), np.bool_),
        actions=np.concatenate(actions) if actions else np.zeros(0, np.int64),
        game=np.concatenate(owners) if owners else np.zeros(0, np.int64),
        outcome=outcome, learner_colour=colour, moves=games.state[:, 2].copy())


def baseline_of(episodes: Episodes, kind: str) -> float:
    if kind == "mean":
        return float(episodes.outcome.mean()) if episodes.num_games else 0.0
    if kind == "none":
        return 0.0
    raise ValueError(f"baseline must be 'mean' or 'none', got {kind!r}")


def reinforce_step(policy: TorchPolicy, optimiser: torch.optim.Optimizer, episodes: Episodes,
                   baseline: float, batch_size: int = 256) -> float:
    """One optimiser step on the REINFORCE loss of `episodes` (gradients summed over mini-batches
    of moves). Returns the loss."""
    model = policy.model
    model.eval()  # batch norm frozen: see policy.py
    optimiser.zero_grad()
    advantage = episodes.outcome[episodes.game] - baseline
    total = 0.0
    games = max(episodes.num_games, 1)
    for start in range(0, len(episodes.actions), batch_size):
        end = start + batch_size
        weight = torch.from_numpy(advantage[start:end].astype(np.float32)).to(policy.device)
        if not torch.any(weight != 0):
            continue
        logits = model(policy.to_tensor(episodes.features[start:end])).policy_logits.float()
        mask = torch.from_numpy(episodes.masks[start:end]).to(policy.device)
        log_p = torch.log_softmax(logits.masked_fill(~mask, float("-inf")), dim=1)
        chosen = torch.from_numpy(episodes.actions[start:end]).to(policy.device)
        picked = log_p.gather(1, chosen[:, None]).squeeze(1)
        loss = -(weight * picked).sum() / games
        loss.backward()
        total += float(loss.detach())
    optimiser.step()
    return total


def win_rate(a: TorchPolicy, b: TorchPolicy, num_games: int, size: int, seed: int = 0, komi: float = 7.5,
             max_moves: Optional[int] = None, temperature: float = 1.0, rules: str = "chinese") -> dict:
    """A's results against B, half the games with each colour, both sampling their moves."""
    rng = np.random.default_rng(seed)
    episodes = play_episodes(a, b, num_games, size, rng, komi=komi, max_moves=max_moves,
                             temperature=temperature, record=False, rules=rules)
    return {"games": episodes.num_games, "wins": episodes.wins(),
            "draws": int((episodes.outcome == 0).sum()), "win_rate": episodes.win_rate(),
            "mean_moves": float(episodes.moves.mean()) if episodes.num_games else 0.0}
