"""Where converted networks (OpenVINO IR, ONNX) are kept, and how a stale or corrupt one is
noticed.

A checkpoint `<dir>/<stem>` converted for a runtime is cached as

    <dir>/converted/<stem>.<sha>.<backend>.<ext>   (one or more files)
    <dir>/converted/<stem>.<sha>.<backend>.json    (manifest, written last)

`sha` is the first 16 hex digits of the checkpoint's weights sha256, so a replaced checkpoint
gets a new name and is converted again; older entries of the same stem are then removed. The
manifest records the sha256 of every file of the entry and the runtime's version: an entry
whose files do not match it (truncated, edited, half-deleted) or that an older runtime wrote is
ignored and rebuilt. When the checkpoint's folder is not writable (a network installed with the
package), the cache lives under the user's cache folder instead ($XDG_CACHE_HOME or ~/.cache,
then goengine/converted/), keyed the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..atomic import atomic_write_text
from .checkpoint import file_sha256

SUBDIR = "converted"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe.")
        os.close(fd)
        os.unlink(probe)
        return True
    except OSError:
        return False


def user_cache_root() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "goengine" / SUBDIR


@dataclass(frozen=True)
class CacheEntry:
    """One converted network: `files` maps a role ("model", "weights") to a file name suffix."""
    folder: Path
    stem: str
    weights_sha256: str
    backend: str
    suffixes: dict

    @property
    def key(self) -> str:
        return f"{self.stem}.{self.weights_sha256[:16]}.{self.backend}"

    def path(self, role: str) -> Path:
        return self.folder / (self.key + self.suffixes[role])

    @property
    def manifest(self) -> Path:
        return self.folder / (self.key + ".json")

    def valid(self, runtime_version: str) -> bool:
        """The entry is complete, unchanged since it was written, and from this runtime."""
        try:
            meta = json.loads(self.manifest.read_text(encoding="utf-8"))
            if meta.get("runtime_version") != runtime_version:
                return False
            if meta.get("weights_sha256") != self.weights_sha256:
                return False
            return all(file_sha256(self.path(role)) == meta["files"][role] for role in self.suffixes)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False

    def remove(self) -> None:
        for p in [self.manifest] + [self.path(role) for role in self.suffixes]:
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def write(self, produce: Callable[[dict], None], runtime_version: str) -> None:
        """produce({role: temporary path}) writes the files; they are moved into place and the
        manifest removed first and written last, so a reader sees a whole entry or none."""
        try:
            self.manifest.unlink()
        except FileNotFoundError:
            pass
        tmp = Path(tempfile.mkdtemp(dir=self.folder, prefix=f".{self.key}.", suffix=".tmp"))
        try:
            tmp_paths = {role: tmp / ("model" + suffix) for role, suffix in self.suffixes.items()}
            produce(tmp_paths)
            hashes = {role: file_sha256(p) for role, p in tmp_paths.items()}
            for role, p in tmp_paths.items():
                os.replace(p, self.path(role))
            atomic_write_text(self.manifest, json.dumps({
                "weights_sha256": self.weights_sha256, "backend": self.backend,
                "runtime_version": runtime_version, "files": hashes}, indent=2, sort_keys=True) + "\n")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def remove_stale(self) -> None:
        """Entries of this stem and backend converted from other weights (a replaced
        checkpoint), and temporary folders left by a conversion that was killed."""
        prefix = f"{self.stem}."
        for p in self.folder.iterdir():
            name = p.name
            if name.startswith(f".{prefix}") and name.endswith(".tmp"):
                shutil.rmtree(p, ignore_errors=True)
                continue
            parts = name[len(prefix):].split(".") if name.startswith(prefix) else []
            if len(parts) >= 2 and parts[1] == self.backend and parts[0] != self.weights_sha256[:16]:
                try:
                    p.unlink()
                except OSError:
                    pass


def cache_entry(checkpoint_dir: Path, stem: str, weights_sha256: str, backend: str,
                suffixes: dict) -> CacheEntry:
    """The cache entry for a checkpoint, beside it when that folder is writable."""
    local = checkpoint_dir / SUBDIR
    if _writable(local):
        folder = local
    else:
        folder = user_cache_root() / hashlib.sha256(str(checkpoint_dir.resolve()).encode()).hexdigest()[:12]
        folder.mkdir(parents=True, exist_ok=True)
    return CacheEntry(folder, stem, weights_sha256, backend, dict(suffixes))


@contextmanager
def _locked(folder: Path):
    """An advisory lock on the cache folder, so that worker processes starting together convert
    a network once instead of each converting it (the lock ends with its holder, even under
    kill -9)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; concurrent conversions still end whole (atomic)
        yield
        return
    with open(folder / ".lock", "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def load_or_convert(entry: CacheEntry, runtime_version: str, convert: Callable[[dict], None],
                    read: Callable[[dict], object], log: Callable[[str], None] | None = None):
    """read({role: path}) of the cached entry, converting (and caching) it first when it is
    missing, stale or damaged. A cached entry that fails to read although its hashes match is
    converted again once. Returns (what read returned, whether a conversion ran)."""
    paths = {role: entry.path(role) for role in entry.suffixes}
    with _locked(entry.folder):
        if entry.valid(runtime_version):
            try:
                return read(paths), False
            except Exception as e:  # a runtime that cannot read its own file: rebuild it
                if log:
                    log(f"cached {entry.key} could not be read ({e}); converting again")
        elif entry.manifest.exists() and log:
            log(f"cached {entry.key} is stale or damaged; converting again")
        entry.remove_stale()
        entry.write(convert, runtime_version)
        return read(paths), True
