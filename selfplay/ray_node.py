"""Self-play on a GPU node of a Ray cluster: one actor per GPU runs the inference server of
`inference.py` on that GPU and W search processes beside it, on the same machine, so leaf
batches travel through shared memory and pipes and never over the network.

The driver's pool (`ray_pool.RayWorkerPool` given a `NodePlan`) treats a node actor as one
worker of `run_selfplay`: the actor gets a share of the generation's games as one `WorkerJob`,
under its worker number and attempt, and splits it across its search processes ("lanes"). The
lanes write chunks under that worker number and attempt (the lane in the chunk's name keeps
their names apart), so the driver's books (what a lost worker left on disk, the fence against
late chunks) hold unchanged. A lane that fails ends the node's job: the driver replaces the
actor and gives the new one the games the chunks on disk do not hold. Killing the actor
takes its server and lanes with it (`lifeline.py`), and chunks are written whole, so nothing
half-written is left behind.

Importing this file needs no Ray: `ray_pool.py` makes the class a Ray actor.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import time
from dataclasses import dataclass, replace
from typing import Callable, Optional

from .ray_actors import SelfPlayActor
from .workers import HEARTBEAT_TIMEOUT_S, WorkerJob, take_all, worker_process, worker_seed

COUNTERS_EVERY_S = 1.0
JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class NodePlan:
    """What every node actor runs: an inference server on `device` fed by `workers` search
    processes, for a network with `planes` input planes of `feature_set`."""
    device: str                   # "cuda" (the GPU Ray gave the actor) or "cpu"
    workers: int                  # search processes per node actor (one CPU each)
    planes: int
    feature_set: str = "agz"
    gpus: int = 0                 # GPUs each node actor reserves (0 or 1)
    # A picklable callable that builds the server's evaluator instead of the checkpoint (a
    # stand-in device in benchmarks).
    make_evaluator: Optional[Callable] = None


def plan_nodes(mode: str, device: str, cluster_cpus: int, cluster_gpus: int, workers_per_node: int,
               planes: int, feature_set: str) -> Optional[tuple[NodePlan, int]]:
    """The node plan and the number of node actors for `run.ray_inference = mode`, or None when
    each actor is to evaluate its own network. "auto" means node actors when the cluster has
    GPUs and `device` allows CUDA; "node" also runs them without GPUs, with the server on CPU."""
    cuda = cluster_gpus > 0 and (device == "auto" or device.startswith("cuda"))
    if mode == "actor" or (mode == "auto" and not cuda):
        return None
    if cuda:
        # Ray reports the cluster's totals; nodes of one kind are the usual case, so the CPUs of
        # one GPU are the cluster's CPUs over its GPUs.
        workers = workers_per_node or max(1, cluster_cpus // cluster_gpus)
        count = max(1, min(cluster_gpus, cluster_cpus // workers))
        return NodePlan("cuda", workers, planes, feature_set, gpus=1), count
    workers = workers_per_node or max(1, cluster_cpus)
    return NodePlan("cpu", workers, planes, feature_set), max(1, cluster_cpus // workers)


class NodeSelfPlayActor(SelfPlayActor):
    """Plays each job with the inference server and the search processes of `plan` on this
    node. What it says reaches the driver through `poll` as with `SelfPlayActor`, plus
    ("inference", worker, counters) about once a second: the server's busy seconds, positions,
    batches and seconds up for the job so far."""

    def __init__(self, cache_dir: Optional[str] = None, plan: Optional[NodePlan] = None):
        super().__init__(cache_dir)
        if plan is None:
            raise ValueError("a node actor needs a NodePlan")
        self.plan = plan

    def start_continuous(self, coordinator_box: list, template: WorkerJob) -> None:
        raise NotImplementedError("node actors play generational jobs only")

    def _play(self, job: WorkerJob) -> None:
        import traceback

        try:
            play_on_node(job, self.plan, self.messages)
        except Exception:
            self.messages.put(("error", job.worker_id, traceback.format_exc()))


def lane_shares(num_games: int, lanes: int) -> list[int]:
    lanes = max(1, min(lanes, num_games))
    return [num_games // lanes + (1 if i < num_games % lanes else 0) for i in range(lanes)]


def play_on_node(job: WorkerJob, plan: NodePlan, messages) -> None:
    """Play `job` with an inference server and its search processes on this machine; put what
    they say on `messages` under the job's worker number, and one "done" when all are done.
    Raises when a lane or the server fails, after ending the others."""
    from .inference import InferenceServer, remove_orphan_blocks

    remove_orphan_blocks()  # of a node actor killed here before: its leaves' memory stays otherwise
    shares = lane_shares(job.num_games, plan.workers)
    make = plan.make_evaluator
    if make is None and job.model_path is None:  # a job without a network (tests) plays uniform
        from goengine.evaluator import UniformEvaluator
        make = functools.partial(UniformEvaluator, job.config.board_size, plan.feature_set)
    max_batch = job.config.parallel_games * job.config.search.leaves_per_tree
    server = InferenceServer(job.model_path or "uniform", plan.device, len(shares), max_batch, plan.planes,
                             job.config.board_size, plan.feature_set, make_evaluator=make)
    ctx = mp.get_context("spawn")
    lanes: list[tuple] = []
    with server:
        up_since = time.perf_counter()

        def counters() -> tuple:
            c = server.counters()
            return ("inference", job.worker_id, {"busy_s": c["busy_s"], "positions": c["positions"],
                                                 "batches": c["batches"], "server_s": c["time"] - up_since})

        try:
            for lane, games in enumerate(shares):
                sub = replace(job, lane=lane, num_games=games, seed=worker_seed(job.seed, lane, 0), threads=1,
                              inference=server.client_args(lane))
                q = ctx.Queue()
                p = ctx.Process(target=worker_process, args=(sub, q, os.getpid()), daemon=True)
                p.start()
                lanes.append((p, q))
            _supervise(job.worker_id, lanes, server, messages, counters)
        finally:
            for p, _ in lanes:
                if p.is_alive():
                    p.kill()
            for p, _ in lanes:
                p.join(timeout=JOIN_TIMEOUT_S)
        messages.put(counters())
    messages.put(("done", job.worker_id, None))


def _supervise(worker_id: int, lanes: list[tuple], server, messages, counters) -> None:
    done: set[int] = set()
    errors: dict[int, str] = {}
    heard = [time.monotonic()] * len(lanes)
    sent = time.monotonic()

    def take(lane: int, q) -> bool:
        said = take_all(q)
        for kind, _, payload in said:
            heard[lane] = time.monotonic()
            if kind == "done":
                done.add(lane)
            elif kind == "error":
                errors[lane] = payload
            else:
                messages.put((kind, worker_id, payload))
        return bool(said)

    while len(done) < len(lanes):
        quiet = True
        for lane, (p, q) in enumerate(lanes):
            alive = p.is_alive()
            quiet &= not take(lane, q)  # after the look at the process: an ended lane's last words are in
            if lane in done:
                continue
            if not alive:
                raise RuntimeError(f"search process {lane} ended (exit code {p.exitcode})"
                                   + (f":\n{errors[lane]}" if lane in errors else ""))
            if time.monotonic() - heard[lane] > HEARTBEAT_TIMEOUT_S:
                # The other lanes' words keep the driver's heartbeat going, so a hung lane is
                # caught here.
                raise RuntimeError(f"search process {lane} silent for {HEARTBEAT_TIMEOUT_S:.0f} s")
        if not server.process.is_alive():
            raise RuntimeError(f"the inference server ended (exit code {server.process.exitcode})")
        if time.monotonic() - sent >= COUNTERS_EVERY_S:
            messages.put(counters())
            sent = time.monotonic()
        if quiet:
            time.sleep(0.05)
