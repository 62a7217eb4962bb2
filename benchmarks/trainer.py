"""Trainer throughput: samples/s of the whole training path (sample stream + host-to-device copy
+ forward + backward + optimizer step) against the same network's raw forward+backward+step on
a batch already on the device, measured in one run. Prints one JSON line.

    python benchmarks/trainer.py --size 9 --tag b6c64 --batch 256 --seconds 20 [--device cpu]

The replay window is synthetic: self-play games of a uniform evaluator with few visits (real
records, with cheap searches and ownership), written as chunks into a temporary folder.
Figures printed besides the two rates and their ratio (target >= 0.8):
- dataset_samples_per_s: the sample stream alone on one thread;
- bytes_per_position stored (the window's stones) against feature_bytes_per_position (what
  caching the encoded planes would hold), and whole_game_encode_positions_per_s (encoding
  every position of every game once with `encode_game_positions`, the cost of filling that
  cache).

Measured (9x9, b6c64, batch 256, 64 games): on an H100 with bf16 (16 host cores), raw 18.8k
samples/s, whole path 17.2k with --prefetch 2 (ratio 0.92) and 14.3k with --prefetch 0 (0.73);
dataset alone 0.16-0.21M samples/s. On 2 busy CPU cores (fp32): raw 87, whole path 78 (0.89).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

# goengine.nn before torch: it chooses OpenMP's wait policy, which torch's import fixes
from goengine.nn import NetConfig, build_network  # isort: skip
from goengine.cli_aliases import add_alias  # noqa: E402
import numpy as np
import torch

from goengine.board import new_board
from goengine.evaluator import UniformEvaluator
from goengine.features import encode_game_positions, get_feature_set
from goengine.search import SearchConfig
from selfplay.records import write_chunk
from selfplay.runner import SelfPlayConfig, SelfPlayRunner
from training.dataset import SampleStream
from training.replay import ReplayWindow
from training.trainer import TrainConfig, Trainer


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--tag", default="b6c64")
    p.add_argument("--feature-set", default="agz")
    p.add_argument("--batch-size", type=int, default=256)
    add_alias(p, "--batch", "batch_size", type=int)
    p.add_argument("--seconds", type=float, default=20.0, help="time for each of the two measurements")
    p.add_argument("--games", type=int, default=128, help="synthetic games in the window")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-bf16", action="store_true", help="train in fp32 (default: bf16 autocast on CUDA and on CPUs with native bf16)")
    p.add_argument("--prefetch", type=int, default=None,
                   help="batches built ahead on a thread (default: 2 on CUDA, 0 on the CPU)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def synthetic_window(folder: str, size: int, games: int, seed: int) -> ReplayWindow:
    config = SelfPlayConfig(board_size=size, parallel_games=min(32, games), full_search_prob=0.5,
                            cheap_simulations=2,
                            search=SearchConfig(num_simulations=8, dirichlet_noise=True, leaves_per_tree=4))
    runner = SelfPlayRunner(config, UniformEvaluator(size), "synthetic", seed=seed)
    records = runner.play(games)
    for i in range(0, len(records), 16):
        write_chunk(f"{folder}/{i // 16:06d}.npz", records[i:i + 16])
    return ReplayWindow(folder, games)


def dataset_rate(stream: SampleStream, seconds: float) -> float:
    stream.next_batch()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        count += len(stream.next_batch())
    return count / (time.perf_counter() - start)


def whole_game_encode_rate(window: ReplayWindow, feature_set: str) -> float:
    fs = get_feature_set(feature_set)
    g = window.games
    board = new_board(g.size)

    def encode_all() -> int:
        total = 0
        for i in range(g.num_games):
            m0, m1 = int(g.game_offsets[i]), int(g.game_offsets[i + 1])
            out = np.empty((m1 - m0, fs.num_planes, g.size, g.size), np.uint8)
            total += encode_game_positions(fs.code, fs.history, board, g.locs[m0:m1], g.colors[m0:m1], out)
        return total

    encode_all()  # compile
    start = time.perf_counter()
    positions = encode_all()
    return positions / (time.perf_counter() - start)


def main() -> None:
    args = parse_args()
    fs = get_feature_set(args.feature_set)
    net = NetConfig.from_tag(args.tag, in_planes=fs.num_planes, feature_set=fs.name, board_sizes=(args.size,))
    config = TrainConfig(batch_size=args.batch_size, device=args.device,
                         precision="fp32" if args.no_bf16 else "auto", log_every=10**9)
    model = build_network(net)
    trainer = Trainer(model, net, config)
    cuda = trainer.device.type == "cuda"
    prefetch = args.prefetch if args.prefetch is not None else (2 if cuda else 0)

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        window = synthetic_window(folder, args.size, args.games, args.seed)
        selfplay_s = time.perf_counter() - start
        with SampleStream(window, net, args.batch_size, seed=args.seed) as single:
            data_rate = dataset_rate(single, min(3.0, args.seconds))
        encode_rate = whole_game_encode_rate(window, fs.name)

        # Raw: the same batch, already on the device, stepped repeatedly.
        with SampleStream(window, net, args.batch_size, seed=args.seed + 1) as warm:
            tensors = trainer.to_device(warm.next_batch())
        for _ in range(3):
            trainer.train_step(tensors)
        sync = torch.cuda.synchronize if cuda else (lambda: None)
        sync()
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            for _ in range(8 if cuda else 1):
                trainer.train_step(tensors)
                steps += 1
            sync()
        raw_rate = steps * args.batch_size / (time.perf_counter() - start)

        # The whole path, for about as long.
        with SampleStream(window, net, args.batch_size, seed=args.seed + 2, prefetch=prefetch) as stream:
            trainer.train_steps(stream, 3)
            num_steps = max(3, int(raw_rate * args.seconds / args.batch_size))
            metrics = trainer.train_steps(stream, num_steps)
        trainer_rate = metrics["samples_per_s"]

    print(json.dumps({
        "size": args.size, "tag": args.tag, "feature_set": fs.name, "batch": args.batch_size,
        "device": str(trainer.device), "bf16": trainer.autocast, "torch_threads": torch.get_num_threads(),
        "prefetch": prefetch, "games": window.num_games, "positions": window.num_positions,
        "policy_positions": window.num_policy_positions, "selfplay_s": round(selfplay_s, 1),
        "dataset_samples_per_s": round(data_rate),
        "bytes_per_position": args.size * args.size,
        "feature_bytes_per_position": fs.num_planes * args.size * args.size,
        "whole_game_encode_positions_per_s": round(encode_rate),
        "raw_samples_per_s": round(raw_rate, 1), "trainer_samples_per_s": round(trainer_rate, 1),
        "trainer_steps": num_steps, "ratio": round(trainer_rate / raw_rate, 3),
    }))


if __name__ == "__main__":
    main()
