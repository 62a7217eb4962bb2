"""Self-play on a Ray cluster: the same workers as on one machine, as Ray actors.

`RayWorkerPool` is a worker pool for `workers.run_selfplay` (the generational loop): the books
(shares, attempts, restarts, what is on disk) stay in `run_selfplay`, the pool starts
`SelfPlayActor`s, ships each job's checkpoint through the object store (`ShippedWeights`,
put once per sha256) and collects what the actors say. An actor that finished its job waits
idle for the next call; one that failed or went silent is killed and a fresh one takes its
place (its unfinished games are lost; its chunks, written whole, count).

Given a `NodePlan` (`ray_node.py`) the pool's actors are node actors instead, one per GPU: each
runs an inference server and its own search processes on its node, and the pool keeps their
servers' counters (`inference_totals`).

`ContinuousSelfPlay` keeps W actors playing job after job for the asynchronous loop, each
asking the `Coordinator` for the newest network, and replaces those that die.

Every wait is bounded: `ray.wait` with a timeout, `ray.get` with `GET_TIMEOUT_S`.
"""

from __future__ import annotations

import json
from dataclasses import replace
import time
from pathlib import Path
from typing import Any, Callable, Optional

from .ray_actors import Coordinator, SelfPlayActor
from .ray_node import NodePlan, NodeSelfPlayActor
from .ray_session import GET_TIMEOUT_S, actor_errors, import_ray
from .shipped_weights import ShippedWeights
from .workers import SelfPlayStats, WorkerJob, _count_game

POLL_WAIT_S = 0.5
_NO_COUNTS = {"busy_s": 0.0, "positions": 0, "batches": 0, "server_s": 0.0}
MAX_CONTINUOUS_RESTARTS = 20  # per actor slot over a run, before the loop gives up


class ActorSet:
    """Actors by worker id, each with one `poll` call in flight while it plays."""

    def __init__(self):
        self.ray = import_ray()
        self.actors: dict[int, Any] = {}
        self.polls: dict[int, Any] = {}
        self.endings: dict[int, str] = {}  # worker id -> how its play ended ("finished" or why not)

    def watch(self, worker_id: int, actor) -> None:
        self.actors[worker_id] = actor
        self.endings.pop(worker_id, None)
        self.polls[worker_id] = actor.poll.remote(POLL_WAIT_S)

    def playing(self, worker_id: int) -> bool:
        return worker_id in self.polls

    def poll(self, wait_s: float) -> list[tuple]:
        """Messages from every actor that answered within `wait_s`."""
        if not self.polls:
            time.sleep(wait_s)
            return []
        by_ref = {ref: w for w, ref in self.polls.items()}
        ready, _ = self.ray.wait(list(by_ref), num_returns=1, timeout=wait_s)
        if ready:
            more, _ = self.ray.wait([r for r in by_ref if r not in ready], num_returns=len(by_ref) - len(ready),
                                    timeout=0)
            ready = list(ready) + list(more)
        out: list[tuple] = []
        for ref in ready:
            w = by_ref[ref]
            del self.polls[w]
            try:
                answer = self.ray.get(ref, timeout=GET_TIMEOUT_S)
            except actor_errors() as e:
                first_line = (str(e).strip().splitlines() or [""])[0]
                self.endings[w] = f"actor lost ({type(e).__name__}: {first_line})"
                continue
            out += answer["messages"]
            if answer["running"]:
                self.polls[w] = self.actors[w].poll.remote(POLL_WAIT_S)
            else:
                finished = any(m[0] == "done" for m in answer["messages"])
                self.endings[w] = "finished" if finished else "stopped playing"
        return out

    def kill(self, worker_id: int) -> None:
        actor = self.actors.pop(worker_id, None)
        self.polls.pop(worker_id, None)
        if actor is not None:
            try:
                self.ray.kill(actor, no_restart=True)
            except actor_errors():
                pass  # already gone


class WeightsShipper:
    """Puts each checkpoint into the object store once (per sha256) and hands out the ref."""

    def __init__(self):
        self.ray = import_ray()
        self.shipped: dict[str, tuple[str, Any]] = {}  # stem -> (sha256, ref)

    def ref(self, stem: str):
        sha = json.loads(Path(stem + ".json").read_text()).get("weights_sha256")
        known = self.shipped.get(stem)
        if known is None or known[0] != sha:
            weights = ShippedWeights.from_checkpoint(stem)
            known = (weights.sha256, self.ray.put(weights))
            self.shipped[stem] = known
        return known[1]


class RayWorkerPool:
    """A `run_selfplay` pool of Ray actors with `cpus_per_worker` CPUs each (their network
    threads), or with `node`, of node actors that each run `node.workers` search processes and
    an inference server. `shutdown()` ends the idle actors when the caller is done with the pool."""

    def __init__(self, cpus_per_worker: int = 1, cache_dir: Optional[str] = None, node: Optional[NodePlan] = None):
        self.ray = import_ray()
        self.cpus_per_worker = max(1, int(cpus_per_worker))
        self.node = node
        if node is None:
            self.actor_class = self.ray.remote(num_cpus=self.cpus_per_worker, max_restarts=0)(SelfPlayActor)
            self.actor_args: tuple = (cache_dir,)
        else:
            self.actor_class = self.ray.remote(num_cpus=node.workers, num_gpus=node.gpus,
                                               max_restarts=0)(NodeSelfPlayActor)
            self.actor_args = (cache_dir, node)
        self.cache_dir = cache_dir
        self.set = ActorSet()
        self.idle: list = []
        self.shipper = WeightsShipper()
        # Inference server counters: of each node actor's current job, and of the jobs before.
        self.counters: dict[int, dict] = {}
        self.counted = dict(_NO_COUNTS)

    def threads(self, workers: int) -> int:
        return self.cpus_per_worker

    def launch(self, job: WorkerJob) -> None:
        if job.inference is not None:
            raise ValueError("the Ray pool plays with its actors' own networks or inference servers, "
                             "not one given to it")
        actor = self.idle.pop() if self.idle else self.actor_class.remote(*self.actor_args)
        weights = self.shipper.ref(job.model_path) if job.model_path is not None else None
        self._fold(job.worker_id)
        actor.start.remote(job, weights)
        self.set.watch(job.worker_id, actor)

    def _fold(self, worker_id: int) -> None:
        for key, value in self.counters.pop(worker_id, {}).items():
            self.counted[key] += value

    def inference_totals(self) -> dict:
        """The node actors' inference servers since the last `reset_inference`: busy seconds,
        positions, batches and seconds up, summed over servers (busy / up: the busy fraction)."""
        totals = dict(self.counted)
        for counts in self.counters.values():
            for key, value in counts.items():
                totals[key] += value
        return totals

    def reset_inference(self) -> None:
        self.counters.clear()
        self.counted = dict(_NO_COUNTS)

    def poll(self, wait_s: float) -> list[tuple]:
        messages = []
        for message in self.set.poll(wait_s):
            if message[0] == "inference":
                self.counters[message[1]] = message[2]  # cumulative over the job: the last one holds
            else:
                messages.append(message)
        for w, ending in list(self.set.endings.items()):
            if ending == "finished" and w in self.set.actors:
                self.idle.append(self.set.actors.pop(w))  # ready for the next job
        return messages

    def alive(self, worker_id: int) -> bool:
        return self.set.playing(worker_id)

    def stop(self, worker_id: int) -> tuple[list[tuple], Optional[str]]:
        ending = self.set.endings.get(worker_id)
        if ending != "finished":
            self.set.kill(worker_id)
        return [], ending

    def stop_all(self) -> None:
        for w in list(self.set.polls):
            self.set.kill(w)

    def shutdown(self) -> None:
        self.stop_all()
        for actor in self.idle:
            try:
                self.ray.kill(actor, no_restart=True)
            except actor_errors():
                pass
        self.idle.clear()


class ContinuousSelfPlay:
    """W actors playing for the asynchronous loop: each asks the coordinator for the newest
    network, plays `template.num_games` games with it (one job), and asks again. `supervise()`
    collects their reports into `stats` and replaces actors that died or went silent."""

    def __init__(self, coordinator, template: WorkerJob, workers: int, cpus_per_worker: int = 1,
                 cache_dir: Optional[str] = None, silence_s: float = 600.0, log: Callable[[str], None] = print):
        self.ray = import_ray()
        self.actor_class = self.ray.remote(num_cpus=max(1, cpus_per_worker), max_restarts=0)(SelfPlayActor)
        self.coordinator = coordinator
        self.template = template
        self.workers = workers
        self.cache_dir = cache_dir
        self.silence_s = silence_s
        self.log = log
        self.set = ActorSet()
        self.stats = SelfPlayStats()
        self.restarts = [0] * workers
        self.last_heard: dict[int, float] = {}
        self.errors: dict[int, str] = {}

    def _start(self, w: int) -> None:
        actor = self.actor_class.remote(self.cache_dir)
        actor.start_continuous.remote([self.coordinator], replace(self.template, worker_id=w))
        self.set.watch(w, actor)
        self.last_heard[w] = time.monotonic()

    def start(self) -> None:
        for w in range(self.workers):
            self._start(w)

    def supervise(self, wait_s: float = 0.05) -> None:
        for kind, w, payload in self.set.poll(wait_s):
            self.last_heard[w] = time.monotonic()
            if kind == "game":
                _count_game(self.stats, payload)
            elif kind == "moves":
                self.stats.moves_played += payload
            elif kind == "error":
                self.errors[w] = payload
        for w in range(self.workers):
            silent = time.monotonic() - self.last_heard.get(w, time.monotonic())
            if self.set.playing(w) and silent <= self.silence_s:
                continue
            reason = self.errors.pop(w, self.set.endings.get(w) or f"silent for {silent:.0f} s")
            self.set.kill(w)
            self.restarts[w] += 1
            self.stats.restarts += 1
            self.log(f"self-play actor {w} ended ({reason.strip().splitlines()[-1]}); starting another")
            if self.restarts[w] > MAX_CONTINUOUS_RESTARTS:
                raise RuntimeError(f"self-play actor {w} failed {self.restarts[w]} times:\n{reason}")
            self._start(w)

    def stop(self) -> None:
        for w in list(self.set.actors):
            self.set.kill(w)


def coordinator_class():
    """The Coordinator as a Ray actor class that asks for no CPU (it only answers calls)."""
    return import_ray().remote(num_cpus=0, max_restarts=0)(Coordinator)
