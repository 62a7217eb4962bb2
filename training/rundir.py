"""The run directory: where a training run keeps everything, and its atomic bookkeeping.

    runs/quick/
      config.toml            the resolved configuration the run was started with
      state.json             last completed step: {"generation", "phase", "best", "latest", ...}
      best.json              pointer to the best network: {"model_id", "path"}
      models/000012-b6c64.safetensors + .json     checkpoints (weights + config + lineage)
      train_state/latest, latest.owner.json     optimizer state, and the network it belongs to
      records/gen000012-*.npz                     self-play record chunks
      sgf/gen000012/*.sgf                         the same games for people and other tools
      ledger.jsonl           every gating game
      tb/                    TensorBoard scalars

Every file is written to a temporary name in the same directory and renamed into place, so a
crash (even kill -9) leaves either the old or the new version, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from goengine.atomic import atomic_write_json

STATE_VERSION = 1


class RunDir:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    @property
    def best_path(self) -> Path:
        return self.root / "best.json"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def records(self) -> Path:
        return self.root / "records"

    @property
    def train_state(self) -> Path:
        return self.root / "train_state" / "latest"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.jsonl"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tb"

    def sgf(self, generation: int) -> Path:
        return self.root / "sgf" / f"gen{generation:06d}"

    def model_stem(self, model_id: str) -> Path:
        return self.models / model_id

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

    def write_best(self, model_id: str) -> None:
        atomic_write_json(self.best_path, {"model_id": model_id, "path": str(self.model_stem(model_id))})

    def read_best(self) -> Optional[str]:
        if not self.best_path.exists():
            return None
        return json.loads(self.best_path.read_text())["model_id"]

    def chunk_prefix(self, generation: int) -> str:
        return f"gen{generation:06d}"

    def generation_chunks(self, generation: int) -> list[Path]:
        return sorted(self.records.glob(f"{self.chunk_prefix(generation)}-*.npz"))
