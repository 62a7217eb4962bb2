"""What a restarted self-play needs so that it neither replays nor double-counts a game:
attempt numbers that are never handed out twice, and SGF files only for recorded games.

Chunks are named `{chunk_prefix}-{time_ns}-wWWaAcCCCC.npz` (worker W, attempt A, chunk C;
`...cCCCClL.npz` for lane L of a node actor's job, `ray_node.py`) and SGF files
`{chunk_prefix}-wWWaA-{seed:019d}.sgf` (`workers.py`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Optional

from goengine.atomic import atomic_write_json

from .records import RecordError, load_chunk_arrays


class AttemptBook:
    """How many times each worker of one chunk prefix has been started, kept in
    `{chunk_prefix}-attempts.json` in the records folder. A lost or damaged book is rebuilt
    from the attempt numbers in the chunk names (`...-wWWaAcC.npz`), so an attempt that wrote a
    chunk is never handed out again."""

    def __init__(self, records_dir: Path, chunk_prefix: str):
        self.path = records_dir / f"{chunk_prefix}-attempts.json"
        self.records_dir = records_dir
        self.chunk_prefix = chunk_prefix

    def _read(self) -> dict[str, int]:
        try:
            book = json.loads(self.path.read_text())
            return {str(k): int(v) for k, v in book["started"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def next(self, worker: int) -> int:
        """The attempt number for a new start of `worker` (0, 1, ...), recorded before use."""
        book = self._read()
        used = [int(m.group(1)) for p in self.records_dir.glob(f"{self.chunk_prefix}-*-w{worker:02d}a*c*.npz")
                if (m := re.search(r"-w\d+a(\d+)c\d+(?:l\d+)?\.npz$", p.name))]
        attempt = max([book.get(str(worker), 0)] + [u + 1 for u in used])
        book[str(worker)] = attempt + 1
        atomic_write_json(self.path, {"started": book})
        return attempt


_SGF_SEED = re.compile(r"-w\d+a\d+-(\d+)\.sgf$")


def prune_unrecorded_sgf(records_dir: str | os.PathLike, sgf_dir: Optional[str | os.PathLike],
                         chunk_prefix: str) -> int:
    """Remove the SGF files of `chunk_prefix` whose game is in no record chunk (its worker was
    killed before writing the chunk; the game will be played anew). Returns how many."""
    if sgf_dir is None or not Path(sgf_dir).is_dir():
        return 0
    recorded: set[int] = set()
    for p in Path(records_dir).glob(f"{chunk_prefix}-*.npz"):
        try:
            recorded.update(int(x) for x in load_chunk_arrays(p)["seed"])
        except RecordError:
            continue  # quarantined by whoever counts the games
    removed = 0
    for p in Path(sgf_dir).glob(f"{chunk_prefix}-*.sgf"):
        m = _SGF_SEED.search(p.name)
        if m is not None and int(m.group(1)) not in recorded:
            p.unlink(missing_ok=True)
            removed += 1
    return removed
