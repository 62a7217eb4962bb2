"""`goengine train-sl`: build shards from expert SGF games, train the supervised policy network,
report held-out move-prediction accuracy. Rerunning the same command resumes the run.

    goengine train-sl --data GAMES... --heldout GAMES... --run-dir runs/sl --hours 2

The shards are built once per run directory (`run_dir/shards`, `run_dir/heldout`) and reused
while the sources and filter settings stay the same.

Why b6c64 by default (19x19, alphago features, batch 64, SGD). On one CPU thread b4c64 trains
about 135 positions/s, b6c64 about 90 and b6c96 about 35-40; up to 96k samples the three learn
the same per sample (b4c64 and b6c64 annealed over 1500 steps: loss 2.555 and 2.541, top-1 on
unseen training positions 37.4% and 37.3%). Two hours give b6c64 roughly 0.6-1M samples, where
depth starts to pay (a 13x13 receptive field against 9x9 for four layers; published KGS results
gain about ten points of accuracy from 3 to 6 layers), while b6c96 would see under half as many
positions. AdamW (lr 0.002) matched SGD in six-minute runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from goengine.cli_aliases import add_alias
from goengine.coords import DEFAULT_SIZE

from .build import ShardSpec, counts_summary, ensure_shards, manifest_shard_paths
from .filters import GameFilter


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("game filters (training and held-out games alike)")
    group.add_argument("--min-rank", default="6d",
                       help="both players at least this rank, e.g. 6d, 1k, 1p; 'any' keeps every game (default 6d)")
    group.add_argument("--min-moves", type=int, default=50, help="games with fewer moves are skipped (default 50)")
    group.add_argument("--allow-handicap", action="store_true", help="keep handicap games too (default: even games only)")
    group.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"the board size kept (default {DEFAULT_SIZE})")
    add_alias(group, "--board-size", "size", type=int)
    group.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                       help="processes reading SGF (default: up to 4)")


def game_filter(args: argparse.Namespace) -> GameFilter:
    min_rank = None if args.min_rank.strip().lower() in ("", "any", "none") else args.min_rank
    return GameFilter(min_rank=min_rank, min_moves=args.min_moves, allow_handicap=args.allow_handicap,
                      board_size=args.size)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", nargs="+", required=True, metavar="PATH",
                        help="training games: SGF files, folders or .tar.gz archives")
    parser.add_argument("--heldout", nargs="*", default=[], metavar="PATH",
                        help="held-out games for accuracy reports only (never trained on)")
    parser.add_argument("--run-dir", required=True, help="where shards, checkpoints and logs go")
    parser.add_argument("--features", default="alphago", choices=("alphago", "alphago-value", "agz"),
                        help="input feature set (default alphago; alphago-value adds the colour to play)")
    parser.add_argument("--tag", default="b6c64",
                        help="architecture: for --kind policy b<layers>c<filters> of the plain conv stack, e.g. "
                             "b13c192 for AlphaGo's 13 layers of 192 filters; for policy_value b<residual "
                             "blocks>c<filters> (default b6c64)")
    parser.add_argument("--kind", default="policy", choices=("policy", "policy_value"),
                        help="policy: AlphaGo's SL policy (default); policy_value: a residual net that also "
                             "learns each game's outcome, so a search can play it alone (needs --features "
                             "alphago-value or agz)")
    parser.add_argument("--global-pooling", type=int, default=0,
                        help="policy_value: every k-th residual block pools globally (default 0: none)")
    parser.add_argument("--value-weight", type=float, default=0.25,
                        help="policy_value: weight of the outcome's squared error in the loss (default 0.25)")
    parser.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                        help="start a new run from this checkpoint's weights (same --kind, --tag, --features)")
    parser.add_argument("--reset-heads", default="", metavar="HEADS",
                        help="with --init-from: heads to draw afresh, e.g. value (comma-separated: policy,value)")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                        help="auto (default): bf16 autocast on CUDA and on CPUs with native bf16; fp32; bf16")
    parser.add_argument("--hours", type=float, help="run-time budget in hours (resumptions add up)")
    parser.add_argument("--steps", type=int, help="optimizer-step budget")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    add_alias(parser, "--batch", "batch_size", type=int)
    parser.add_argument("--optimizer", default="sgd", choices=("sgd", "adamw"),
                        help="sgd (momentum, as AlphaGo) or adamw (default sgd)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: 0.05 for sgd, 0.002 for adamw)")
    parser.add_argument("--weight-decay", type=float,
                        help="sgd: L2 coefficient (default 1e-4); adamw: decoupled decay (default 0.01)")
    parser.add_argument("--checkpoint-minutes", type=float, default=15.0, help="minutes between checkpoints")
    parser.add_argument("--eval-games", type=int, default=30, help="held-out games evaluated at each checkpoint")
    parser.add_argument("--final-eval-games", type=int, default=200,
                        help="held-out games evaluated at the end (0: all)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: physical cores)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--shard-positions", type=int, default=100_000, help="positions per training shard")
    parser.add_argument("--build-only", action="store_true", help="build the shards and stop")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_filter_arguments(parser)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.hours is None and args.steps is None and not args.build_only:
        _log("train-sl: give a budget with --hours or --steps")
        return 2
    flt = game_filter(args)
    run_dir = args.run_dir
    start = time.perf_counter()
    train_manifest = ensure_shards(args.data, os.path.join(run_dir, "shards"),
                                   ShardSpec(flt, shuffle=True, seed=args.seed, shard_positions=args.shard_positions,
                                             prefix="train"), workers=args.workers, log=_log)
    _log(f"training games: {counts_summary(train_manifest)} (built in {train_manifest['build_seconds']} s)")
    heldout_paths = []
    if args.heldout:
        heldout_manifest = ensure_shards(args.heldout, os.path.join(run_dir, "heldout"),
                                         ShardSpec(flt, shuffle=False, prefix="heldout"), workers=args.workers, log=_log)
        _log(f"held-out games: {counts_summary(heldout_manifest)} (built in {heldout_manifest['build_seconds']} s)")
        heldout_paths = manifest_shard_paths(os.path.join(run_dir, "heldout"), heldout_manifest)
    _log(f"shards ready in {time.perf_counter() - start:.0f} s")
    if args.build_only:
        return 0

    from .shards import load_shards
    from .trainer import SLConfig, SLRun

    defaults = {"sgd": (0.05, 1e-4), "adamw": (0.002, 0.01)}[args.optimizer]
    config = SLConfig(feature_set=args.features, tag=args.tag, board_size=args.size, batch_size=args.batch_size,
                      optimizer=args.optimizer, learning_rate=args.lr or defaults[0],
                      weight_decay=defaults[1] if args.weight_decay is None else args.weight_decay,
                      hours=args.hours, steps=args.steps, checkpoint_minutes=args.checkpoint_minutes,
                      eval_games=args.eval_games, final_eval_games=args.final_eval_games, seed=args.seed,
                      device=args.device, threads=args.threads, kind=args.kind,
                      global_pooling=args.global_pooling, value_weight=args.value_weight, precision=args.precision,
                      init_from=args.init_from,
                      reset_heads=tuple(h for h in args.reset_heads.split(",") if h.strip()))
    heldout = load_shards(heldout_paths) if heldout_paths else None
    train_paths = manifest_shard_paths(os.path.join(run_dir, "shards"), train_manifest)
    run = SLRun(run_dir, config, train_paths, heldout, log=_log, progress_bar=not args.no_progress,
                data_key=train_manifest["key"])
    try:
        report = run.train()
    except KeyboardInterrupt:
        return 130
    print(json.dumps({"checkpoint": run.last_checkpoint, "step": run.step, "samples": run.samples,
                      "minutes": round(run.seconds / 60, 2), "heldout": report}, indent=2))
    return 0
