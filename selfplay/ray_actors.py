"""The self-play actor and the coordinator of the asynchronous loop, as plain classes that
`ray_pool.py` turns into Ray actors (`ray.remote(...)(SelfPlayActor)`), so importing this file
needs no Ray.

A `SelfPlayActor` plays on a background thread with the same `worker_main` as a worker
process (lockstep games, batched evaluation, chunks written atomically into the shared records
folder) and keeps what it says in a queue; the driver collects it with `poll`, which answers
within `wait_s`, so the driver hears of a lost actor through the error its `poll` raises. Weights
arrive as `ShippedWeights` and are played from the actor's local cache.

The `Coordinator` (no CPU of its own) holds the newest accepted network and hands out jobs for
the asynchronous loop: the network to play, and an attempt number from the records folder's
`AttemptBook`, so a restarted actor never replays a seed.
"""

from __future__ import annotations

import queue
import threading
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .resume import AttemptBook
from .shipped_weights import ShippedWeights
from .workers import WorkerJob, worker_main, worker_seed


class SelfPlayActor:
    def __init__(self, cache_dir: Optional[str] = None):
        self.cache_dir = cache_dir
        self.messages: queue.Queue = queue.Queue()
        self.thread: Optional[threading.Thread] = None

    def _begin(self, target, *args) -> None:
        if self.thread is not None and self.thread.is_alive():
            raise RuntimeError("this self-play actor is still playing")
        self.thread = threading.Thread(target=target, args=args, daemon=True)
        self.thread.start()

    def start(self, job: WorkerJob, weights: Optional[ShippedWeights]) -> None:
        """Play `job` (generational loop); its model is `weights` (None: the job's own path)."""
        try:
            if weights is not None:
                job = replace(job, model_path=weights.materialize(self.cache_dir))
        except Exception:
            self.messages.put(("error", job.worker_id, traceback.format_exc()))
            return
        self._begin(self._play, job)

    def start_continuous(self, coordinator_box: list, template: WorkerJob) -> None:
        """Play job after job with the network the coordinator names (asynchronous loop).
        `coordinator_box` is [the coordinator's handle], boxed so that Ray passes it as is."""
        self._begin(self._play_continuously, coordinator_box[0], template)

    def _play(self, job: WorkerJob) -> None:
        try:
            worker_main(job, self.messages)
        except Exception:
            pass  # worker_main has already said why, as an "error" message

    def _play_continuously(self, coordinator, template: WorkerJob) -> None:
        from .ray_session import get

        try:
            while True:
                ticket = get(coordinator.next_job.remote(template.worker_id))
                weights: ShippedWeights = get(ticket["weights"][0])
                job = replace(template, attempt=ticket["attempt"], seed=ticket["seed"],
                              model_path=weights.materialize(self.cache_dir), model_id=ticket["model_id"],
                              chunk_prefix=ticket["chunk_prefix"], sgf_dir=ticket["sgf_dir"])
                for folder in (job.records_dir, job.sgf_dir):
                    if folder is not None:
                        Path(folder).mkdir(parents=True, exist_ok=True)
                worker_main(job, self.messages)
        except Exception:
            self.messages.put(("error", template.worker_id, traceback.format_exc()))

    def poll(self, wait_s: float = 0.5) -> dict:
        """What the games said since the last poll (waiting up to `wait_s` for the first word),
        and whether they are still being played."""
        out = []
        try:
            out.append(self.messages.get(timeout=wait_s))
            while True:
                out.append(self.messages.get_nowait())
        except queue.Empty:
            pass
        running = self.thread is not None and self.thread.is_alive()
        if not running:  # anything said between the drain and the check
            while not self.messages.empty():
                out.append(self.messages.get_nowait())
        return {"messages": out, "running": running}

    def node(self) -> str:
        from .ray_session import import_ray
        return import_ray().get_runtime_context().get_node_id()


def version_seed(run_seed: int, version: int) -> int:
    """The self-play seed of the games of the `version`-th accepted network."""
    return int(np.random.SeedSequence([run_seed, version]).generate_state(1)[0])


class Coordinator:
    """The asynchronous loop's newest accepted network (model id, version, shipped weights)
    and the jobs of the self-play actors. Chunks of the games of version v are named
    `chunk_prefix_format.format(v)`, their SGF files go to `sgf_root/<that prefix>`."""

    def __init__(self, records_dir: str, sgf_root: Optional[str], run_seed: int, chunk_prefix_format: str,
                 model_id: str, version: int, weights_box: list):
        self.records_dir = Path(records_dir)
        self.sgf_root = sgf_root
        self.run_seed = run_seed
        self.chunk_prefix_format = chunk_prefix_format
        self.set_best(model_id, version, weights_box)

    def set_best(self, model_id: str, version: int, weights_box: list) -> None:
        """`weights_box`: [the ObjectRef of the ShippedWeights], boxed so that Ray keeps it a
        reference instead of fetching the bytes here."""
        self.model_id, self.version, self.weights_box = model_id, version, weights_box

    def best(self) -> tuple[str, int]:
        return self.model_id, self.version

    def next_job(self, worker_id: int) -> dict[str, Any]:
        prefix = self.chunk_prefix_format.format(self.version)
        attempt = AttemptBook(self.records_dir, prefix).next(worker_id)
        sgf_dir = None if self.sgf_root is None else str(Path(self.sgf_root) / prefix)
        return {"model_id": self.model_id, "version": self.version, "weights": self.weights_box,
                "attempt": attempt, "seed": worker_seed(version_seed(self.run_seed, self.version), worker_id, attempt),
                "chunk_prefix": prefix, "sgf_dir": sgf_dir}
