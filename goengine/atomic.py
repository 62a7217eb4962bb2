"""Atomic file writes: write a temporary file beside the target, flush it to disk, rename it over
the target. A reader (or a restart after a crash, even kill -9) sees the old file or the new one,
never half of one. Every checkpoint, record, pointer, ledger snapshot and SGF is written this way.

A write killed before its rename leaves its temporary file behind (`.{name}.XXXXXXXX.tmp`);
`remove_stale_temps` deletes those of a folder tree, for a program that owns the folder (a
training run under its lock) to call when it starts.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable


TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"
# mkstemp's names: the prefix, eight characters from [a-z0-9_], the suffix.
_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def is_temp_name(name: str) -> bool:
    """Whether `name` is one of the temporary files `atomic_write_path` makes."""
    return bool(_TEMP_NAME.match(name))


def remove_stale_temps(folder: str | os.PathLike, skip: tuple[str, ...] = ()) -> list[Path]:
    """Delete the temporary files of interrupted writes under `folder` (recursively, except in
    subfolders named in `skip`); returns their paths. Only safe while nothing else writes there."""
    removed = []
    for root, subfolders, files in os.walk(folder):
        subfolders[:] = [d for d in subfolders if d not in skip]
        for name in files:
            if is_temp_name(name):
                path = Path(root) / name
                try:
                    path.unlink()
                except FileNotFoundError:
                    continue
                removed.append(path)
    return removed


def atomic_write_path(path: str | os.PathLike, write: Callable[[str], None], mode: int = 0o644,
                      make_parents: bool = True) -> Path:
    """`write(tmp_name)` fills a temporary file (for libraries that want a file name), which then
    replaces `path`. The file gets permissions `mode` (temporary files are private). Paths a user
    typed (GTP `printsgf`) pass make_parents=False so a typo fails instead of growing folders."""
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], Any], mode: int = 0o644,
                 make_parents: bool = True) -> Path:
    """`write(f)` fills an open binary temporary file, which then replaces `path`."""
    def fill(tmp: str) -> None:
        with open(tmp, "wb") as f:
            write(f)
    return atomic_write_path(path, fill, mode, make_parents)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, make_parents: bool = True) -> Path:
    return atomic_write(path, lambda f: f.write(data), make_parents=make_parents)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
