"""Speed of rollout-policy playouts: microseconds per move of a whole playout from the empty
board, every move chosen by the linear softmax over the rollout features.

    python benchmarks/rollout_policy.py --size 19 --seconds 10 [--model CHECKPOINT]

prints one JSON line: {"size": 19, "us_per_move": ..., "cpu_us_per_move": ..., ...}. The timed
loop runs inside numba. `cpu_us_per_move` is process CPU time, steadier than wall time on a
shared machine; `random_us_per_move` is the uniform random playout on the same board, for
scale. `us_per_move` is `policy_playout`, which updates weights incrementally from
INCREMENTAL_FROM_SIZE up; `reference_cpu_us_per_move` and `incremental_cpu_us_per_move` time
both ways on the same playouts (same seeds, so the same moves), and `speedup` is their ratio.
Without --model the weights are random normals (the speed hardly depends on them)."""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numba as nb  # noqa: E402
import numpy as np  # noqa: E402

from goengine.board import new_board  # noqa: E402
from goengine.playout import default_max_moves, playout_scratch, random_playout  # noqa: E402
from goengine.rng import new_rng  # noqa: E402
from goengine.rollout import NUM_FEATURES, RolloutModel, load_rollout_model, policy_playout  # noqa: E402
from goengine.rollout.incremental import incremental_playout, new_scratch  # noqa: E402
from goengine.rollout.playout import reference_playout  # noqa: E402


@nb.njit(cache=True)
def _policy_run(root, scratch, rng, owner, stack, count, max_moves, weights):
    moves = 0
    for _ in range(count):
        scratch[:] = root
        _, n = policy_playout(scratch, 1, 0, -1, -1, max_moves, rng, owner, stack, weights)
        moves += n
    return moves


@nb.njit(cache=True)
def _reference_run(root, scratch, rng, owner, stack, count, max_moves, weights):
    moves = 0
    for _ in range(count):
        scratch[:] = root
        _, n = reference_playout(scratch, 1, 0, -1, -1, max_moves, rng, owner, stack, weights)
        moves += n
    return moves


@nb.njit(cache=True)
def _incremental_run(root, scratch, rng, owner, stack, count, max_moves, weights, cache, point_weights, mark,
                     lists, locs, cumulative, small):
    moves = 0
    for _ in range(count):
        scratch[:] = root
        _, n = incremental_playout(scratch, 1, 0, -1, -1, max_moves, rng, owner, stack, weights, cache,
                                   point_weights, mark, lists, locs, cumulative, small)
        moves += n
    return moves


@nb.njit(cache=True)
def _random_run(root, scratch, rng, owner, stack, count, max_moves):
    moves = 0
    for _ in range(count):
        scratch[:] = root
        _, n = random_playout(scratch, 1, 0, max_moves, rng, owner, stack)
        moves += n
    return moves


def _timed(run, seconds: float) -> tuple[int, float, float]:
    moves = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < seconds:
        moves += run()
    return moves, time.perf_counter() - wall0, time.process_time() - cpu0


def measure(size: int, seconds: float, weights: np.ndarray, seed: int = 1) -> dict:
    root, scratch, rng = new_board(size), new_board(size), new_rng(seed)
    owner, stack = playout_scratch(root)
    max_moves = default_max_moves(size)
    _policy_run(root, scratch, rng, owner, stack, 1, max_moves, weights)  # compile or load
    _random_run(root, scratch, rng, owner, stack, 1, max_moves)
    moves, wall, cpu = _timed(lambda: _policy_run(root, scratch, rng, owner, stack, 5, max_moves, weights), seconds)
    r_moves, r_wall, r_cpu = _timed(lambda: _random_run(root, scratch, rng, owner, stack, 200, max_moves),
                                    max(1.0, seconds / 4))
    # Both implementations on the same playouts: the same seeds give the same moves.
    work = new_scratch(root.shape[1])
    playouts = max(2, int(2000 / size))
    _reference_run(root, scratch, new_rng(seed), owner, stack, 1, max_moves, weights)
    _incremental_run(root, scratch, new_rng(seed), owner, stack, 1, max_moves, weights, *work)
    cpu0 = time.process_time()
    ref_moves = _reference_run(root, scratch, new_rng(seed + 1), owner, stack, playouts, max_moves, weights)
    cpu1 = time.process_time()
    inc_moves = _incremental_run(root, scratch, new_rng(seed + 1), owner, stack, playouts, max_moves, weights, *work)
    cpu2 = time.process_time()
    ref_us, inc_us = (cpu1 - cpu0) / ref_moves * 1e6, (cpu2 - cpu1) / inc_moves * 1e6
    return {"size": size, "us_per_move": round(wall / moves * 1e6, 2), "cpu_us_per_move": round(cpu / moves * 1e6, 2),
            "moves": moves, "seconds": round(wall, 1),
            "random_us_per_move": round(r_wall / r_moves * 1e6, 3),
            "random_cpu_us_per_move": round(r_cpu / r_moves * 1e6, 3),
            "reference_cpu_us_per_move": round(ref_us, 2), "incremental_cpu_us_per_move": round(inc_us, 2),
            "speedup": round(ref_us / inc_us, 2), "same_moves": ref_moves == inc_moves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=19)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--model", default=None, help="rollout checkpoint (default: random weights)")
    args = parser.parse_args()
    if args.model:
        weights = load_rollout_model(args.model).kernel_weights
    else:
        weights = RolloutModel(np.random.default_rng(0).normal(0, 1, NUM_FEATURES).astype(np.float32)).kernel_weights
    result = measure(args.size, args.seconds, weights)
    result["model"] = args.model
    print(json.dumps(result))


if __name__ == "__main__":
    main()
