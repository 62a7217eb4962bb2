"""A small seeded random generator for numba kernels (xorshift64*), its state in a uint64[1]
array, so that every game and every search can be replayed from its own seed."""

from __future__ import annotations

import numba as nb
import numpy as np


def new_rng(seed: int) -> np.ndarray:
    """A generator state from any integer seed (splitmix64 scrambles it; never zero)."""
    z = (int(seed) + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return np.array([z or 1], dtype=np.uint64)


@nb.njit(cache=True, inline="always")
def next_u64(state):
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(0x2545F4914F6CDD1D)


@nb.njit(cache=True, inline="always")
def randint(state, n):
    """Uniform integer in [0, n) for 0 < n < 2**32."""
    return np.int64(((next_u64(state) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@nb.njit(cache=True, inline="always")
def uniform(state):
    """Uniform float in [0, 1)."""
    return np.float64(next_u64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True)
def draw_cumulative(cumulative, k, state):
    """An index in [0, k) drawn in proportion to the weights whose running sums are
    cumulative[:k] (k >= 1, cumulative[k - 1] > 0)."""
    u = uniform(state) * cumulative[k - 1]
    lo = 0
    hi = k - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] > u:
            hi = mid
        else:
            lo = mid + 1
    return lo
