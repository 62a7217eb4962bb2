"""`goengine train-value`: AlphaGo's value network, trained on one position per self-play game.

Run directory: `data/batch-NNNNNN.npz` (each a `ValuePositions` of one batch of games; the
generation resumes where it stopped), `value.{json,safetensors}` (the network) and
`report.json` (train, validation and held-out MSE and sign accuracy). Held-out positions are a
fixed random share of the games, never trained on nor used to choose anything; a validation share
of the training games picks the best training step. Each game gives one position, so no game is
on two sides."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from goengine.coords import DEFAULT_SIZE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rl-model", required=True, help="the RL policy checkpoint (plays from move U+1 to the end)")
    parser.add_argument("--sl-model", default=None,
                        help="the SL policy checkpoint (plays moves 1..U-1; default: the RL policy)")
    parser.add_argument("--run-dir", required=True, help="run directory (created, or resumed)")
    parser.add_argument("--games", type=int, default=1000, help="self-play games, one position each (default 1000)")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"board size (default {DEFAULT_SIZE})")
    parser.add_argument("--komi", type=float, default=7.5, help="komi (default 7.5)")
    parser.add_argument("--rules", default="chinese", help="rule set preset of the games (default chinese)")
    parser.add_argument("--u-max", type=int, default=None, help="U is uniform on 1..u-max (default N*N)")
    parser.add_argument("--batch-games", type=int, default=64, help="games played in lockstep (default 64)")
    parser.add_argument("--feature-set", default="alphago-value", help="value net features (default alphago-value)")
    parser.add_argument("--test-fraction", type=float, default=0.1, help="share of games held out (default 0.1)")
    parser.add_argument("--validation-fraction", type=float, default=0.1,
                        help="share of the training games kept aside to pick the best step (default 0.1; 0: none)")
    parser.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    parser.add_argument("--batch-size", type=int, default=128, help="positions per step (default 128)")
    parser.add_argument("--blocks", type=int, default=6, help="conv layers of the value net (default 6)")
    parser.add_argument("--channels", type=int, default=32, help="filters per layer (default 32)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: lockstep batches are small, and more threads "
                             "spin against each other on shared cores)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _generate(args: argparse.Namespace, data_dir: Path) -> None:
    from ..rl.policy import TorchPolicy
    from .generate import value_games

    rl = TorchPolicy.from_checkpoint(args.rl_model, device=args.device, name="rl")
    sl = TorchPolicy.from_checkpoint(args.sl_model, device=args.device, name="sl") if args.sl_model else rl
    batches = -(-args.games // args.batch_games)
    for k in range(batches):
        path = data_dir / f"batch-{k:06d}.npz"
        if path.is_file():
            continue
        started = time.monotonic()
        count = min(args.batch_games, args.games - k * args.batch_games)
        positions, dropped = value_games(sl, rl, count, args.size, seed=args.seed * 1_000_003 + k,
                                         feature_set=args.feature_set, komi=args.komi, u_max=args.u_max,
                                         rules=args.rules)
        tmp = data_dir / f".batch-{k:06d}.tmp.npz"
        positions.save(tmp)
        os.replace(tmp, path)
        print(f"batch {k + 1}/{batches}: {len(positions)} positions, {dropped} games ended before U "
              f"({time.monotonic() - started:.0f} s)", flush=True)


def run(args: argparse.Namespace) -> int:
    import goengine.nn  # noqa: F401  (sets OpenMP's spin policy before torch loads)
    import numpy as np
    import torch

    from goengine.features import get_feature_set
    from goengine.nn import save_checkpoint

    from .generate import ValuePositions
    from .train import ValueTrainConfig, predict, train_value_net, value_metrics, value_net_config

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if not 0.0 < args.test_fraction < 1.0 or not 0.0 <= args.validation_fraction < 1.0:
        print("goengine train-value: --test-fraction must be in (0, 1) and --validation-fraction in [0, 1)",
              file=sys.stderr)
        return 2
    from goengine.nn.checkpoint import read_checkpoint_meta
    from goengine.rules import get_rules

    try:
        get_rules(args.rules)
    except ValueError as e:
        print(f"goengine train-value: {e}", file=sys.stderr)
        return 2
    for model in (args.rl_model, args.sl_model):
        if model:
            read_checkpoint_meta(model)  # a wrong path fails here, before the run dir is made
    run_dir = Path(args.run_dir)
    data_dir = run_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    _generate(args, data_dir)
    files = sorted(data_dir.glob("batch-*.npz"))
    data = ValuePositions.concatenate([ValuePositions.load(p) for p in files])
    order = np.random.default_rng(args.seed).permutation(len(data))
    n_test = max(1, int(round(args.test_fraction * len(data))))
    n_val = int(round(args.validation_fraction * (len(data) - n_test)))
    test = data.subset(order[:n_test])
    validation = data.subset(order[n_test:n_test + n_val]) if n_val > 0 else None
    train = data.subset(order[n_test + n_val:])
    print(f"{len(train)} training, {n_val} validation and {len(test)} held-out positions", flush=True)
    fs = get_feature_set(args.feature_set)
    config = ValueTrainConfig(steps=args.steps, batch_size=args.batch_size, learning_rate=args.lr,
                              blocks=args.blocks, channels=args.channels, seed=args.seed)
    net_config = value_net_config(config, fs.name, fs.num_planes, args.size)
    model, history = train_value_net(train, config, net_config, device=args.device,
                                     log=lambda line: print(line, flush=True), validation=validation)
    report = {"train": value_metrics(predict(model, train.features, args.device), train.outcome),
              "validation": (value_metrics(predict(model, validation.features, args.device), validation.outcome)
                             if validation is not None else None),
              "test": value_metrics(predict(model, test.features, args.device), test.outcome),
              "test_outcome_mean": float(test.outcome.mean()), "history": history,
              "rl_model": os.fspath(args.rl_model), "sl_model": args.sl_model}
    save_checkpoint(run_dir / "value", model, net_config, step=config.steps, model_id="value-000001",
                    train_config=config.as_dict(), extra={"train": report["train"], "test": report["test"]})
    (run_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"checkpoint": os.fspath(run_dir / "value.json"), "train": report["train"],
                      "test": report["test"]}), flush=True)
    return 0
