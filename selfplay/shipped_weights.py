"""A checkpoint as bytes, to send through Ray's object store to actors on nodes that may not see
the run directory.

The checkpoint files stay the source of truth: `ShippedWeights.from_checkpoint(stem)` reads
them (refusing weights whose sha256 differs from the one the JSON records), and an actor turns
the bytes back into files with `materialize()`, in a local cache folder named by that sha256,
then loads them as any checkpoint (`goengine.nn.load_evaluator`, which checks the sha256 again).
A cache entry is written atomically, weights before JSON as `save_checkpoint` does, so a
killed actor leaves either a whole entry or none that counts.

    ~/.cache/goengine/weights/<sha256>/<stem>.safetensors + <stem>.json
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from goengine.atomic import atomic_write_bytes

WEIGHTS_SUFFIX = ".safetensors"
META_SUFFIX = ".json"


def weights_cache_root() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "goengine" / "weights"


@dataclass(frozen=True)
class ShippedWeights:
    model_id: str
    sha256: str        # of `weights`, as the checkpoint's JSON records it
    stem_name: str     # the checkpoint's file name without suffix
    weights: bytes     # the .safetensors file
    meta: bytes        # the .json file

    @classmethod
    def from_checkpoint(cls, stem: str | os.PathLike) -> "ShippedWeights":
        stem = Path(stem)
        meta_bytes = stem.with_name(stem.name + META_SUFFIX).read_bytes()
        meta = json.loads(meta_bytes)
        weights = stem.with_name(stem.name + WEIGHTS_SUFFIX).read_bytes()
        recorded = meta.get("weights_sha256")
        if hashlib.sha256(weights).hexdigest() != recorded:
            raise ValueError(f"{stem}: the weights' sha256 differs from the one its JSON records "
                             f"(a checkpoint being rewritten, or a damaged one)")
        return cls(model_id=meta.get("model_id") or stem.name, sha256=recorded, stem_name=stem.name,
                   weights=weights, meta=meta_bytes)

    def materialize(self, cache_root: Optional[str | os.PathLike] = None) -> str:
        """Write the checkpoint into the cache (unless it is there already); returns its stem."""
        folder = Path(cache_root) if cache_root is not None else weights_cache_root()
        stem = folder / self.sha256 / self.stem_name
        weights_path = stem.with_name(stem.name + WEIGHTS_SUFFIX)
        meta_path = stem.with_name(stem.name + META_SUFFIX)
        if meta_path.is_file() and weights_path.is_file() and _sha256_of(weights_path) == self.sha256:
            return str(stem)
        if hashlib.sha256(self.weights).hexdigest() != self.sha256:
            raise ValueError(f"shipped weights of {self.model_id} do not match their sha256")
        atomic_write_bytes(weights_path, self.weights)
        atomic_write_bytes(meta_path, self.meta)
        return str(stem)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
