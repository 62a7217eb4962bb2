"""One inference process owns the accelerator; self-play workers send it leaf batches through
shared memory.

Each worker has its own shared-memory block (inputs uint8 [B, C, N, N], policy logits float32
[B, A], values float32 [B]). A worker writes its batch, puts (worker, n) on the request queue and
waits (with a timeout) on its own response queue; the server gathers every request that is
waiting, runs them as one forward pass, writes each worker's outputs back and answers. Batches
from several workers are merged, so the device sees large batches even when each worker's
search produces a few hundred leaves at a time.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
import traceback
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Optional

import numpy as np

REPLY_TIMEOUT_S = 120.0


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


def _serve(model_path: str, device: str, layout: Layout, shm_names: list[str], requests, replies, ready, stop):
    try:
        from goengine.nn import TorchEvaluator

        evaluator = TorchEvaluator.from_checkpoint(model_path, device=device)
        blocks = [shared_memory.SharedMemory(name=name) for name in shm_names]
        views = [layout.views(b.buf) for b in blocks]
        ready.set()
        while not stop.is_set():
            try:
                first = requests.get(timeout=0.5)
            except queue.Empty:
                continue
            batch = [first]
            while True:
                try:
                    batch.append(requests.get_nowait())
                except queue.Empty:
                    break
            features = np.concatenate([views[w][0][:n] for w, n in batch])
            logits, values = evaluator.evaluate(features)
            offset = 0
            for w, n in batch:
                views[w][1][:n] = logits[offset:offset + n]
                views[w][2][:n] = values[offset:offset + n]
                offset += n
                replies[w].put(n)
        for b in blocks:
            b.close()
    except BaseException:
        traceback.print_exc()
        raise


class InferenceServer:
    """Start with `with InferenceServer(...) as server:` and give each worker
    `server.client_args(worker_id)` to build its `RemoteEvaluator`."""

    def __init__(self, model_path: str, device: str, num_workers: int, max_batch: int, planes: int, size: int,
                 feature_set: str = "agz"):
        self.layout = Layout(max_batch, planes, size)
        self.model_path = model_path
        self.device = device
        self.feature_set = feature_set
        ctx = mp.get_context("spawn")
        self.blocks = [shared_memory.SharedMemory(create=True, size=sum(self.layout.nbytes()))
                       for _ in range(num_workers)]
        self.requests = ctx.Queue()
        self.replies = [ctx.Queue() for _ in range(num_workers)]
        self.ready = ctx.Event()
        self.stop = ctx.Event()
        self.process = ctx.Process(target=_serve, args=(model_path, device, self.layout, [b.name for b in self.blocks],
                                                        self.requests, self.replies, self.ready, self.stop),
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

    def client_args(self, worker_id: int) -> dict:
        return {"shm_name": self.blocks[worker_id].name, "layout": self.layout, "worker_id": worker_id,
                "requests": self.requests, "reply": self.replies[worker_id], "feature_set": self.feature_set}


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

    def evaluate(self, features_bchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_total = len(features_bchw)
        logits = np.empty((n_total, self.layout.num_actions), np.float32)
        values = np.empty(n_total, np.float32)
        for start in range(0, n_total, self.layout.max_batch):
            n = min(self.layout.max_batch, n_total - start)
            self.inputs[:n] = features_bchw[start:start + n]
            self.requests.put((self.worker_id, n))
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    self.reply.get(timeout=min(5.0, max(0.01, deadline - time.monotonic())))
                    break
                except queue.Empty:
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"no answer from the inference server in {self.timeout:.0f} s")
            logits[start:start + n] = self.logits[:n]
            values[start:start + n] = self.values[:n]
        return logits, values
