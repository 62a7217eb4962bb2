"""Networks that ship inside the package, so a fresh install plays well at once.

Each bundled network NAME is a checkpoint in this folder (`NAME.safetensors`, fp16 weights, and
`NAME.json`, the usual checkpoint metadata with its sha256) plus its model card `NAME.md`: how
it was trained (commands, data, steps, hours), its parent, and the ladder results that measured
it, with their commands. `training/bundle.py` (`goengine bundle-network`) writes all three.

The players name them `bundled:NAME` (`goengine match bundled:9x9 ...`); `goengine gtp` with no
`--model` plays the bundled network for the board size in use. Reading this index needs no
torch: it reads the JSON files only.

The index reads this folder unless the environment variable `GOENGINE_NETWORKS_DIR` names
another (a folder of networks tried out before they ship, or a test's temporary folder), or a
caller passes `folder`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

NETWORKS_DIR = Path(__file__).resolve().parent
NETWORKS_DIR_VARIABLE = "GOENGINE_NETWORKS_DIR"


def networks_dir() -> Path:
    """The folder the index reads: $GOENGINE_NETWORKS_DIR when set, else the package's own."""
    configured = os.environ.get(NETWORKS_DIR_VARIABLE)
    return Path(configured) if configured else NETWORKS_DIR


@dataclass(frozen=True)
class BundledNetwork:
    name: str
    stem: Path                  # checkpoint stem (without .json / .safetensors)
    board_sizes: tuple[int, ...]
    kind: str                   # "policy", "value" or "policy_value"
    model_id: Optional[str]
    feature_set: str = "agz"    # the encoder it reads (goengine.features)

    @property
    def card(self) -> Path:
        return self.stem.with_name(self.stem.name + ".md")


def checkpoint_board_sizes(path: str | os.PathLike) -> tuple[int, ...]:
    """The board sizes a checkpoint's JSON says its network was trained on, read without torch;
    () when the JSON is missing, unreadable or silent about them."""
    stem = Path(path)
    if stem.suffix in (".json", ".safetensors"):
        stem = stem.with_suffix("")
    try:
        sizes = json.loads(stem.with_name(stem.name + ".json").read_text(encoding="utf-8"))["config"]["board_sizes"]
        return tuple(int(s) for s in sizes)
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def bundled_networks(folder: Optional[Path] = None) -> dict[str, BundledNetwork]:
    """Every bundled network by name (checkpoints whose JSON reads; others are skipped) in
    `folder` (default: `networks_dir()`)."""
    found = {}
    for meta_path in sorted(Path(folder or networks_dir()).glob("*.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            config = meta["config"]
            sizes = tuple(int(s) for s in meta.get("board_sizes") or config["board_sizes"])
            kind = str(config["kind"])
            feature_set = str(config.get("feature_set", "agz"))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        name = meta_path.stem
        found[name] = BundledNetwork(name, meta_path.with_suffix(""), sizes, kind, meta.get("model_id"), feature_set)
    return found


def bundled(name: str, folder: Optional[Path] = None) -> BundledNetwork:
    """The bundled network `name`; ValueError naming the ones that exist otherwise."""
    networks = bundled_networks(folder)
    if name not in networks:
        known = ", ".join(sorted(networks)) or "none"
        raise ValueError(f"no bundled network {name!r}; bundled: {known}")
    return networks[name]


def bundled_for_size(size: int, folder: Optional[Path] = None) -> Optional[BundledNetwork]:
    """The network that plays `size` (a policy or policy-value net trained on it), preferring a
    policy-value network; None when none fits."""
    fitting = [n for n in bundled_networks(folder).values()
               if size in n.board_sizes and n.kind in ("policy_value", "policy")]
    fitting.sort(key=lambda n: (n.kind != "policy_value", n.name))
    return fitting[0] if fitting else None
