"""Where numba keeps compiled kernels, keyed by the source code of all the project's kernels.

numba's own cache checks only the source file of the function it loads: a kernel in one file
that calls (and inlines) a kernel of another file keeps its old machine code after the other
file changes. Keying the cache directory by a hash of every source file that holds a kernel (or
a constant a kernel reads) makes any such change start a fresh cache; files without numba code
don't take part, so editing them costs no recompilation. The directory is `$NUMBA_CACHE_DIR/goengine-<hash>` when the user
set NUMBA_CACHE_DIR, else `~/.cache/goengine/numba-<hash>` (XDG_CACHE_HOME respected); older
directories of ours are pruned. This must run before the first `@njit(cache=True)` decorator,
which is why `goengine/__init__.py` imports it first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

_PACKAGES = ("goengine", "selfplay", "training")
_KEEP = 3


def source_hash() -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=8)
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            try:
                text = path.read_bytes()
            except OSError:
                continue
            if b"numba" in text:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(text)
    return digest.hexdigest()


def cache_dir() -> Path:
    tag = source_hash()
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        return Path(user) / f"goengine-{tag}"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "goengine"
    return base / f"numba-{tag}"


def configure() -> Path:
    """Point numba's cache at our directory (creating it) and prune old ones."""
    import numba

    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path(numba.config.CACHE_DIR or "")  # unwritable: numba's default place
    numba.config.CACHE_DIR = str(path)
    _prune(path)
    return path


def _prune(current: Path) -> None:
    siblings = [p for p in current.parent.glob(current.name.rsplit("-", 1)[0] + "-*") if p != current and p.is_dir()]
    siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in siblings[_KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def kernels_cached(*names: str) -> bool:
    """Whether numba's cache already holds the named kernels ("module.function", e.g.
    "kernels.select_leaves", as numba names its index files): a start without them compiles,
    which takes long enough to be worth telling the user."""
    import numba

    root = Path(numba.config.CACHE_DIR or cache_dir())
    try:
        present = {p.name.split("-")[0] for p in root.rglob("*.nbi")}
    except OSError:
        return False
    return all(name in present for name in names)
