"""What happens to the leaves `kernels.select_leaves` collected, before `expand_and_backup`:
their feature planes (for the network) and their rollout outcomes (AlphaGo's lambda, or the
classical search's only value).

Each encoder and each kind of rollout is its own kernel, and Python calls only those its
search uses: numba compiles everything a kernel can reach, so one kernel that dispatched on
the feature set and the rollout kind at run time made every first start compile all three
encoders and the rollout policy (about a minute on two cores), even for a player that used
none of them.

Slot arrays are those of kernels.py (`slot_info` columns S_*, `slot_board` the leaf's board,
`slot_hist` its colour history and `slot_moves` its move history, most recent first). A
rollout plays on `slot_board[s]` (the board is spent), so encoders run first.
"""

from __future__ import annotations

import numba as nb

from ..features.agz import encode_agz
from ..features.alphago import encode_alphago, encode_alphago_value
from ..features.registry import AGZ, ALPHAGO, ALPHAGO_VALUE
from ..playout import random_playout
from ..rollout.playout import policy_playout
from .kernels import (P_ROLLOUT_MOVES, S_HIST_LEN, S_LAST_MOVE, S_MOVES_LEN, S_PASSES, S_PREV_MOVE, S_TO_PLAY,
                      S_TREE)


@nb.njit(cache=True)
def encode_leaves_agz(slot_board, slot_hist, slot_moves, slot_info, n_slots, out):
    for s in range(n_slots):
        encode_agz(slot_board[s], slot_hist[s], slot_info[s, S_HIST_LEN], slot_info[s, S_TO_PLAY], out[s])


@nb.njit(cache=True)
def encode_leaves_alphago(slot_board, slot_hist, slot_moves, slot_info, n_slots, out):
    for s in range(n_slots):
        encode_alphago(slot_board[s], slot_moves[s], slot_info[s, S_MOVES_LEN], slot_info[s, S_TO_PLAY], out[s])


@nb.njit(cache=True)
def encode_leaves_alphago_value(slot_board, slot_hist, slot_moves, slot_info, n_slots, out):
    for s in range(n_slots):
        encode_alphago_value(slot_board[s], slot_moves[s], slot_info[s, S_MOVES_LEN], slot_info[s, S_TO_PLAY],
                             out[s])


# feature-set code (registry.py) -> the kernel that encodes a batch of leaves
LEAF_ENCODERS = {AGZ: encode_leaves_agz, ALPHAGO: encode_leaves_alphago, ALPHAGO_VALUE: encode_leaves_alphago_value}


@nb.njit(cache=True, inline="always")
def _outcome(score, komi, to_play):
    margin = score - komi
    if margin == 0:
        return 0.0
    return 1.0 if (margin > 0) == (to_play == 1) else -1.0


@nb.njit(cache=True)
def random_rollouts(slot_board, slot_info, n_slots, komi, rngs, owner, stack, params, slot_rollout):
    """Play every leaf out with uniformly random moves; slot_rollout[s] is the outcome for the
    leaf's player to move (1 win, -1 loss, 0 draw)."""
    max_moves = int(params[P_ROLLOUT_MOVES])
    for s in range(n_slots):
        g = slot_info[s, S_TREE]
        to_play = slot_info[s, S_TO_PLAY]
        score, _ = random_playout(slot_board[s], to_play, slot_info[s, S_PASSES], max_moves, rngs[g], owner[g],
                                  stack[g])
        slot_rollout[s] = _outcome(score, komi[g], to_play)


@nb.njit(cache=True)
def policy_rollouts(slot_board, slot_info, n_slots, komi, rngs, owner, stack, params, rollout_weights,
                    slot_rollout):
    """Like random_rollouts, with moves drawn from the rollout policy (`rollout_weights`)."""
    max_moves = int(params[P_ROLLOUT_MOVES])
    for s in range(n_slots):
        g = slot_info[s, S_TREE]
        to_play = slot_info[s, S_TO_PLAY]
        score, _ = policy_playout(slot_board[s], to_play, slot_info[s, S_PASSES], slot_info[s, S_LAST_MOVE],
                                  slot_info[s, S_PREV_MOVE], max_moves, rngs[g], owner[g], stack[g],
                                  rollout_weights)
        slot_rollout[s] = _outcome(score, komi[g], to_play)
