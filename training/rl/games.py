"""Many games of policy networks played in lockstep: the position arrays of G games, and numba
kernels that encode the games to move, play their moves and score the ends.

Rules: a `goengine.rules.Rules` value like every other game of the project (ko rule,
suicide, area or territory scoring; default chinese), with `komi`. A player may make any legal
move that does not fill its own single-point eye (`board.is_eyeish`), and passes only when it
has no such move, so games between policies end with two passes (or at `max_moves`).

| array      | dtype | shape     | meaning                                                   |
|------------|-------|-----------|-----------------------------------------------------------|
| boards     | int64 | [G, F, L] | the boards (board.py)                                     |
| color_hist | int8  | [G, H, L] | COLOR rows, most recent first (features/encode.py)         |
| move_hist  | int64 | [G, H]    | locs of the last H moves, most recent first (-1 none)      |
| keys       | int64 | [G, M+1]  | superko keys of every position so far (board.situation_key)|
| state      | int64 | [G, 5]    | columns G_* below                                         |

State columns: player to move, consecutive passes, moves played, history rows valid, move
history entries valid.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from goengine.board import (BLACK, CAPTURES, HASH, INFO, NUM_FIELDS, SIZE, WHITE, is_eyeish, new_board, play,
                            situation_key)
from goengine.features import get_feature_set
from goengine.features.encode import encode, push_position
from goengine.game import HISTORY, legal_actions, move_limit
from goengine.rules import KO_SITUATIONAL, Rules, get_rules
from goengine.scoring import area_score, score

G_TO_PLAY, G_PASSES, G_MOVES, G_HIST_LEN, G_MOVES_LEN = range(5)


@nb.njit(cache=True, inline="always")
def _loc(action, n):
    if action == n * n:
        return 0
    return (action // n + 1) * (n + 2) + action % n + 1


@nb.njit(cache=True)
def sensible_mask(b, color, n, ko_rule, suicide, keys, keys_len, out):
    """out[a] (bool[N*N + 1]): legal under the rules and not the mover's own eye; pass only
    when no point qualifies. Returns the number of points that do."""
    legal_actions(b, color, ko_rule, suicide, keys, keys_len, out)
    count = 0
    for a in range(n * n):
        ok = out[a] and not is_eyeish(b, _loc(a, n), color)
        out[a] = ok
        if ok:
            count += 1
    out[n * n] = count == 0
    return count


@nb.njit(cache=True, nogil=True)
def encode_games(feature_code, index, boards, color_hist, move_hist, keys, state, ko_rule, suicide, features,
                 masks):
    """features[i] (uint8 [C, N, N]) and masks[i] (bool [A]) of game index[i]; no features when
    feature_code is 0."""
    for i in range(index.shape[0]):
        g = index[i]
        b = boards[g]
        color = state[g, G_TO_PLAY]
        if feature_code > 0:
            encode(feature_code, b, color_hist[g], state[g, G_HIST_LEN], move_hist[g], state[g, G_MOVES_LEN],
                   color, features[i])
        sensible_mask(b, color, b[INFO, SIZE], ko_rule, suicide, keys[g], state[g, G_MOVES] + 1, masks[i])


@nb.njit(cache=True, nogil=True)
def play_games(index, actions, boards, color_hist, move_hist, keys, state, situational):
    """Game index[i] plays actions[i] for its player to move (the caller checked legality)."""
    for i in range(index.shape[0]):
        g = index[i]
        b = boards[g]
        n = b[INFO, SIZE]
        loc = _loc(actions[i], n)
        play(b, loc, state[g, G_TO_PLAY])
        hist_len, moves_len = push_position(b, color_hist[g], state[g, G_HIST_LEN], move_hist[g],
                                            state[g, G_MOVES_LEN], loc)
        state[g, G_HIST_LEN] = hist_len
        state[g, G_MOVES_LEN] = moves_len
        state[g, G_PASSES] = state[g, G_PASSES] + 1 if loc == 0 else 0
        state[g, G_MOVES] += 1
        state[g, G_TO_PLAY] = 3 - state[g, G_TO_PLAY]
        keys[g, state[g, G_MOVES]] = situation_key(b[INFO, HASH], state[g, G_TO_PLAY], situational)


@nb.njit(cache=True)
def area_margins(boards, komi, out):
    """out[g]: Black's area minus White's, minus komi, for every game."""
    n_locs = boards.shape[2]
    owner = np.empty(n_locs, np.int8)
    stack = np.empty(n_locs, np.int32)
    for g in range(boards.shape[0]):
        out[g] = area_score(boards[g], owner, stack) - komi


class LockstepGames:
    """G games of one size from the empty board, Black to move, under `rules`."""

    def __init__(self, size: int, num_games: int, komi: float = 7.5, max_moves: int | None = None,
                 rules: Rules | str = "chinese"):
        self.size = size
        self.num_games = num_games
        self.komi = float(komi)
        self.rules = get_rules(rules) if isinstance(rules, str) else rules
        self.max_moves = int(max_moves) if max_moves is not None else move_limit(size)
        n_locs = (size + 2) ** 2
        self.boards = np.repeat(new_board(size)[None], num_games, axis=0)
        assert self.boards.shape == (num_games, NUM_FIELDS, n_locs)
        self.color_hist = np.zeros((num_games, HISTORY, n_locs), np.int8)
        self.color_hist[:, 0] = self.boards[:, 0]
        self.move_hist = np.full((num_games, HISTORY), -1, np.int64)
        self.state = np.zeros((num_games, 5), np.int64)
        self.state[:, G_TO_PLAY] = BLACK
        self.state[:, G_HIST_LEN] = 1
        self._situational = self.rules.ko_code == KO_SITUATIONAL
        self.keys = np.zeros((num_games, self.max_moves + 1), np.int64)
        self.keys[:, 0] = situation_key(self.boards[0, INFO, HASH], BLACK, self._situational)

    @property
    def num_actions(self) -> int:
        return self.size * self.size + 1

    def active(self) -> np.ndarray:
        """Indices of the games not yet over."""
        over = (self.state[:, G_PASSES] >= 2) | (self.state[:, G_MOVES] >= self.max_moves)
        return np.flatnonzero(~over)

    def to_play(self, index: np.ndarray) -> np.ndarray:
        return self.state[index, G_TO_PLAY]

    def encode(self, index: np.ndarray, feature_set: str | None) -> tuple[np.ndarray, np.ndarray]:
        """(features uint8 [B, C, N, N], masks bool [B, A]) of the games `index`; with
        feature_set None only the masks (features of shape [B, 0, N, N])."""
        index = np.ascontiguousarray(index, dtype=np.int64)
        fs = get_feature_set(feature_set) if feature_set is not None else None
        planes = fs.num_planes if fs is not None else 0
        features = np.zeros((len(index), planes, self.size, self.size), np.uint8)
        masks = np.zeros((len(index), self.num_actions), np.bool_)
        encode_games(fs.code if fs is not None else 0, index, self.boards, self.color_hist, self.move_hist,
                     self.keys, self.state, self.rules.ko_code, self.rules.suicide, features, masks)
        return features, masks

    def play(self, index: np.ndarray, actions: np.ndarray) -> None:
        play_games(np.ascontiguousarray(index, dtype=np.int64), np.ascontiguousarray(actions, dtype=np.int64),
                   self.boards, self.color_hist, self.move_hist, self.keys, self.state, self._situational)

    def winners(self) -> np.ndarray:
        """int64 [G]: BLACK, WHITE or 0 (a draw) by the rules' scoring of the boards as they stand."""
        margins = np.zeros(self.num_games, np.float64)
        if self.rules.scoring == "area":
            area_margins(self.boards, self.komi, margins)
        else:
            for g, b in enumerate(self.boards):
                captures = (int(b[INFO, CAPTURES + BLACK]), int(b[INFO, CAPTURES + WHITE]))
                margins[g] = score(b, self.rules.scoring, self.komi, captures=captures).margin
        return np.where(margins > 0, BLACK, np.where(margins < 0, WHITE, 0)).astype(np.int64)


def sample_actions(logits: np.ndarray, masks: np.ndarray, rng: np.random.Generator,
                   temperature: float = 1.0) -> np.ndarray:
    """One action per row from softmax(logits / temperature) over the masked actions
    (temperature 0: the most probable)."""
    z = np.where(masks, logits.astype(np.float64), -np.inf)
    if temperature <= 0:
        return np.argmax(z, axis=1)
    z = z / temperature
    z -= z.max(axis=1, keepdims=True)
    cumulative = np.cumsum(np.exp(z), axis=1)
    u = rng.random(len(z))[:, None] * cumulative[:, -1:]
    actions = np.minimum((cumulative <= u).sum(axis=1), z.shape[1] - 1)
    # Rounding can land on a masked action at the very end; take the most probable instead.
    bad = ~masks[np.arange(len(z)), actions]
    actions[bad] = np.argmax(z[bad], axis=1)
    return actions


def uniform_actions(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row drawn uniformly from the masked actions."""
    return sample_actions(np.zeros(masks.shape, np.float32), masks, rng)
