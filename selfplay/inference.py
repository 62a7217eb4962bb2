"""One inference process owns the accelerator; self-play workers send it leaf batches through
shared memory.

Each worker has its own shared-memory block (inputs uint8 [B, C, N, N], policy logits float32
[B, A], values float32 [B]). A worker writes its batch, sends (worker, n, request id) down its
own request pipe and waits (with a timeout) on its own reply pipe for that id; the server gathers
every request that is waiting, runs them as one forward pass, writes each worker's outputs back
and answers with the id. Batches from several workers are merged, so the device sees large
batches even when each worker's search produces a few hundred leaves at a time.

The server counts its busy time (inside the network), positions and batches in shared memory
(`InferenceServer.counters()`): the busy fraction says whether the search processes keep the
device fed (near 1) or the device waits for them.

Pipes, one per worker and direction, rather than shared queues: a multiprocessing.Queue has a
lock shared by every process that uses it, and a worker killed while holding it would silence
all the others. The request id lets a replacement worker ignore a reply meant for the worker it
replaced.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
import secrets
from dataclasses import dataclass
from multiprocessing import shared_memory
from pathlib import Path
from multiprocessing.connection import wait as wait_for_any
from typing import Optional

import numpy as np

from .lifeline import die_with_parent

REPLY_TIMEOUT_S = 120.0
BUSY_S, POSITIONS, BATCHES = range(3)  # the server's counters
# Blocks are named `{BLOCK_PREFIX}-{owner pid}-...`, so that those of an owner killed before it
# could remove them (a Ray actor killed with its resource tracker) can be told apart and removed.
BLOCK_PREFIX = "goengine-infer"
SHM_FOLDER = Path("/dev/shm")


def remove_orphan_blocks(folder: Path = SHM_FOLDER) -> int:
    """Remove the shared memory of inference servers whose owning process is gone (on Linux,
    where it shows in /dev/shm). Returns how many blocks."""
    removed = 0
    for p in folder.glob(f"{BLOCK_PREFIX}-*") if folder.is_dir() else ():
        try:
            pid = int(p.name.split("-")[2])
            os.kill(pid, 0)
        except (ValueError, IndexError, PermissionError):
            continue  # not one of ours, or alive under another user
        except ProcessLookupError:
            p.unlink(missing_ok=True)
            removed += 1
    return removed


@dataclass(frozen=True)
class Layout:
    max_batch: int
    planes: int
    size: int

    @property
    def num_actions(self) -> int:
        return self.size * self.size + 1

    def nbytes(self) -> tuple[int, int, int]:
        b = self.max_batch
        return (b * self.planes * self.size * self.size, b * self.num_actions * 4, b * 4)

    def views(self, buf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_in, n_logits, n_values = self.nbytes()
        b = self.max_batch
        inputs = np.ndarray((b, self.planes, self.size, self.size), np.uint8, buffer=buf, offset=0)
        logits = np.ndarray((b, self.num_actions), np.float32, buffer=buf, offset=n_in)
        values = np.ndarray((b,), np.float32, buffer=buf, offset=n_in + n_logits)
        return inputs, logits, values


def _serve(model_path: str, device: str, layout: Layout, shm_names: list[str], requests, replies, ready, stop,
           counters, make_evaluator=None):
    die_with_parent(os.getppid())  # a parent killed alone leaves no server holding the device
    try:
        if make_evaluator is not None:
            evaluator = make_evaluator()
        else:
            from goengine.nn import TorchEvaluator
            evaluator = TorchEvaluator.from_checkpoint(model_path, device=device)
        blocks = [shared_memory.SharedMemory(name=name) for name in shm_names]
        views = [layout.views(b.buf) for b in blocks]
        ready.set()
        while not stop.is_set():
            batch = []
            for conn in wait_for_any(requests, timeout=0.5):
                while conn.poll():
                    batch.append(conn.recv())
            if not batch:
                continue
            features = np.concatenate([views[w][0][:n] for w, n, _ in batch])
            start = time.perf_counter()
            logits, values = evaluator.evaluate(features)
            counters[BUSY_S] += time.perf_counter() - start
            counters[POSITIONS] += len(features)
            counters[BATCHES] += 1
            offset = 0
            for w, n, request_id in batch:
                views[w][1][:n] = logits[offset:offset + n]
                views[w][2][:n] = values[offset:offset + n]
                offset += n
                replies[w].send(request_id)
        for b in blocks:
            b.close()
    except BaseException:
        traceback.print_exc()
        raise


class InferenceServer:
    """Start with `with InferenceServer(...) as server:` and give each worker
    `server.client_args(worker_id)` to build its `RemoteEvaluator`."""

    def __init__(self, model_path: str, device: str, num_workers: int, max_batch: int, planes: int, size: int,
                 feature_set: str = "agz", make_evaluator=None):
        """`make_evaluator`: a picklable callable the server process calls to build its
        evaluator instead of loading `model_path` (a stand-in for a device, in benchmarks)."""
        self.layout = Layout(max_batch, planes, size)
        self.model_path = model_path
        self.device = device
        self.feature_set = feature_set
        ctx = mp.get_context("spawn")
        tag = f"{BLOCK_PREFIX}-{os.getpid()}-{secrets.token_hex(4)}"
        self.blocks = [shared_memory.SharedMemory(name=f"{tag}-{w}", create=True, size=sum(self.layout.nbytes()))
                       for w in range(num_workers)]
        # Pipe(duplex=False) gives (receiving end, sending end).
        request_pipes = [ctx.Pipe(duplex=False) for _ in range(num_workers)]
        reply_pipes = [ctx.Pipe(duplex=False) for _ in range(num_workers)]
        self.requests = [send for _, send in request_pipes]
        self.replies = [recv for recv, _ in reply_pipes]
        self.ready = ctx.Event()
        self.stop = ctx.Event()
        # One writer (the server), so no lock; a reader may see a batch half counted, no worse.
        self.shared_counters = ctx.RawArray("d", 3)
        self.process = ctx.Process(target=_serve, args=(model_path, device, self.layout, [b.name for b in self.blocks],
                                                        [recv for recv, _ in request_pipes],
                                                        [send for _, send in reply_pipes], self.ready, self.stop,
                                                        self.shared_counters, make_evaluator),
                                   daemon=True)

    def __enter__(self) -> "InferenceServer":
        self.process.start()
        if not self.ready.wait(timeout=REPLY_TIMEOUT_S):
            self.close()
            raise RuntimeError("the inference server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.stop.set()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
        for b in self.blocks:
            b.close()
            try:
                b.unlink()
            except FileNotFoundError:
                pass

    def counters(self) -> dict:
        """Cumulative busy seconds, positions and batches, and the time they were read at:
        the busy fraction over a window is the difference of two readings."""
        c = self.shared_counters
        return {"time": time.perf_counter(), "busy_s": c[BUSY_S], "positions": c[POSITIONS], "batches": c[BATCHES]}

    def client_args(self, worker_id: int) -> dict:
        return {"shm_name": self.blocks[worker_id].name, "layout": self.layout, "worker_id": worker_id,
                "requests": self.requests[worker_id], "reply": self.replies[worker_id],
                "feature_set": self.feature_set}


class RemoteEvaluator:
    """The Evaluator protocol over an inference server."""

    def __init__(self, shm_name: str, layout: Layout, worker_id: int, requests, reply, feature_set: str = "agz",
                 timeout: float = REPLY_TIMEOUT_S):
        self.block = shared_memory.SharedMemory(name=shm_name)
        self.inputs, self.logits, self.values = layout.views(self.block.buf)
        self.layout = layout
        self.worker_id = worker_id
        self.requests = requests
        self.reply = reply
        self.feature_set = feature_set
        self.board_size: Optional[int] = layout.size
        self.timeout = timeout
        # Ids start from the clock so that a replacement worker's ids never repeat its
        # predecessor's, whose replies may still be in the pipe.
        self.next_id = time.monotonic_ns()

    def evaluate(self, features_bchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_total = len(features_bchw)
        logits = np.empty((n_total, self.layout.num_actions), np.float32)
        values = np.empty(n_total, np.float32)
        for start in range(0, n_total, self.layout.max_batch):
            n = min(self.layout.max_batch, n_total - start)
            self.inputs[:n] = features_bchw[start:start + n]
            self.next_id += 1
            self.requests.send((self.worker_id, n, self.next_id))
            deadline = time.monotonic() + self.timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer from the inference server in {self.timeout:.0f} s")
                if self.reply.poll(min(5.0, left)) and self.reply.recv() == self.next_id:
                    break
            logits[start:start + n] = self.logits[:n]
            values[start:start + n] = self.values[:n]
        return logits, values
