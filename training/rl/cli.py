"""`goengine train-rl`: AlphaGo's policy-gradient reinforcement learning, starting from the SL
policy network, in a resumable run directory (see training/rl/loop.py).

At the end (`--eval-games`), the learner plays the SL policy, both sampling their moves, and the
win rate is printed as a JSON line (AlphaGo's RL policy won 80% against its SL policy). For a
match against GNU Go use `goengine match policy:RUN_DIR/current gtp:"gnugo --mode gtp --level 1"`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from goengine.coords import DEFAULT_SIZE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sl-model", required=True, help="the SL policy checkpoint (stem, .json or .safetensors)")
    parser.add_argument("--run-dir", required=True, help="run directory (created, or resumed when it exists)")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"board size (default {DEFAULT_SIZE})")
    parser.add_argument("--komi", type=float, default=7.5, help="komi (default 7.5)")
    parser.add_argument("--rules", default="chinese", help="rule set preset (default chinese)")
    parser.add_argument("--games-per-iter", type=int, default=32, help="games per iteration (default 32)")
    parser.add_argument("--iterations", type=int, default=100, help="iterations in all, counting resumed ones (default 100)")
    parser.add_argument("--pool-every", type=int, default=10, help="add the learner to the pool every K iterations (default 10)")
    parser.add_argument("--lr", type=float, default=0.001, help="SGD learning rate (default 0.001)")
    parser.add_argument("--baseline", choices=("mean", "none"), default="mean",
                        help="baseline subtracted from the outcome: the iteration's mean outcome, or none")
    parser.add_argument("--max-moves", type=int, default=None, help="move limit of a game (default 2 N^2)")
    parser.add_argument("--eval-games", type=int, default=0, help="games against the SL policy at the end (default 0)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: lockstep batches are small, and more threads "
                             "spin against each other on shared cores)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def run(args: argparse.Namespace) -> int:
    import goengine.nn  # noqa: F401  (sets OpenMP's spin policy before torch loads)
    import torch

    from .loop import RLConfig, RLRun

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    from goengine.nn.checkpoint import read_checkpoint_meta
    from goengine.rules import get_rules

    try:
        read_checkpoint_meta(args.sl_model)  # a wrong path fails here, before the run dir is made
        get_rules(args.rules)
        config = RLConfig(size=args.size, komi=args.komi, rules=args.rules, games_per_iter=args.games_per_iter,
                          iterations=args.iterations, pool_every=args.pool_every, learning_rate=args.lr,
                          baseline=args.baseline, max_moves=args.max_moves, seed=args.seed)
        run_ = RLRun(args.run_dir, args.sl_model, config, device=args.device,
                     log=lambda line: print(line, flush=True))
    except (ValueError, OSError) as e:
        print(f"goengine train-rl: {e}", file=sys.stderr)
        return 2
    run_.train()
    if args.eval_games > 0:
        result = run_.evaluate_against(args.sl_model, args.eval_games)
        result.update({"iteration": run_.iteration, "against": os.fspath(args.sl_model)})
        with open(os.path.join(args.run_dir, "eval.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(result) + "\n")
        print(json.dumps(result), flush=True)
    return 0
