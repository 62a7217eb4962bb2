"""Which network plays, for `goengine gtp` and `goengine analysis`: the forms of `--model`, and
the networks a session loads (each once, kept while the session lasts).

| --model        | plays                                                                        |
|----------------|------------------------------------------------------------------------------|
| (none)         | the bundled network for the board size in use (`goengine.networks`); the     |
| or `bundled`   | rollout search on sizes no bundled network fits (said once per size)         |
| `rollout`      | the classical search: random rollouts, no network                            |
| `bundled:NAME` | the bundled network NAME, whatever the size                                  |
| a path         | that checkpoint (stem, .json or .safetensors), whatever the size             |

A network named outright (a path or `bundled:NAME`) is refused on sizes it was not trained on
unless `--any-size` says otherwise (the engine checks that); the bundled default never
refuses a size: it switches networks, or to the rollout search, when the size changes.

Loading is injected (`load(stem) -> evaluator`), so this module needs no torch.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

AUTO = "bundled"
ROLLOUT = "rollout"
BUNDLED_PREFIX = "bundled:"

log = logging.getLogger("goengine.gtp")


@dataclass(frozen=True)
class ModelChoice:
    """`kind`: "auto" (the bundled network for each size), "rollout", or "checkpoint" (`stem`:
    a path, or the resolved stem of `bundled:NAME`). `label` names it in messages."""
    kind: str
    stem: Optional[str] = None
    label: str = ""

    @property
    def named(self) -> bool:
        """A network named outright: it plays every size and is refused on untrained ones."""
        return self.kind == "checkpoint"


def parse_model(text: Optional[str], folder: Optional[Path] = None) -> ModelChoice:
    """The choice `--model text` makes (None: the rollout search, for in-process callers; the
    command lines pass `bundled` when --model is absent). A `bundled:NAME` that names no
    bundled network raises ValueError naming those that exist; a path is not checked here."""
    if text is None or text == ROLLOUT:
        return ModelChoice("rollout", label=ROLLOUT)
    if text == AUTO:
        return ModelChoice("auto", label="the bundled network for each board size")
    if text.startswith(BUNDLED_PREFIX):
        from ..networks import bundled

        network = bundled(text[len(BUNDLED_PREFIX):], folder)
        return ModelChoice("checkpoint", str(network.stem), label=text)
    return ModelChoice("checkpoint", text, label=text)


def strip_suffix(path: str) -> str:
    """A checkpoint's stem from a stem, .json or .safetensors path."""
    for suffix in (".json", ".safetensors"):
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


class Networks:
    """The evaluator each board size plays with, under one `ModelChoice`. `load(stem)` builds
    an evaluator; each checkpoint is loaded once and kept. `folder` is the bundled networks'
    folder (default: `goengine.networks.networks_dir()`). Safe to call from several threads."""

    def __init__(self, choice: ModelChoice, load: Callable[[str], object], folder: Optional[Path] = None,
                 say: Callable[[str], None] = log.info):
        self.choice = choice
        self._load = load
        self.folder = folder
        self._say = say
        self._loaded: dict[str, object] = {}  # stem -> evaluator
        self._stem_for_size: dict[int, Optional[str]] = {}
        self._lock = threading.RLock()

    def stem_for(self, size: int) -> Optional[str]:
        """The checkpoint that plays `size` (None: the rollout search); says once per size
        which one the bundled default picked."""
        if self.choice.kind != "auto":
            return self.choice.stem
        with self._lock:
            if size not in self._stem_for_size:
                from ..networks import bundled_for_size

                network = bundled_for_size(size, self.folder)
                if network is None:
                    self._say(f"no bundled network plays {size}x{size}: the rollout search plays it "
                              f"(--model names a network)")
                    self._stem_for_size[size] = None
                else:
                    self._say(f"{size}x{size}: playing the bundled network {network.name}"
                              + (f" ({network.model_id})" if network.model_id else ""))
                    self._stem_for_size[size] = str(network.stem)
            return self._stem_for_size[size]

    def for_size(self, size: int):
        """The evaluator for `size`, loading it on first need (None: the rollout search).
        Raises what the loader raises."""
        stem = self.stem_for(size)
        if stem is None:
            return None
        with self._lock:
            if stem not in self._loaded:
                self._loaded[stem] = self._load(stem)
            return self._loaded[stem]

    def loaded_for(self, size: int):
        """The evaluator for `size` if it is loaded already, else None (never loads)."""
        with self._lock:
            stem = self.choice.stem if self.choice.kind != "auto" else self._stem_for_size.get(size)
            return None if stem is None else self._loaded.get(stem)

    @property
    def loads(self) -> int:
        """How many checkpoints this session loaded."""
        return len(self._loaded)
