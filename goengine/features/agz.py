"""AlphaGo Zero's input planes with Leela Zero's edge plane: 18 uint8 planes of [N, N].

| planes | meaning                                                                 |
|--------|-------------------------------------------------------------------------|
| 0-7    | stones of the player to move at t, t-1, ..., t-7 (color_hist rows 0..7) |
| 8-15   | the opponent's stones, same order                                       |
| 16     | all ones when black is to play                                          |
| 17     | all ones: convolutions zero-pad, so this plane is what shows the edge   |

"Own" and "opponent" are fixed by the player to move now, for every history row, as in
AlphaGo Zero. Rows past `hist_len` (before the game start) leave their planes zero.
"""

from __future__ import annotations

import numba as nb

from ..board import BLACK, INFO, SIZE

AGZ_PLANES = 18
AGZ_HISTORY = 8


@nb.njit(cache=True)
def encode_agz(board, color_hist, hist_len, to_play, out):
    """Fill `out` (uint8[18, N, N]) from `color_hist` ([H, L] COLOR rows, row 0 the current
    position, `hist_len` rows valid) for `to_play`."""
    n = board[INFO, SIZE]
    w = n + 2
    opp = 3 - to_play
    rows = min(hist_len, AGZ_HISTORY, color_hist.shape[0])
    for t in range(rows):
        for r in range(n):
            base = (r + 1) * w + 1
            for c in range(n):
                v = color_hist[t, base + c]
                out[t, r, c] = v == to_play
                out[AGZ_HISTORY + t, r, c] = v == opp
    for t in range(rows, AGZ_HISTORY):
        out[t] = 0
        out[AGZ_HISTORY + t] = 0
    out[16] = 1 if to_play == BLACK else 0
    out[17] = 1
