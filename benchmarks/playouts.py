"""Random playouts per second on one core.

    python benchmarks/playouts.py --size 9 --seconds 10

prints one JSON line: {"size": 9, "playouts_per_s": ..., "moves_per_s": ..., ...}. The timed
loop runs inside numba (copy the empty board, play out, score), so the figure is the kernel's,
not Python's. `--first-playout` also reports the time to import the board and run one playout
in a fresh process (warm numba cache)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle BLAS threads only add noise here

import numba as nb  # noqa: E402

from goengine.board import new_board  # noqa: E402
from goengine.playout import default_max_moves, playout_scratch, random_playout  # noqa: E402
from goengine.rng import new_rng  # noqa: E402


@nb.njit(cache=True)
def _run(root, scratch, rng, owner, stack, count, max_moves):
    moves = 0
    black_wins = 0
    for _ in range(count):
        scratch[:] = root
        score, n = random_playout(scratch, 1, 0, max_moves, rng, owner, stack)
        moves += n
        if score > 0:
            black_wins += 1
    return moves, black_wins


def measure(size: int, seconds: float, seed: int = 1) -> dict:
    root, scratch, rng = new_board(size), new_board(size), new_rng(seed)
    owner, stack = playout_scratch(root)
    max_moves = default_max_moves(size)
    _run(root, scratch, rng, owner, stack, 10, max_moves)  # compile or load from cache
    playouts = moves = 0
    chunk = max(10, int(20000 * (81 / (size * size))))
    best = 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        m, _ = _run(root, scratch, rng, owner, stack, chunk, max_moves)
        dt = time.perf_counter() - t
        best = max(best, chunk / dt)
        playouts += chunk
        moves += m
    elapsed = time.perf_counter() - start
    return {"size": size, "playouts_per_s": round(playouts / elapsed), "moves_per_s": round(moves / elapsed),
            "best_chunk_playouts_per_s": round(best), "moves_per_playout": round(moves / playouts, 1),
            "seconds": round(elapsed, 1), "numba_opt": os.environ.get("NUMBA_OPT", "default")}


def first_playout_seconds(size: int) -> float:
    code = ("import time; t=time.perf_counter();"
            "from goengine.board import new_board; from goengine.playout import random_playout, playout_scratch;"
            "from goengine.rng import new_rng; b=new_board(%d); o,s=playout_scratch(b);"
            "random_playout(b,1,0,3*%d*%d,new_rng(1),o,s); print(time.perf_counter()-t)") % (size, size, size)
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # warm the cache
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-playout", action="store_true", help="also time import + first playout")
    args = parser.parse_args()
    result = measure(args.size, args.seconds, args.seed)
    if args.first_playout:
        result["import_and_first_playout_s"] = round(first_playout_seconds(args.size), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
