"""Self-play speed for a training preset: positions (moves) per second and where the time goes.

    python benchmarks/selfplay_speed.py --preset 9x9-quick --seconds 60 [--device cpu|cuda] [--workers W]
        [--backends torch,openvino] [--precision fp32|bf16]

prints JSON lines for each network runtime (each with its ratio to torch's figure):
- "inprocess": one process, the preset's lockstep runner with its network on --device, the share
  of wall time spent inside the network's forward pass;
- "workers": the real setup of `goengine train` (W worker processes; with --device cuda, one
  inference process owning the GPU fed through shared memory), positions/s;
- "raw_forward": the network's raw batched throughput at the runner's batch size, measured in
  the same run, so the two can be compared.
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


def workers(args, config, loop, sp_config, stem: str, model_id: str, tmp: Path, backend: str) -> dict:
    """The real thing: worker processes (and the inference server on a GPU), positions/s."""
    from selfplay.workers import run_selfplay, worker_threads

    batch = sp_config.parallel_games * sp_config.search.leaves_per_tree
    deadline = [None]
    count = loop.workers or max(1, os.cpu_count() or 1)
    kwargs = dict(config=sp_config, num_games=10**6, model_path=stem, model_id=model_id,
                  records_dir=tmp / f"records-{backend}", sgf_dir=None, chunk_prefix="bench", seed=2,
                  workers=count, games_per_chunk=10**6, backend=backend, precision=args.precision,
                  should_stop=lambda: deadline[0] is not None and time.perf_counter() > deadline[0])
    counts = {"moves": 0, "first": None}

    def on_moves(stats):
        # Time from the first report on (workers are warm by then) for --seconds.
        now = time.perf_counter()
        if counts["first"] is None:
            counts["first"] = (now, stats.moves_played)
            deadline[0] = now + args.seconds
        counts["moves"], counts["last"] = stats.moves_played, now

    kwargs["on_moves"] = on_moves
    if loop._use_inference_server():
        from selfplay.inference import InferenceServer

        net = net_config_of(config)
        with InferenceServer(stem, args.device, kwargs["workers"], batch, net.in_planes, config.run.board_size,
                             net.feature_set) as server:
            run_selfplay(**kwargs, inference=server.client_args)
    else:
        run_selfplay(**kwargs)
    t0, p0 = counts["first"]
    rate = (counts["moves"] - p0) / max(counts["last"] - t0, 1e-9)
    return {"bench": "workers", "preset": args.preset, "backend": backend, "workers": count,
            "threads_per_worker": worker_threads(count),
            "inference_server": loop._use_inference_server(), "positions_per_s": round(rate, 1)}


def raw_forward(args, config, sp_config, stem: str, backend: str) -> dict:
    """The network's raw batched throughput at the runner's batch size, in the same run."""
    batch = sp_config.parallel_games * sp_config.search.leaves_per_tree
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
