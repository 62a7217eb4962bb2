"""The trainer of the asynchronous loop: a thread of the driver that trains candidate after
candidate on the replay window while self-play and gating go on elsewhere.

Each candidate is `training.steps_per_generation` steps from the previous one
(`models.train_generation`, which saves the checkpoint and the optimizer state atomically), so
the trainer never waits for a gate. It waits only for data: at least `min_window_games` games,
and at most `samples_per_position` training samples per self-play position recorded, so a
fast trainer does not overfit the first games. It hands each candidate to the driver's thread
through a queue; only that thread writes the run state.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from .config import RunConfig
from .rundir import RunDir

WAIT_FOR_DATA_S = 1.0


class PositionCounter:
    """Positions recorded in the records folder, counted once per chunk file."""

    def __init__(self, records: Path):
        self.records = records
        self.counts: dict[str, int] = {}

    def total(self) -> int:
        from selfplay.records import chunk_paths

        for p in chunk_paths(self.records):
            if p.name not in self.counts:
                try:
                    with np.load(p, allow_pickle=False) as data:
                        self.counts[p.name] = int(data["game_offsets"][-1])
                except Exception:  # a damaged chunk: the replay window quarantines it
                    self.counts[p.name] = 0
        return sum(self.counts.values())


class TrainerThread(threading.Thread):
    """Trains candidates `first + 1, first + 2, ...` up to `last` (0: until stopped) from
    `parent`; puts ("candidate", k, result), then ("finished", None) or ("error", text) on `out`."""

    def __init__(self, run_dir: RunDir, config: RunConfig, *, parent: str, first: int, last: int,
                 train_steps: int, device: str, out: queue.Queue, tb=None,
                 log: Callable[[str], None] = print):
        super().__init__(name="async-trainer", daemon=True)
        self.run_dir, self.config = run_dir, config
        self.parent, self.next, self.last = parent, first + 1, last
        self.train_steps = train_steps
        self.device, self.out, self.tb, self.log = device, out, tb, log
        self.stop_event = threading.Event()

    def stop(self) -> None:
        self.stop_event.set()

    def _data_ready(self, window, counter: PositionCounter) -> bool:
        t = self.config.training
        window.refresh()
        if window.num_games < max(1, t.min_window_games):
            return False
        if t.samples_per_position <= 0:
            return True
        samples_after = (self.train_steps + t.steps_per_generation) * t.batch_size
        return samples_after <= t.samples_per_position * counter.total()

    def run(self) -> None:
        from .models import train_generation
        from .replay import ReplayWindow

        try:
            t = self.config.training
            window = ReplayWindow(self.run_dir.records, t.window_games, board_size=self.config.run.board_size,
                                  report=self.log)
            counter = PositionCounter(self.run_dir.records)
            while not self.stop_event.is_set() and (not self.last or self.next <= self.last):
                if not self._data_ready(window, counter):
                    self.stop_event.wait(WAIT_FOR_DATA_S)
                    continue
                start = time.perf_counter()
                result = train_generation(self.run_dir, self.config, generation=self.next, parent=self.parent,
                                          device=self.device, tb=self.tb, progress=False, report=self.log,
                                          window=window)
                result["train_seconds"] = time.perf_counter() - start
                self.train_steps += result["train_steps"]
                result["total_train_steps"] = self.train_steps
                self.out.put(("candidate", self.next, result))
                self.parent = result["candidate"]
                self.next += 1
            self.out.put(("finished", None))
        except BaseException:
            self.out.put(("error", traceback.format_exc()))


def optional_writer(folder: Path) -> Optional[object]:
    """A SummaryWriter for `folder`, None without tensorboard (harness.Scalars decides)."""
    from .harness import Scalars
    return Scalars(folder).writer
