"""Search speed: simulations per second for the search alone, with a network, and with rollouts.

    python benchmarks/search.py --size 9 [--seconds 10] [--games 32] [--leaves 8] [--device cpu]

prints JSON lines:
- "uniform": the search alone (a uniform evaluator: selection, replay, legal moves, agz
  features, expansion, backup) on one core, batched across --games trees;
- "network": a b6c64 PolicyValueNet (random weights: speed does not depend on them) on the
  same batches, with the share of the wall time spent inside the network's forward pass;
- "rollouts": the classical search (rollout_lambda 1, no network) against the raw playout
  kernel measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from goengine.cli_aliases import add_alias  # noqa: E402
import numpy as np  # noqa: E402

from goengine.coords import loc_of_vertex  # noqa: E402
from goengine.evaluator import UniformEvaluator  # noqa: E402
from goengine.game import GameState  # noqa: E402
from goengine.search import BatchedSearch, SearchConfig  # noqa: E402


class TimedEvaluator:
    """Wraps an evaluator and accumulates the time spent inside it."""

    def __init__(self, inner):
        self.inner = inner
        self.feature_set = inner.feature_set
        self.board_size = inner.board_size
        self.seconds = 0.0
        self.positions = 0

    def evaluate(self, features):
        start = time.perf_counter()
        out = self.inner.evaluate(features)
        self.seconds += time.perf_counter() - start
        self.positions += len(features)
        return out


def opening(size: int) -> GameState:
    game = GameState(size, komi=7.5)
    centre = size // 2
    for row, col in ((centre, centre), (centre - 2, centre + 1), (centre + 1, centre - 2)):
        game.play(loc_of_vertex(f"{'ABCDEFGHJKLMNOPQRSTUVWXYZ'[col]}{size - row}", size))
    return game


def run_searches(search: BatchedSearch, game: GameState, seconds: float) -> tuple[int, float]:
    sims = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for g in range(search.num_trees):
            search.set_root(g, game)
        results = search.search()
        sims += sum(r.num_simulations for r in results)
    return sims, time.perf_counter() - start


def bench_uniform(size, games, leaves, sims, seconds):
    evaluator = TimedEvaluator(UniformEvaluator(size, "agz"))
    search = BatchedSearch(SearchConfig(num_simulations=sims, leaves_per_tree=leaves), size, games, evaluator)
    game = opening(size)
    run_searches(search, game, 0.1)  # compile / warm
    evaluator.seconds = 0.0
    done, elapsed = run_searches(search, game, seconds)
    return {"bench": "uniform", "size": size, "games": games, "leaves_per_tree": leaves,
            "simulations_per_s": round(done / elapsed), "evaluator_share": round(evaluator.seconds / elapsed, 3)}


def bench_network(size, games, leaves, sims, seconds, device, tag):
    import torch

    from goengine.nn import NetConfig, TorchEvaluator, build_network

    config = NetConfig.from_tag(tag, kind="policy_value", in_planes=18, feature_set="agz", board_sizes=(size,))
    model = build_network(config)
    inner = TorchEvaluator(model, config, device=device)
    evaluator = TimedEvaluator(inner)
    search = BatchedSearch(SearchConfig(num_simulations=sims, leaves_per_tree=leaves), size, games, evaluator)
    game = opening(size)
    run_searches(search, game, 0.5)
    evaluator.seconds, evaluator.positions = 0.0, 0
    done, elapsed = run_searches(search, game, seconds)
    # The raw forward pass at the same batch size, for comparison.
    batch = games * leaves
    x = np.random.default_rng(0).integers(0, 2, size=(batch, 18, size, size), dtype=np.uint8)
    inner.evaluate(x)
    start = time.perf_counter()
    reps = 0
    while time.perf_counter() - start < min(seconds, 5.0):
        inner.evaluate(x)
        reps += 1
    raw = reps * batch / (time.perf_counter() - start)
    return {"bench": "network", "size": size, "tag": tag, "device": device, "games": games,
            "leaves_per_tree": leaves, "batch": batch, "simulations_per_s": round(done / elapsed),
            "network_share": round(evaluator.seconds / elapsed, 3),
            "raw_forward_positions_per_s": round(raw), "torch_threads": torch.get_num_threads()}


def bench_rollouts(size, sims, seconds):
    from playouts import measure

    search = BatchedSearch(SearchConfig(num_simulations=sims, rollout_lambda=1.0, leaves_per_tree=1), size, 1, None)
    game = opening(size)
    run_searches(search, game, 0.1)
    done, elapsed = run_searches(search, game, seconds)
    raw = measure(size, min(seconds, 5.0))
    return {"bench": "rollouts", "size": size, "playouts_per_s": round(done / elapsed),
            "raw_playouts_per_s": raw["playouts_per_s"], "ratio": round(done / elapsed / raw["playouts_per_s"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--games", type=int, default=32)
    parser.add_argument("--leaves", type=int, default=8)
    parser.add_argument("--visits", type=int, default=800)
    add_alias(parser, "--simulations", "visits", type=int)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tag", default="b6c64")
    parser.add_argument("--only", choices=["uniform", "network", "rollouts"], default=None)
    args = parser.parse_args()
    if args.only in (None, "uniform"):
        print(json.dumps(bench_uniform(args.size, args.games, args.leaves, args.visits, args.seconds)), flush=True)
    if args.only in (None, "network"):
        print(json.dumps(bench_network(args.size, args.games, args.leaves, args.visits, args.seconds,
                                       args.device, args.tag)), flush=True)
    if args.only in (None, "rollouts"):
        print(json.dumps(bench_rollouts(args.size, 10000, args.seconds)), flush=True)


if __name__ == "__main__":
    main()
