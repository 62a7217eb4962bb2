"""The policy-gradient training run: a resumable run directory and its iterations.

Run directory:

| path                       | what                                                         |
|----------------------------|--------------------------------------------------------------|
| config.json                | the RLConfig of the run (a resumed run must match it, apart  |
|                            | from `iterations`)                                           |
| current.{json,safetensors} | the learner after the last finished iteration               |
| pool/NNNNNN.{json,...}     | pool members: 000000 is the SL policy, then the learner      |
|                            | after every `pool_every` iterations                          |
| state.json                 | {"iteration": k, "pool": [stems]}, written last: an          |
|                            | iteration counts once this file says so                      |
| log.jsonl                  | one line per iteration: opponent, win rate, loss, moves, time |

Each iteration plays `games_per_iter` games of the learner against one opponent drawn uniformly
from the pool (AlphaGo drew one per mini-batch to keep the learner from overfitting to its
latest self) and takes one plain SGD step. Plain SGD keeps no optimiser state, so a resumed
run continues exactly; the randomness of iteration k is seeded by (seed, k).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from goengine.atomic import atomic_write_json

from ..harness import make_optimizer
from .policy import TorchPolicy
from .reinforce import baseline_of, play_episodes, reinforce_step, win_rate


@dataclass(frozen=True)
class RLConfig:
    size: int = 19
    komi: float = 7.5
    rules: str = "chinese"  # a goengine.rules preset (runs from before it was recorded played chinese)
    games_per_iter: int = 32
    iterations: int = 100
    pool_every: int = 10
    learning_rate: float = 0.001
    baseline: str = "mean"
    temperature: float = 1.0
    max_moves: Optional[int] = None  # default 2 * size * size
    batch_size: int = 256
    seed: int = 0

    def __post_init__(self) -> None:
        if self.games_per_iter < 2 or self.iterations < 0 or self.pool_every < 1:
            raise ValueError("games_per_iter must be >= 2, iterations >= 0 and pool_every >= 1")
        if self.baseline not in ("mean", "none"):
            raise ValueError(f"baseline must be 'mean' or 'none', got {self.baseline!r}")

    def matches(self, other: "RLConfig") -> bool:
        """Equal apart from the number of iterations (which a resume may extend)."""
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name != "iterations")


class RLRun:
    def __init__(self, run_dir: str | os.PathLike, sl_model: str | os.PathLike, config: RLConfig,
                 device: str = "cpu", log: Optional[Callable[[str], None]] = print):
        self.dir = Path(run_dir)
        self.config = config
        self.device = device
        self.log = log or (lambda line: None)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "pool").mkdir(exist_ok=True)
        config_path = self.dir / "config.json"
        state_path = self.dir / "state.json"
        if state_path.is_file():
            saved = RLConfig(**json.loads(config_path.read_text(encoding="utf-8")))
            if not saved.matches(config):
                raise ValueError(f"{config_path} differs from the settings given; start a new run directory")
            state = json.loads(state_path.read_text(encoding="utf-8"))
            self.iteration = int(state["iteration"])
            self.pool = list(state["pool"])
            self.learner = TorchPolicy.from_checkpoint(self.dir / "current", device=device, name="learner")
            self.log(f"resuming at iteration {self.iteration} with {len(self.pool)} pool members")
        else:
            self.learner = TorchPolicy.from_checkpoint(sl_model, device=device, name="learner")
            sizes = self.learner.config.board_sizes
            if config.size not in sizes:
                # The checkpoints record every size the weights were trained on.
                self.learner.config = replace(self.learner.config, board_sizes=tuple(sizes) + (config.size,))
            first = str(Path("pool") / "000000")
            self.learner.save(self.dir / first, step=0, model_id="rl-000000", train_config=asdict(config),
                              extra={"source": os.fspath(sl_model)})
            self.iteration = 0
            self.pool = [first]
            self.learner.save(self.dir / "current", step=0, model_id="rl-000000")
            atomic_write_json(config_path, asdict(config))
            self._write_state()
        # Plain gradient ascent on the REINFORCE objective, as AlphaGo's RL policy was trained.
        self.optimiser = make_optimizer(self.learner.model, "sgd", config.learning_rate, momentum=0.0)
        self._opponents: dict[str, TorchPolicy] = {}

    def _write_state(self) -> None:
        atomic_write_json(self.dir / "state.json", {"iteration": self.iteration, "pool": self.pool})

    def opponent(self, stem: str) -> TorchPolicy:
        if stem not in self._opponents:
            self._opponents[stem] = TorchPolicy.from_checkpoint(self.dir / stem, device=self.device, name=stem)
        return self._opponents[stem]

    def run_iteration(self) -> dict:
        c = self.config
        k = self.iteration + 1
        rng = np.random.default_rng([c.seed, k])
        stem = self.pool[int(rng.integers(len(self.pool)))]
        started = time.monotonic()
        episodes = play_episodes(self.learner, self.opponent(stem), c.games_per_iter, c.size, rng, komi=c.komi,
                                 max_moves=c.max_moves, temperature=c.temperature, rules=c.rules)
        played = time.monotonic() - started
        baseline = baseline_of(episodes, c.baseline)
        loss = reinforce_step(self.learner, self.optimiser, episodes, baseline, c.batch_size)
        model_id = f"rl-{k:06d}"
        self.learner.save(self.dir / "current", step=k, model_id=model_id, parent_model_id=f"rl-{k - 1:06d}",
                          train_config=asdict(c))
        if k % c.pool_every == 0:
            member = str(Path("pool") / f"{k:06d}")
            self.learner.save(self.dir / member, step=k, model_id=model_id, train_config=asdict(c))
            self.pool.append(member)
        self.iteration = k
        self._write_state()
        entry = {"iteration": k, "opponent": stem, "win_rate": episodes.win_rate(), "baseline": baseline,
                 "loss": loss, "learner_moves": int(len(episodes.actions)),
                 "mean_game_moves": float(episodes.moves.mean()), "play_seconds": round(played, 2),
                 "seconds": round(time.monotonic() - started, 2), "pool": len(self.pool)}
        with open(self.dir / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return entry

    def train(self) -> None:
        while self.iteration < self.config.iterations:
            e = self.run_iteration()
            self.log(f"iteration {e['iteration']}: vs {e['opponent']} win rate {e['win_rate']:.3f}, "
                     f"loss {e['loss']:.4f}, {e['mean_game_moves']:.0f} moves a game, {e['seconds']:.1f} s")

    def evaluate_against(self, checkpoint: str | os.PathLike, games: int, seed: int = 12345) -> dict:
        """The learner's results against another policy, both sampling."""
        other = TorchPolicy.from_checkpoint(checkpoint, device=self.device, name="reference")
        return win_rate(self.learner, other, games, self.config.size, seed=seed, komi=self.config.komi,
                        max_moves=self.config.max_moves, temperature=self.config.temperature, rules=self.config.rules)
