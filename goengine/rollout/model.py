"""Rollout-policy checkpoints, read and written with numpy alone (no torch in the search path).

A checkpoint is `<stem>.safetensors` holding one tensor, "weights" (float32 [NUM_FEATURES]: the
weight of each feature id of `features.py`), plus `<stem>.json`:

| key              | meaning                                                   |
|------------------|-----------------------------------------------------------|
| format_version   | FORMAT_VERSION                                            |
| network_class    | "RolloutPolicy"                                           |
| feature_version  | features.FEATURE_VERSION the weights were trained with    |
| num_features     | length of the weight vector                               |
| step             | training steps taken                                      |
| train_config     | the trainer's settings (any JSON object), or null         |
| extra            | anything else (accuracy, data counts), or null            |
| weights_file     | the weights' file name, next to the JSON                   |
| weights_sha256   | hex sha256 of the weights file                            |
| created_utc      | ISO 8601 time of writing                                  |

Both files are written atomically, weights first: a JSON file present means a whole checkpoint.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
from safetensors.numpy import load_file, save_file

from ..atomic import atomic_write_path
from .features import FEATURE_VERSION, NUM_FEATURES

FORMAT_VERSION = 1
NETWORK_CLASS = "RolloutPolicy"
# Weights are clipped before exponentiation so a product over NUM_SLOTS features stays finite.
MAX_ABS_WEIGHT = 30.0


class RolloutModelError(Exception):
    """A rollout checkpoint that is missing, corrupt or made for other features."""


@dataclass(frozen=True, eq=False)
class RolloutModel:
    weights: np.ndarray  # float32 [NUM_FEATURES]
    meta: Optional[dict] = None

    def __post_init__(self) -> None:
        w = np.ascontiguousarray(self.weights, dtype=np.float32)
        if w.shape != (NUM_FEATURES,):
            raise ValueError(f"rollout weights must have shape ({NUM_FEATURES},), got {w.shape}")
        object.__setattr__(self, "weights", w)
        kernel = np.exp(np.clip(w.astype(np.float64), -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT))
        object.__setattr__(self, "_kernel", kernel)

    @classmethod
    def uniform(cls) -> "RolloutModel":
        """All weights zero: uniform over the candidates."""
        return cls(np.zeros(NUM_FEATURES, np.float32))

    @property
    def kernel_weights(self) -> np.ndarray:
        """float64 [NUM_FEATURES], exp(weight): what the numba kernels take."""
        return self._kernel  # type: ignore[attr-defined]


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".safetensors"), path.with_name(path.name + ".json")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_rollout_model(path: str | os.PathLike, weights: np.ndarray, *, step: int = 0,
                       train_config: Optional[dict] = None, extra: Optional[dict] = None) -> Path:
    """Write `<stem>.safetensors` then `<stem>.json`; returns the JSON path."""
    model = RolloutModel(weights)
    weights_path, meta_path = checkpoint_paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_path(weights_path, lambda tmp: save_file({"weights": model.weights}, tmp))
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "network_class": NETWORK_CLASS,
        "feature_version": FEATURE_VERSION,
        "num_features": NUM_FEATURES,
        "step": int(step),
        "train_config": train_config,
        "extra": extra,
        "weights_file": weights_path.name,
        "weights_sha256": _sha256(weights_path),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    text = json.dumps(meta, indent=2, sort_keys=True) + "\n"

    def write_meta(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    atomic_write_path(meta_path, write_meta)
    return meta_path


def load_rollout_model(path: str | os.PathLike) -> RolloutModel:
    """Read a checkpoint written by `save_rollout_model`, checking its format, feature version
    and checksum."""
    weights_path, meta_path = checkpoint_paths(path)
    if not meta_path.is_file():
        raise RolloutModelError(f"rollout checkpoint {meta_path} is missing")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RolloutModelError(f"rollout checkpoint {meta_path} is unreadable: {e}") from e
    if meta.get("network_class") != NETWORK_CLASS or meta.get("format_version") != FORMAT_VERSION:
        raise RolloutModelError(f"{meta_path} is not a rollout checkpoint of format {FORMAT_VERSION}")
    if meta.get("feature_version") != FEATURE_VERSION or meta.get("num_features") != NUM_FEATURES:
        raise RolloutModelError(f"{meta_path} was trained on rollout features version "
                                f"{meta.get('feature_version')} ({meta.get('num_features')} ids); "
                                f"this code has version {FEATURE_VERSION} ({NUM_FEATURES} ids)")
    if not weights_path.is_file():
        raise RolloutModelError(f"rollout weights {weights_path} are missing")
    if _sha256(weights_path) != meta.get("weights_sha256"):
        raise RolloutModelError(f"rollout weights {weights_path} are corrupt or truncated")
    try:
        tensors = load_file(str(weights_path))
    except Exception as e:  # safetensors' own error type, or a header it cannot parse
        raise RolloutModelError(f"rollout weights {weights_path} are unreadable: {e}") from e
    if "weights" not in tensors:
        raise RolloutModelError(f"{weights_path} holds no 'weights' tensor")
    weights = tensors["weights"]
    if weights.shape != (NUM_FEATURES,):
        raise RolloutModelError(f"{weights_path}: weights of shape {weights.shape}, expected ({NUM_FEATURES},)")
    if not np.all(np.isfinite(weights)):
        raise RolloutModelError(f"{weights_path} holds NaN or infinite weights")
    return RolloutModel(weights, meta)
