"""A training run's directory: where everything is, and the best-model pointer, for every
program that reads or writes one. The training loop's own bookkeeping (state.json, its lock)
is `training.rundir.RunDir`, built on this one.

    runs/quick/
      config.toml            the resolved configuration the run was started with
      state.json             last completed step: {"generation", "phase", "best", "latest", ...}
      best.json              the best network: {"model_id": "000012-b6c64", "path": "models/000012-b6c64"}
                             (the path relative to the run dir)
      models/000012-b6c64.safetensors + .json     checkpoints (weights + config + lineage)
      train_state/latest, latest.owner.json     optimizer state, and the network it belongs to
      records/gen000012-*.npz                     self-play record chunks
      records/gen000012-attempts.json             worker starts so far (no seed is used twice)
      records/quarantine/                         chunks that could not be read, set aside
      sgf/gen000012/*.sgf                         the same games for people and other tools
      matches.jsonl          the run's ledger: every gating game, and every `goengine match`
                             game of its models (selfplay.ledger)
      tb/                    TensorBoard scalars
      .lock                  held (flock) by the process running the loop

Older runs still load: their best.json may hold a path relative to the trainer's working
directory (then the model id finds the checkpoint), and their gating games may sit in
`ledger.jsonl` (`adopt_legacy_ledger` moves them into matches.jsonl).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from goengine.atomic import atomic_write_json

BEST_POINTER = "best.json"
MODELS_DIR = "models"
LEDGER = "matches.jsonl"
LEGACY_LEDGER = "ledger.jsonl"


class RunDirError(ValueError):
    """A run dir that does not hold what was asked for: no best model, no such model id."""


def checkpoint_stem(path: Path) -> Optional[Path]:
    """The stem of a checkpoint given as a stem, a .json or a .safetensors path, when its JSON
    is there; else None."""
    stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
    return stem if stem.with_name(stem.name + ".json").is_file() else None


class RunDir:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.config_path = self.root / "config.toml"
        self.state_path = self.root / "state.json"
        self.best_path = self.root / BEST_POINTER
        self.models = self.root / MODELS_DIR
        self.records = self.root / "records"
        self.train_state = self.root / "train_state" / "latest"
        self.ledger = self.root / LEDGER
        self.tensorboard = self.root / "tb"

    def sgf(self, generation: int) -> Path:
        return self.root / "sgf" / f"gen{generation:06d}"

    def model_stem(self, model_id: str) -> Path:
        return self.models / model_id

    # --- the best pointer ----------------------------------------------------------------------

    def write_best(self, model_id: str) -> None:
        atomic_write_json(self.best_path, {"model_id": model_id, "path": f"{MODELS_DIR}/{model_id}"})

    def _read_pointer(self) -> dict:
        try:
            best = json.loads(self.best_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunDirError(f"{self.best_path} is missing: the run has no best model yet") from None
        except (OSError, ValueError) as e:
            raise RunDirError(f"{self.best_path} is unreadable: {e}") from e
        if not isinstance(best, dict) or not (best.get("path") or best.get("model_id")):
            raise RunDirError(f"{self.best_path} holds neither 'path' nor 'model_id'")
        return best

    def read_best(self) -> Optional[str]:
        """The pointer's model id; None when it is missing or unreadable."""
        try:
            return self._read_pointer().get("model_id")
        except RunDirError:
            return None

    def best_stem(self) -> Path:
        """The checkpoint stem best.json names: its path relative to the run dir, else its model
        id among the run's models, else (a pointer of an older run) its path relative to the
        working directory. Raises RunDirError."""
        best = self._read_pointer()
        path = Path(best["path"]) if best.get("path") else None
        if path is not None:
            stem = checkpoint_stem(path if path.is_absolute() else self.root / path)
            if stem is not None:
                return stem
        if best.get("model_id"):
            stem = checkpoint_stem(self.model_stem(str(best["model_id"])))
            if stem is not None:
                return stem
        if path is not None and not path.is_absolute():
            stem = checkpoint_stem(Path.cwd() / path)
            if stem is not None:
                return stem
        raise RunDirError(f"{self.best_path} points at {best.get('path') or best.get('model_id')}, "
                          f"which holds no checkpoint")

    def find_model(self, key: str) -> Path:
        """The checkpoint stem of model `key`: "best" (the best pointer) or the start of a model
        id ("000012" finds models/000012-b6c64.json). Raises RunDirError."""
        if key == "best":
            return self.best_stem()
        matches = sorted(p for p in self.models.glob(f"{key}*.json") if not p.name.startswith("."))
        if not matches:
            raise RunDirError(f"no model whose id starts with {key!r} in {self.models}")
        exact = [p for p in matches if p.stem == key]
        if len(matches) > 1 and not exact:
            names = ", ".join(p.stem for p in matches)
            raise RunDirError(f"model id {key!r} is ambiguous in {self.models}: {names}")
        return (exact or matches)[0].with_suffix("")

    # --- the ledger ----------------------------------------------------------------------------

    def adopt_legacy_ledger(self) -> int:
        """Move the games of an older run's `ledger.jsonl` into the run's ledger (those not there
        yet, so that a move cut short is finished by the next call); returns how many moved."""
        from .ledger import append_records, read_ledger

        legacy = self.root / LEGACY_LEDGER
        if not legacy.exists():
            return 0
        have = {(r.get("match"), r.get("game")) for r in read_ledger(self.ledger).records}
        missing = [r for r in read_ledger(legacy).records if (r.get("match"), r.get("game")) not in have]
        append_records(self.ledger, missing)
        legacy.unlink()
        return len(missing)
