"""`goengine eval-policy`: move-prediction accuracy of any policy checkpoint (PolicyNet or
PolicyValueNet) on expert games, printed as one JSON object.

    goengine eval-policy --model runs/sl/models/sl-0012000-b6c64 --data HELDOUT_GAMES [--max-games 500] [--symmetries]

--data takes SGF files, folders or archives (read and filtered like the training games), or a
folder of shards holding a manifest.json (`train-sl` writes one to RUN_DIR/heldout).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from goengine.cli_aliases import add_alias

from .build import MANIFEST, counts_summary, manifest_complete, manifest_shard_paths, read_games, read_manifest
from .cli import add_filter_arguments, game_filter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="checkpoint stem, .json or .safetensors path, or bundled:NAME (a network shipped with the package)")
    parser.add_argument("--data", nargs="+", required=True, metavar="PATH",
                        help="SGF files, folders or archives, or a shard folder with a manifest.json")
    parser.add_argument("--max-games", type=int, default=0, help="games spread evenly over the set (default: all)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: physical cores)")
    parser.add_argument("--batch-size", type=int, default=256, help="positions per network call (default 256)")
    add_alias(parser, "--batch", "batch_size", type=int)
    parser.add_argument("--symmetries", action="store_true",
                        help="average each position over the 8 board symmetries, as a policy:NET player does (8x the work)")
    add_filter_arguments(parser)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from goengine.nn import load_checkpoint, physical_cores, resolve_device  # isort: skip
    import torch

    from .evaluate import evaluate_policy, spread_games
    from .shards import load_shards

    model_path = args.model
    if model_path.startswith("bundled:"):  # before reading the games, so a wrong name fails at once
        from goengine.networks import bundled
        model_path = bundled(model_path[len("bundled:"):]).stem
    data_counts = None
    if len(args.data) == 1 and (Path(args.data[0]) / MANIFEST).is_file():
        manifest = read_manifest(args.data[0])
        if not manifest_complete(manifest, args.data[0]):
            _log(f"eval-policy: the shards in {args.data[0]} are incomplete; rebuild them")
            return 2
        shard = load_shards(manifest_shard_paths(args.data[0], manifest))
        data_counts = manifest["counts"]
        _log(f"shards: {counts_summary(manifest)}")
    else:
        shard, data_counts = read_games(args.data, game_filter(args), workers=args.workers, log=_log)
        _log(f"games: {counts_summary({'counts': data_counts})}")
    device = torch.device(resolve_device(args.device))
    if device.type == "cpu":
        torch.set_num_threads(args.threads or physical_cores())
    model, config, meta = load_checkpoint(model_path, device=device)
    if config.board_size not in (None, shard.board_size):
        _log(f"eval-policy: the network was trained on {config.board_size}x{config.board_size}, "
             f"the games are {shard.board_size}x{shard.board_size}")
    games = spread_games(shard, args.max_games or None)
    report = evaluate_policy(model, config, games, device=device, batch_size=args.batch_size,
                             symmetries=args.symmetries)
    report.update(symmetries=8 if args.symmetries else 1, model=os.fspath(args.model), model_id=meta.get("model_id"), step=meta.get("step"),
                  feature_set=config.feature_set, network=meta.get("network_class"),
                  data=[os.fspath(d) for d in args.data],
                  data_counts={k: v for k, v in data_counts.items() if k != "examples"})
    print(json.dumps(report, indent=2))
    return 0
