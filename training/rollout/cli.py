"""`goengine train-rollout`: fit the rollout policy on expert games and report its top-1
accuracy on held-out games.

Training positions come from the supervised trainer's shards (`--shards`) or from SGF files,
folders or archives (`--data`), a few drawn from each game; `--heldout-shards` / `--heldout`
name games used only to report accuracy. The checkpoint (`--out`, a stem)
is written in the format of `goengine.rollout.model`, with the accuracy in its "extra"."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from goengine.coords import DEFAULT_SIZE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shards", nargs="+", default=[],
                        help="expert-position shards (files or folders, `goengine train-sl`'s format) to train on")
    parser.add_argument("--data", nargs="+", default=[], help="or SGF files, folders or archives to train on")
    parser.add_argument("--heldout-shards", nargs="*", default=[], help="shards for the accuracy report only")
    parser.add_argument("--heldout", nargs="*", default=[], help="or SGF sources for the accuracy report only")
    parser.add_argument("--out", required=True, help="checkpoint stem to write (e.g. models/rollout)")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"board size (default {DEFAULT_SIZE})")
    parser.add_argument("--games", type=int, default=None, help="training games to read (default all)")
    parser.add_argument("--per-game", type=int, default=16, help="positions drawn per training game (default 16)")
    parser.add_argument("--heldout-games", type=int, default=1000, help="held-out games to read (default 1000)")
    parser.add_argument("--heldout-per-game", type=int, default=8, help="positions per held-out game (default 8)")
    parser.add_argument("--steps", type=int, default=3000, help="optimiser steps (default 3000)")
    parser.add_argument("--batch-size", type=int, default=256, help="positions per step (default 256)")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam learning rate (default 0.01)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: physical cores)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def run(args: argparse.Namespace) -> int:
    from goengine.rollout.model import RolloutModel

    from .data import positions_from_sgf, positions_from_shards
    from .train import RolloutTrainConfig, accuracy, config_dict, train_rollout_policy

    if args.threads is not None:
        import torch
        torch.set_num_threads(args.threads)
    if bool(args.shards) == bool(args.data):
        print("goengine train-rollout: give training positions by --shards or by --data (one of them)",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    if args.shards:
        train = positions_from_shards(args.shards, per_game=args.per_game, seed=args.seed, max_games=args.games)
    else:
        train = positions_from_sgf(args.data, size=args.size, per_game=args.per_game, seed=args.seed,
                                   max_games=args.games)
    if len(train) == 0:
        sources = ", ".join(map(str, args.shards or args.data))
        print(f"goengine train-rollout: no {args.size}x{args.size} training positions found in {sources}",
              file=sys.stderr)
        return 2
    heldout = None
    if args.heldout_shards:
        heldout = positions_from_shards(args.heldout_shards, per_game=args.heldout_per_game, seed=args.seed + 1,
                                        max_games=args.heldout_games)
    elif args.heldout:
        heldout = positions_from_sgf(args.heldout, size=args.size, per_game=args.heldout_per_game,
                                     seed=args.seed + 1, max_games=args.heldout_games)
    print(f"{len(train)} training positions from {int(train.info[:, -1].max()) + 1} games"
          + (f", {len(heldout)} held-out positions" if heldout is not None else "")
          + f" ({time.monotonic() - started:.0f} s)", flush=True)
    config = RolloutTrainConfig(steps=args.steps, batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed)
    model, history = train_rollout_policy(train, config, log=lambda line: print(line, flush=True))
    kernel = RolloutModel(model.weight_vector()).kernel_weights
    extra = {"train_positions": len(train), "history": history}
    sample = train.subset(slice(0, min(len(train), 5000)))
    extra["train_accuracy"] = accuracy(kernel, sample)
    if heldout is not None:
        extra["heldout_accuracy"] = accuracy(kernel, heldout)
    path = model.save(args.out, step=config.steps, train_config=config_dict(config), extra=extra)
    print(json.dumps({"checkpoint": os.fspath(path), "train_accuracy": extra["train_accuracy"],
                      "heldout_accuracy": extra.get("heldout_accuracy")}), flush=True)
    return 0
