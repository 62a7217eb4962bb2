"""The configuration of a training run: frozen dataclasses loaded from a TOML preset and
overridden on the command line (`--set section.key=value`). The resolved configuration is saved
in the run directory and stored in every checkpoint.

Presets live in training/presets/*.toml; `load_preset("9x9-quick")` reads one.
"""

from __future__ import annotations

import ast
import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PRESET_DIR = Path(__file__).resolve().parent / "presets"


@dataclass(frozen=True)
class RunSection:
    board_size: int = 9
    komi: float = 7.0
    rules: str = "tromp-taylor"
    max_moves: int = 0            # 0: 2 * N * N
    generations: int = 0          # 0: run until stopped
    seed: int = 0
    device: str = "auto"          # auto: cuda when available, else cpu
    backend: str = "auto"         # network runtime: auto | torch | openvino | onnxruntime
    precision: str = "auto"       # auto (bf16 on CPUs with native bf16, else exact) | fp32 | bf16
    # torch CPU threads of the trainer in this process; 0: one per physical core. Lower it when
    # several runs share a machine: their OpenMP threads otherwise outnumber the cores and stall.
    threads: int = 0
    # Where self-play runs: "local" (worker processes on this machine) or "ray" (actors on a
    # Ray cluster; needs `pip install -e '.[ray]'`).
    executor: str = "local"
    ray_address: str = ""         # "": a private Ray on this machine; "auto": the `ray start` cluster; host:port
    ray_cpus_per_worker: int = 1  # CPUs (and network threads) per self-play actor
    # Self-play's network on Ray: "node": one actor per GPU runs an inference server on it and
    # ray_workers_per_node search processes beside it (leaf batches stay on the node); "actor":
    # each actor evaluates its own network on its CPUs; "auto": node where the cluster has GPUs
    # (and run.device allows CUDA), else actor. "node" on a cluster without GPUs serves on CPU.
    ray_inference: str = "auto"
    ray_workers_per_node: int = 0  # search processes per node actor; 0: the cluster's CPUs per GPU
    # "generational": self-play, train, gate in turn; "async": all three at once (executor "ray")
    mode: str = "generational"
    # Generation 0's weights: "" draws them at random; a checkpoint (stem, .json or
    # .safetensors) or "bundled:NAME" continues from that network (same architecture needed).
    init_from: str = ""


@dataclass(frozen=True)
class NetworkSection:
    tag: str = "b6c64"
    feature_set: str = "agz"
    global_pooling: int = 0
    ownership: bool = True
    score: bool = False


@dataclass(frozen=True)
class SelfPlaySection:
    games_per_generation: int = 200
    parallel_games: int = 32
    workers: int = 0              # 0: one per core
    visits: int = 64
    leaves_per_tree: int = 8
    cheap_visits: int = 16
    full_search_prob: float = 1.0
    temperature: float = 1.0
    temperature_moves: int = 8
    dirichlet_noise: bool = True
    dirichlet_alpha: float = 0.0  # 0: 0.03 * 361 / N^2
    dirichlet_weight: float = 0.25
    gumbel: bool = False
    gumbel_m: int = 16
    c_init: float = 1.25          # AlphaZero's exploration c(s) at few visits (SearchConfig.c_init)
    fpu_reduction: float = 0.25
    resign_threshold: float = -0.9
    resign_consecutive: int = 3
    playthrough_fraction: float = 0.1
    allow_resign: bool = True
    # Recalibrate resign_threshold after each generation from the played-out games so that at
    # most resign_false_target of would-be resignations are wrong (training/resign.py).
    resign_calibration: bool = True
    resign_false_target: float = 0.05
    games_per_chunk: int = 16
    inference_server: str = "auto"  # auto: a shared GPU inference process when CUDA is used
    pass_rule: str = "end"        # "end": pass only when nothing but own-eye fills is left; "any"


@dataclass(frozen=True)
class TrainingSection:
    window_games: int = 2000
    steps_per_generation: int = 200
    batch_size: int = 128
    optimizer: str = "sgd"
    learning_rate: float = 0.02
    lr_schedule: str = "constant"
    momentum: float = 0.9
    weight_decay: float = 1e-4
    value_loss_weight: float = 1.0
    ownership_loss_weight: float = 0.15
    score_loss_weight: float = 0.0
    min_window_games: int = 0     # train only once the window holds this many games
    precision: str = "auto"       # auto: bf16 autocast on CUDA and on CPUs with native bf16 | fp32 | bf16
    # Trainer processes with DistributedDataParallel (one per GPU on a GPU machine); the
    # global batch_size is split between them.
    processes: int = 1
    # Asynchronous mode: train at most this many samples per self-play position recorded, so a
    # fast trainer waits for games instead of overfitting the first ones (0: no limit).
    samples_per_position: float = 4.0


@dataclass(frozen=True)
class GatingSection:
    mode: str = "winrate"         # winrate | sprt | always
    games: int = 40
    threshold: float = 0.55
    sprt_elo0: float = 0.0
    sprt_elo1: float = 35.0
    visits: int = 64
    parallel_games: int = 20
    # A young network's value is too unreliable to resign on: gating games are played out.
    allow_resign: bool = False


@dataclass(frozen=True)
class RunConfig:
    run: RunSection = field(default_factory=RunSection)
    network: NetworkSection = field(default_factory=NetworkSection)
    selfplay: SelfPlaySection = field(default_factory=SelfPlaySection)
    training: TrainingSection = field(default_factory=TrainingSection)
    gating: GatingSection = field(default_factory=GatingSection)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        sections = {f.name: f.type for f in fields(cls)}
        unknown = set(data) - set(sections)
        if unknown:
            raise ValueError(f"unknown config sections: {', '.join(sorted(unknown))}")
        built = {}
        for f in fields(cls):
            section_cls = _SECTION_TYPES[f.name]
            values = data.get(f.name, {})
            if not isinstance(values, dict):
                raise ValueError(f"config section [{f.name}] must be a table")
            known = {x.name: x for x in fields(section_cls)}
            values = {current_key(f.name, k): v for k, v in values.items()}
            bad = set(values) - set(known)
            if bad:
                raise ValueError(f"unknown keys in [{f.name}]: {', '.join(sorted(bad))}")
            built[f.name] = section_cls(**{k: _coerce(v, known[k], f.name) for k, v in values.items()})
        config = cls(**built)
        config.validate()
        return config

    def validate(self) -> None:
        r, s, t, g = self.run, self.selfplay, self.training, self.gating
        if r.backend not in ("auto", "torch", "openvino", "onnxruntime"):
            raise ValueError("run.backend must be auto, torch, openvino or onnxruntime")
        if r.executor not in ("local", "ray"):
            raise ValueError("run.executor must be local or ray")
        if r.mode not in ("generational", "async"):
            raise ValueError("run.mode must be generational or async")
        if r.mode == "async" and r.executor != "ray":
            raise ValueError("run.mode = 'async' runs on Ray: add --executor ray (or --set run.executor=ray)")
        if r.threads < 0:
            raise ValueError("run.threads must be >= 0 (0: one per physical core)")
        if r.ray_cpus_per_worker < 1:
            raise ValueError("run.ray_cpus_per_worker must be at least 1")
        if r.ray_inference not in ("auto", "node", "actor"):
            raise ValueError("run.ray_inference must be auto, node or actor")
        if r.ray_workers_per_node < 0:
            raise ValueError("run.ray_workers_per_node must be >= 0 (0: the cluster's CPUs per GPU)")
        if r.mode == "async" and r.ray_inference == "node":
            raise ValueError("run.ray_inference = 'node' serves generational self-play only; the "
                             "asynchronous loop's actors evaluate their own networks (auto or actor)")
        if t.processes < 1 or t.batch_size % t.processes:
            raise ValueError("training.processes must be at least 1 and divide training.batch_size")
        if t.samples_per_position < 0:
            raise ValueError("training.samples_per_position must be >= 0")
        if r.precision not in ("auto", "fp32", "bf16"):
            raise ValueError("run.precision must be auto, fp32 or bf16")
        if t.precision not in ("auto", "fp32", "bf16"):
            raise ValueError("training.precision must be auto, fp32 or bf16")
        if not 2 <= r.board_size <= 25:
            raise ValueError("run.board_size must be 2..25")
        if s.games_per_generation < 1 or s.parallel_games < 1 or s.visits < 1:
            raise ValueError("selfplay.games_per_generation, parallel_games and visits must be >= 1")
        if not 0.0 < s.full_search_prob <= 1.0:
            raise ValueError("selfplay.full_search_prob must be in (0, 1]")
        if t.batch_size < 1 or t.steps_per_generation < 0 or t.window_games < 1:
            raise ValueError("training.batch_size, window_games must be >= 1 and steps_per_generation >= 0")
        if t.optimizer not in ("sgd", "adamw"):
            raise ValueError("training.optimizer must be 'sgd' or 'adamw'")
        if s.pass_rule not in ("any", "end"):
            raise ValueError("selfplay.pass_rule must be 'any' or 'end'")
        if g.mode not in ("winrate", "sprt", "always"):
            raise ValueError("gating.mode must be winrate, sprt or always")
        if g.mode != "always" and g.games < 2:
            raise ValueError("gating.games must be at least 2")

    def override(self, assignments: list[str]) -> "RunConfig":
        """Apply `section.key=value` assignments (values parsed as Python literals, else strings)."""
        data = self.to_dict()
        for item in assignments:
            if "=" not in item or "." not in item.split("=", 1)[0]:
                raise ValueError(f"override must look like section.key=value, got {item!r}")
            key, raw = item.split("=", 1)
            section, name = key.strip().split(".", 1)
            name = current_key(section, name)
            if section not in data:
                raise ValueError(f"unknown config section {section!r}")
            if name not in data[section]:
                raise ValueError(f"unknown key {name!r} in [{section}]")
            try:
                value = ast.literal_eval(raw.strip())
            except (ValueError, SyntaxError):
                value = raw.strip()
            data[section][name] = value
        return RunConfig.from_dict(data)

    def to_toml(self) -> str:
        lines = []
        for section, values in self.to_dict().items():
            lines.append(f"[{section}]")
            for k, v in values.items():
                lines.append(f"{k} = {_toml_value(v)}")
            lines.append("")
        return "\n".join(lines)


# Keys renamed since presets and run dirs were written: their old names still load.
RENAMED_KEYS = {"selfplay": {"c_puct": "c_init", "simulations": "visits", "cheap_simulations": "cheap_visits"},
                "gating": {"simulations": "visits"}}


def current_key(section: str, key: str) -> str:
    return RENAMED_KEYS.get(section, {}).get(key, key)


_SECTION_TYPES = {"run": RunSection, "network": NetworkSection, "selfplay": SelfPlaySection,
                  "training": TrainingSection, "gating": GatingSection}


def _coerce(value: Any, f: dataclasses.Field, section: str) -> Any:
    default = f.default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{section}.{f.name} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{section}.{f.name} must be an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{section}.{f.name} must be a number, got {value!r}")
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        raise ValueError(f"{section}.{f.name} must be a string, got {value!r}")
    return value


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_preset(name_or_path: str | os.PathLike) -> RunConfig:
    """A preset by name (training/presets/NAME.toml) or a TOML file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESET_DIR / f"{name_or_path}.toml"
    if not path.exists():
        raise ValueError(f"no preset {name_or_path!r}; known presets: {', '.join(preset_names())}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: invalid TOML: {e}") from e
    return RunConfig.from_dict(data)


def load_toml(path: str | os.PathLike) -> Optional[RunConfig]:
    path = Path(path)
    if not path.exists():
        return None
    return RunConfig.from_dict(tomllib.loads(path.read_text()))
