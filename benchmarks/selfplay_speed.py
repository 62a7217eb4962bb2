"""Self-play speed for a training preset: positions (moves) per second and where the time goes.

    python benchmarks/selfplay_speed.py --preset 9x9-quick --seconds 60 [--device cpu|cuda] [--workers W]
        [--backends torch,openvino] [--precision fp32|bf16]
    python benchmarks/selfplay_speed.py --stand-in-ms 20 [--stand-in-workers 1,2,4]
    python benchmarks/selfplay_speed.py --executors local,ray [--worker-counts 1,2] --backends torch
    python benchmarks/selfplay_speed.py --executors ray-node [--worker-counts 1,2] [--device cuda] [--stand-in-ms MS]

prints JSON lines for each network runtime (each with its ratio to torch's figure):
- "inprocess": one process, the preset's lockstep runner with its network on --device, the share
  of wall time spent inside the network's forward pass;
- "workers": the real setup of `goengine train` (W worker processes; with --device cuda, one
  inference process owning the GPU fed through shared memory), positions/s;
- "raw_forward": the network's raw batched throughput at the runner's batch size, measured in
  the same run, so the two can be compared.
With --device cuda the "workers" line also gives the inference server's figures over the same
window: the positions it evaluated per second, its busy fraction (time inside the network) and
the ratio of its positions/s to the raw network's at the server's mean batch size.

--stand-in-ms MS measures that inference-server path without a GPU: the server's network is a
stand-in that takes MS per batch whatever its size (`FixedTimeEvaluator`), so W search
processes keep it busy exactly when they produce leaves faster than it answers. One line per W:
self-play moves/s, the server's positions/s and busy fraction, the stand-in's raw positions/s at
the same mean batch, and the ratio.

--executors local,ray compares worker processes with Ray actors (a private Ray on this machine,
one CPU per core) at each worker count of --worker-counts: positions/s, and Ray's ratio to the
processes at the same count. "ray-node" runs one node actor (`selfplay/ray_node.py`: an
inference server on --device, on a stand-in device with --stand-in-ms, fed by W search processes
on the same node) for each W of --worker-counts, and adds the server's positions/s, busy
fraction and mean batch. Every figure is taken over --seconds after --warmup seconds from the
first move reported, so start-up (Ray's, the actors') is not counted.

The network has random weights (speed does not depend on them; games of a random network are
long, which is the worst case).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from training.config import load_preset  # noqa: E402
from training.loop import TrainingLoop  # noqa: E402
from training.models import create_initial_model, net_config_of  # noqa: E402
from training.rundir import RunDir  # noqa: E402


class TimedEvaluator:
    def __init__(self, inner):
        self.inner, self.feature_set, self.board_size = inner, inner.feature_set, inner.board_size
        self.seconds, self.positions, self.calls = 0.0, 0, 0

    def evaluate(self, features):
        start = time.perf_counter()
        out = self.inner.evaluate(features)
        self.seconds += time.perf_counter() - start
        self.positions += len(features)
        self.calls += 1
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="9x9-quick")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--backends", default=None,
                        help="runtimes to compare, e.g. torch,openvino (default: torch and every installed CPU runtime)")
    parser.add_argument("--precision", default=None, choices=("fp32", "bf16"), help="network precision (default fp32)")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after the first move before timing")
    parser.add_argument("--stand-in-ms", type=float, default=0.0,
                        help="measure the inference server with a stand-in device taking this long per batch")
    parser.add_argument("--stand-in-workers", default="1,2,4", help="search processes per stand-in run")
    parser.add_argument("--executors", default=None, help="compare executors: local, ray, ray-node")
    parser.add_argument("--worker-counts", default="1,2", help="worker counts for --executors")
    args = parser.parse_args()

    from goengine.nn.backends import installed

    backends = (args.backends.split(",") if args.backends else
                ["torch"] + ([] if args.device != "cpu" else [b for b in ("openvino", "onnxruntime") if installed(b)]))
    config = load_preset(args.preset).override([f"run.device={args.device!r}"] + args.set)
    tmp = Path(tempfile.mkdtemp(prefix="selfplay-bench-"))
    run_dir = RunDir(tmp)
    run_dir.create()
    model_id = create_initial_model(run_dir, config)
    stem = str(run_dir.model_stem(model_id))
    loop = TrainingLoop(tmp, config, workers=args.workers, progress=False, log=lambda _: None)
    sp_config = loop._selfplay_config()
    warm_kernels(config, sp_config)
    if args.executors:
        executors(args, config, sp_config, stem, model_id, tmp, backends[0])
        return
    if args.stand_in_ms > 0:
        for count in _counts(args.stand_in_workers):
            print(json.dumps(stand_in(args, config, sp_config, model_id, tmp, count)), flush=True)
        return
    results = {}
    for backend in backends:
        if not args.skip_inprocess:
            results[("inprocess", backend)] = inprocess(args, sp_config, stem, model_id, backend)
        if not args.skip_workers:
            results[("workers", backend)] = workers(args, config, loop, sp_config, stem, model_id, tmp, backend)
        results[("raw_forward", backend)] = raw_forward(args, config, sp_config, stem, backend)
    for (bench, backend), line in results.items():
        base = results.get((bench, "torch"))
        if base is not None:
            line["ratio_to_torch"] = round(line["positions_per_s"] / max(base["positions_per_s"], 1e-9), 2)
        print(json.dumps(line), flush=True)


def _evaluator(args, stem: str, backend: str, threads=None):
    from goengine.nn import load_evaluator
    return load_evaluator(stem, backend=backend, device=args.device, precision=args.precision, threads=threads)


def inprocess(args, sp_config, stem: str, model_id: str, backend: str) -> dict:
    from selfplay.runner import SelfPlayRunner

    evaluator = TimedEvaluator(_evaluator(args, stem, backend))
    runner = SelfPlayRunner(sp_config, evaluator, model_id, seed=1)
    runner.play(sp_config.parallel_games, should_stop=lambda: evaluator.calls >= 3)  # warm up
    evaluator.seconds = evaluator.positions = evaluator.calls = 0
    runner.positions = 0
    start = time.perf_counter()
    deadline = start + args.seconds
    runner.play(10**9, should_stop=lambda: time.perf_counter() > deadline)
    elapsed = time.perf_counter() - start
    return {"bench": "inprocess", "preset": args.preset, "backend": backend,
            "runtime": evaluator.inner.description,
            "positions_per_s": round(runner.positions / elapsed, 1),
            "network_share": round(evaluator.seconds / elapsed, 3),
            "network_positions_per_s": round(evaluator.positions / max(evaluator.seconds, 1e-9)),
            "mean_batch": round(evaluator.positions / max(evaluator.calls, 1), 1)}


def warm_kernels(config, sp_config) -> None:
    """Compile the numba kernels here first, so the workers load them from the cache instead of
    all compiling."""
    from goengine.evaluator import UniformEvaluator
    from goengine.game import GameState
    from goengine.search import BatchedSearch

    warm = BatchedSearch(sp_config.search.with_(num_simulations=16), config.run.board_size, 2,
                         UniformEvaluator(config.run.board_size, "agz"))
    for g in range(2):
        warm.set_root(g, GameState(config.run.board_size))
    warm.search()


def timed_selfplay(args, sp_config, stem, model_id: str, records, count: int, backend: str,
                   pool=None, server=None, counters=None) -> dict:
    """Self-play with `count` workers for --seconds after --warmup: moves/s, and with `server`
    (or `counters`, the node actors' servers' totals) the counters' differences over the same
    window."""
    from selfplay.workers import run_selfplay

    counters = counters or (server.counters if server is not None else None)

    window = {"start": None, "end": None}
    first = [None]

    def on_moves(stats):
        now = time.perf_counter()
        if first[0] is None:
            first[0] = now
        if window["start"] is None and now - first[0] >= args.warmup:
            window["start"] = (now, stats.moves_played, counters() if counters else None)
        if window["start"] is not None:
            window["end"] = (now, stats.moves_played, counters() if counters else None)

    def should_stop():
        return window["start"] is not None and time.perf_counter() - window["start"][0] > args.seconds

    run_selfplay(config=sp_config, num_games=10**6, model_path=stem, model_id=model_id, records_dir=records,
                 sgf_dir=None, chunk_prefix="bench", seed=2, workers=count, games_per_chunk=10**6, backend=backend,
                 precision=args.precision, should_stop=should_stop, on_moves=on_moves, pool=pool,
                 inference=server.client_args if server is not None else None)
    (t0, m0, c0), (t1, m1, c1) = window["start"], window["end"]
    seconds = max(t1 - t0, 1e-9)
    out = {"workers": count, "positions_per_s": round((m1 - m0) / seconds, 1)}
    if counters is not None:
        batches = max(c1["batches"] - c0["batches"], 1)
        clock = "time" if "time" in c1 else "server_s"  # node actors count their servers' seconds up
        up = max(c1[clock] - c0[clock], 1e-9)
        out.update(server_positions_per_s=round((c1["positions"] - c0["positions"]) / up, 1),
                   server_busy_fraction=round((c1["busy_s"] - c0["busy_s"]) / up, 3),
                   server_mean_batch=round((c1["positions"] - c0["positions"]) / batches, 1))
    return out


def workers(args, config, loop, sp_config, stem: str, model_id: str, tmp: Path, backend: str) -> dict:
    """The real thing: worker processes (and the inference server on a GPU), positions/s."""
    from selfplay.workers import worker_threads

    count = loop.workers or max(1, os.cpu_count() or 1)
    line = {"bench": "workers", "preset": args.preset, "backend": backend, "threads_per_worker": worker_threads(count),
            "inference_server": loop._use_inference_server()}
    if loop._use_inference_server():
        from selfplay.inference import InferenceServer

        net = net_config_of(config)
        batch = sp_config.parallel_games * sp_config.search.leaves_per_tree
        with InferenceServer(stem, args.device, count, batch, net.in_planes, config.run.board_size,
                             net.feature_set) as server:
            line.update(timed_selfplay(args, sp_config, stem, model_id, tmp / f"records-{backend}", count, backend,
                                       server=server))
        raw = raw_forward(args, config, sp_config, stem, backend, batch=max(1, int(line["server_mean_batch"])))
        line.update(raw_positions_per_s_at_server_batch=raw["positions_per_s"],
                    ratio_to_raw=round(line["server_positions_per_s"] / max(raw["positions_per_s"], 1e-9), 3))
    else:
        line.update(timed_selfplay(args, sp_config, stem, model_id, tmp / f"records-{backend}", count, backend))
    return line


def stand_in(args, config, sp_config, model_id: str, tmp: Path, count: int) -> dict:
    """W search processes feeding one inference server whose device is a fixed-time stand-in."""
    import functools

    from goengine.evaluator import FixedTimeEvaluator
    from selfplay.inference import InferenceServer

    net = net_config_of(config)
    size = config.run.board_size
    batch = sp_config.parallel_games * sp_config.search.leaves_per_tree
    make = functools.partial(FixedTimeEvaluator, size, net.feature_set, args.stand_in_ms)
    with InferenceServer("stand-in", "cpu", count, batch, net.in_planes, size, net.feature_set,
                         make_evaluator=make) as server:
        line = timed_selfplay(args, sp_config, None, model_id, tmp / f"records-stand-in-{count}", count, "torch",
                              server=server)
    # The stand-in's raw throughput at the server's mean batch: that batch every MS.
    raw = line["server_mean_batch"] / (args.stand_in_ms / 1000.0)
    return {"bench": "stand_in", "preset": args.preset, "stand_in_ms": args.stand_in_ms, **line,
            "raw_positions_per_s_at_server_batch": round(raw, 1),
            "ratio_to_raw": round(line["server_positions_per_s"] / max(raw, 1e-9), 3)}


def executors(args, config, sp_config, stem: str, model_id: str, tmp: Path, backend: str) -> None:
    """Worker processes against Ray actors, at each worker count, in one run."""
    from selfplay.ray_pool import RayWorkerPool
    from selfplay.ray_session import connect
    from selfplay.workers import worker_threads

    names = args.executors.split(",")
    cores = os.cpu_count() or 1
    if "ray" in names or "ray-node" in names:
        # A node actor asks for a CPU per search process: more than the cores only oversubscribes.
        connect("", num_cpus=max([cores] + _counts(args.worker_counts)))
    local = {}
    for name in names:
        for count in _counts(args.worker_counts):
            if name == "ray-node":
                print(json.dumps(ray_node(args, config, sp_config, stem, model_id, tmp, backend, count)), flush=True)
                continue
            # The same network threads per worker on both, so only the executor differs.
            threads = worker_threads(count, cores)
            pool = RayWorkerPool(cpus_per_worker=threads) if name == "ray" else None
            try:
                line = timed_selfplay(args, sp_config, stem, model_id, tmp / f"records-{name}-{count}", count,
                                      backend, pool=pool)
            finally:
                if pool is not None:
                    pool.shutdown()
            line = {"bench": "executor", "executor": name, "preset": args.preset, "backend": backend,
                    "threads_per_worker": threads, **line}
            if name == "local":
                local[count] = line["positions_per_s"]
            elif count in local:
                line["ratio_to_local"] = round(line["positions_per_s"] / max(local[count], 1e-9), 3)
            print(json.dumps(line), flush=True)


def ray_node(args, config, sp_config, stem: str, model_id: str, tmp: Path, backend: str, count: int) -> dict:
    """One node actor: its inference server fed by `count` search processes on this machine."""
    import functools

    from goengine.evaluator import FixedTimeEvaluator
    from selfplay.ray_node import NodePlan
    from selfplay.ray_pool import RayWorkerPool

    net = net_config_of(config)
    cuda = args.device.startswith("cuda")
    stand_in = (functools.partial(FixedTimeEvaluator, config.run.board_size, net.feature_set, args.stand_in_ms)
                if args.stand_in_ms > 0 else None)
    pool = RayWorkerPool(node=NodePlan("cuda" if cuda else "cpu", count, net.in_planes, net.feature_set,
                                       gpus=1 if cuda else 0, make_evaluator=stand_in))
    try:
        line = timed_selfplay(args, sp_config, stem, model_id, tmp / f"records-ray-node-{count}", 1, backend,
                              pool=pool, counters=pool.inference_totals)
    finally:
        pool.shutdown()
        _remove_blocks_of_killed_actors()
    line.update(workers=1, search_processes=count)
    return {"bench": "executor", "executor": "ray-node", "preset": args.preset, "device": args.device,
            "stand_in_ms": args.stand_in_ms or None, **line}


def _remove_blocks_of_killed_actors(wait_s: float = 10.0) -> None:
    """The benchmark stops a node actor by killing it, which leaves its leaf memory behind."""
    from selfplay.inference import BLOCK_PREFIX, SHM_FOLDER, remove_orphan_blocks

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        remove_orphan_blocks()
        if not any(SHM_FOLDER.glob(f"{BLOCK_PREFIX}-*")):
            return
        time.sleep(0.2)


def _counts(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def raw_forward(args, config, sp_config, stem: str, backend: str, batch: int = 0) -> dict:
    """The network's raw batched throughput at `batch` (default: the runner's batch size)."""
    batch = batch or sp_config.parallel_games * sp_config.search.leaves_per_tree
    inner = _evaluator(args, stem, backend)
    x = np.random.default_rng(0).integers(0, 2, size=(batch, net_config_of(config).in_planes, config.run.board_size,
                                                      config.run.board_size), dtype=np.uint8)
    inner.evaluate(x)
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < min(10.0, args.seconds):
        inner.evaluate(x)
        reps += 1
    return {"bench": "raw_forward", "backend": backend, "runtime": inner.description, "batch": batch,
            "positions_per_s": round(reps * batch / (time.perf_counter() - start))}


if __name__ == "__main__":
    main()
