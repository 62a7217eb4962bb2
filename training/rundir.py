"""The training loop's side of the run directory (selfplay.rundir describes the folder): its
state, its lock, and the clean-up after a crash.

Every file is written to a temporary name in the same directory and renamed into place, so a
crash (even kill -9) leaves either the old or the new version, never half of one; the temporary
files such a crash leaves are removed when the loop starts again. `state.json` is the record of
what is done: `best.json` is written after it, as a copy of its "best" for other programs, and
put right from it at start, so a crash between the two cannot leave them disagreeing for good.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Iterator, Optional

from goengine.atomic import atomic_write_json, remove_stale_temps
from selfplay.rundir import RunDir as RunFiles

STATE_VERSION = 1


# A flock belongs to the open file, which a forked child shares: a library that forks a helper
# while the loop runs (OpenVINO's telemetry can, and waits on it for a while) would hold the run dir
# after the loop has let it go. Forked children close their copies at once.
_held_lock_fds: set[int] = set()


def _close_inherited_locks() -> None:
    for fd in list(_held_lock_fds):
        try:
            os.close(fd)
        except OSError:
            pass
    _held_lock_fds.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_locks)


class RunDirBusy(RuntimeError):
    """Another process runs the loop on this run directory."""


class RunDir(RunFiles):
    """A run dir as the training loop keeps it."""

    def create(self) -> None:
        for d in (self.root, self.models, self.records, self.train_state.parent):
            d.mkdir(parents=True, exist_ok=True)

    def read_state(self) -> Optional[dict]:
        if not self.state_path.exists():
            return None
        try:
            state = json.loads(self.state_path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{self.state_path} is corrupt ({e}); restore it or start a new run dir") from e
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"{self.state_path}: unknown state version {state.get('version')!r}")
        return state

    def write_state(self, state: dict) -> None:
        state = dict(state, version=STATE_VERSION)
        atomic_write_json(self.state_path, state)

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the run dir for this process (released when it ends, however it ends): two
        loops on one run dir would both count and write the same generation."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        _held_lock_fds.add(fd)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                raise RunDirBusy(f"{self.root} is in use by another process (pid {holder}); "
                                 f"stop it first") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            yield
        finally:
            _held_lock_fds.discard(fd)
            os.close(fd)

    def remove_stale_temps(self) -> list[Path]:
        """Delete the temporary files of writes a crash interrupted (call under `locked`)."""
        return remove_stale_temps(self.root, skip=(self.tensorboard.name,))

    def chunk_prefix(self, generation: int) -> str:
        return f"gen{generation:06d}"

    def generation_chunks(self, generation: int) -> list[Path]:
        return sorted(self.records.glob(f"{self.chunk_prefix(generation)}-*.npz"))
