"""The eight symmetries of a square board, for feature planes and policies (numpy only).

A symmetry is an integer k in 0..7. With N the board size and (row, col) counted from the
top-left as in `coords.py`, symmetry k sends the stone at (row, col) to:

| k | transform                              | (row, col) goes to         |
|---|----------------------------------------|----------------------------|
| 0 | identity                               | (row, col)                 |
| 1 | rotate 90 degrees counter-clockwise    | (N-1-col, row)             |
| 2 | rotate 180 degrees                     | (N-1-row, N-1-col)         |
| 3 | rotate 90 degrees clockwise            | (col, N-1-row)             |
| 4 | mirror left-right                      | (row, N-1-col)             |
| 5 | transpose (main diagonal)              | (col, row)                 |
| 6 | mirror top-bottom                      | (N-1-row, col)             |
| 7 | anti-transpose (other diagonal)        | (N-1-col, N-1-row)         |

Equivalently k = 4*m + r: mirror left-right when m is 1, then rotate r quarter turns
counter-clockwise (`np.rot90` over the last two axes). Rotations 1 and 3 are each other's
inverse; every other symmetry is its own inverse (`inverse`). `compose(first, second)` is the
single symmetry equal to applying `first` and then `second`.

Array conventions:
- features: any array whose last two axes are the board, e.g. uint8[B, C, N, N]
  (`features_bchw`). `apply_features` returns a C-contiguous copy, so the result can be handed
  to torch.from_numpy or a numba kernel directly.
- points: any array whose last axis is the N*N board points in action order (row-major from
  the top-left), e.g. ownership float32[B, N*N].
- policy: any array whose last axis is N*N + 1 actions, the pass last; the pass never moves.

If a network is evaluated on `apply_features(x, k)`, its policy is in the transformed frame;
`invert_policy(p, k, size)` brings it back to the frame of x. `action_permutation(k, size)` gives
the same map as an index array for numba kernels: transformed[..., i] = original[..., perm[i]].
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

NUM_SYMMETRIES = 8
_INVERSE = (0, 3, 2, 1, 4, 5, 6, 7)


def _check_k(k: int) -> int:
    if not 0 <= int(k) < NUM_SYMMETRIES:
        raise ValueError(f"symmetry must be in 0..7, got {k!r}")
    return int(k)


def inverse(k: int) -> int:
    """The symmetry that undoes k."""
    return _INVERSE[_check_k(k)]


def _transform_board(x: np.ndarray, k: int) -> np.ndarray:
    """Transform the last two axes of x (a view, possibly with negative strides)."""
    if k >= 4:
        x = np.flip(x, axis=-1)
    return np.rot90(x, k % 4, axes=(-2, -1))


def apply_features(x_bchw: np.ndarray, k: int) -> np.ndarray:
    """Symmetry k applied to the last two (board) axes; returns a C-contiguous copy."""
    k = _check_k(k)
    if x_bchw.ndim < 2 or x_bchw.shape[-1] != x_bchw.shape[-2]:
        raise ValueError(f"expected [..., N, N] features, got shape {x_bchw.shape}")
    return np.array(_transform_board(x_bchw, k), order="C", copy=True)


@lru_cache(maxsize=None)
def _point_permutation(k: int, size: int) -> np.ndarray:
    grid = np.arange(size * size, dtype=np.int64).reshape(size, size)
    perm = np.ascontiguousarray(_transform_board(grid, k)).reshape(-1)
    perm.setflags(write=False)
    return perm


def point_permutation(k: int, size: int) -> np.ndarray:
    """int64[N*N] (read-only): transformed_points[..., i] = points[..., perm[i]]."""
    return _point_permutation(_check_k(k), int(size))


@lru_cache(maxsize=None)
def _action_permutation(k: int, size: int) -> np.ndarray:
    perm = np.append(_point_permutation(k, size), size * size)
    perm.setflags(write=False)
    return perm


def action_permutation(k: int, size: int) -> np.ndarray:
    """int64[N*N+1] (read-only), the pass last and fixed:
    transformed_policy[..., i] = policy[..., perm[i]]."""
    return _action_permutation(_check_k(k), int(size))


def apply_points(p_bp: np.ndarray, k: int, size: int) -> np.ndarray:
    """Symmetry k applied to per-point values (last axis N*N, action order); returns a copy."""
    if p_bp.shape[-1] != size * size:
        raise ValueError(f"expected last axis {size * size} for size {size}, got {p_bp.shape}")
    return p_bp[..., point_permutation(k, size)]


def apply_policy(p_ba: np.ndarray, k: int, size: int) -> np.ndarray:
    """Symmetry k applied to a policy (last axis N*N+1, pass last and fixed); returns a copy."""
    if p_ba.shape[-1] != size * size + 1:
        raise ValueError(f"expected last axis {size * size + 1} for size {size}, got {p_ba.shape}")
    return p_ba[..., action_permutation(k, size)]


def invert_policy(p_ba: np.ndarray, k: int, size: int) -> np.ndarray:
    """Map a policy computed on symmetry-k features back to the original frame."""
    return apply_policy(p_ba, inverse(k), size)


def invert_points(p_bp: np.ndarray, k: int, size: int) -> np.ndarray:
    """Map per-point values computed on symmetry-k features back to the original frame."""
    return apply_points(p_bp, inverse(k), size)


def _composition_table() -> tuple[tuple[int, ...], ...]:
    # Worked out on a 3x3 board, where all eight symmetries give distinct images.
    grid = np.arange(9).reshape(3, 3)
    images = [_transform_board(grid, k) for k in range(NUM_SYMMETRIES)]
    table = []
    for first in range(NUM_SYMMETRIES):
        row = []
        for second in range(NUM_SYMMETRIES):
            both = _transform_board(images[first], second)
            row.append(next(k for k in range(NUM_SYMMETRIES) if np.array_equal(both, images[k])))
        table.append(tuple(row))
    return tuple(table)


_COMPOSE = _composition_table()


def compose(first: int, second: int) -> int:
    """The symmetry equal to applying `first`, then `second`."""
    return _COMPOSE[_check_k(first)][_check_k(second)]
