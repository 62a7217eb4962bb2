"""The supervised-learning policy trainer (AlphaGo stage 1): a plain conv policy network learns
the expert's move from shard positions, with random symmetries, a cosine learning-rate
schedule, periodic checkpoints with held-out accuracy, and exact resumption.

The run directory:

    run_dir/
      shards/            training shards and manifest.json (`build.py`)
      heldout/           held-out shards (measuring only: never trained on)
      models/sl-0001234-b6c64.safetensors + .json   checkpoints (goengine.nn format)
      train_state.pt     resume state: model, optimizer, step, clock, data cursor, config
      eval.jsonl         one line per held-out evaluation: step, samples, checkpoint, report
      train.jsonl        running train loss and top-1 (moving averages), rate, every 10 log steps
      final.json         the last checkpoint and its full held-out report, once finished
      tb/                TensorBoard scalars (train/*, heldout/*)

Budget and schedule. A run stops after `steps` optimizer steps or `hours` of run time
(training and the evaluations at checkpoints, summed over every resumption), whichever comes
first. Progress p in [0, 1] is the larger of the two fractions; the learning rate is
`learning_rate` * (min_lr_fraction + (1 - min_lr_fraction) * (1 + cos(pi * p)) / 2), ramped up
linearly over the first `warmup_steps` steps. A time budget makes the schedule depend on the
machine's speed, which is the point: the run anneals by the time it has.

Resumption. `train_state.pt` is written atomically (torch.save, read back with
weights_only=True) at every checkpoint and when the run is interrupted (Ctrl-C, SIGTERM). It
holds the model and optimizer state, the step, the run time so far and the data stream's
cursor (kept while the training shards' manifest key is unchanged), so rerunning the same
command continues with the batches the run would have drawn; a kill -9 loses the work since
the last checkpoint. A finished run only prints its final report again, unless the budget
was raised. Changing the architecture, feature set or optimizer of a run directory is
refused; the budget, learning rate and checkpoint settings may change.

Accuracy while training. Until the stream finishes its first epoch every batch is made of
positions the network has not seen, so the running train accuracy is an honest estimate of
accuracy on training-distribution games; the held-out figures are for reporting only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

# goengine.nn before torch: it chooses OpenMP's wait policy, which torch's import fixes
from goengine.nn import NetConfig, build_network, save_checkpoint  # isort: skip
from goengine.nn.backends import resolve_device  # isort: skip
import torch
import torch.nn.functional as F

from goengine.atomic import atomic_write_json
from goengine.features import get_feature_set

from ..harness import (PRECISIONS, Scalars, bf16_autocast, load_state, make_optimizer, save_state,
                       set_learning_rate, use_cpu_threads)
from .accuracy import format_report
from .evaluate import evaluate_policy, spread_games
from .samples import ShardStream
from .shards import Shard

STATE_VERSION = 1
STATE_FILE = "train_state.pt"
OPTIMIZERS = ("sgd", "adamw")


KINDS = ("policy", "policy_value")


@dataclass(frozen=True)
class SLConfig:
    feature_set: str = "alphago"
    tag: str = "b6c64"                 # policy: b<conv layers>c<filters> of the plain stack;
                                       # policy_value: b<residual blocks>c<filters>
    board_size: int = 19
    head_channels: int = 32
    kind: str = "policy"               # "policy" (AlphaGo's SL net) or "policy_value" (a residual
                                       # tower that also learns each game's outcome)
    global_pooling: int = 0            # policy_value: every k-th block pools globally
    value_weight: float = 0.25         # policy_value: weight of the outcome's squared error
    precision: str = "auto"            # auto: bf16 autocast on CUDA and on CPUs with native bf16
    batch_size: int = 64
    optimizer: str = "sgd"             # "sgd" (momentum, Nesterov) or "adamw"
    learning_rate: float = 0.05
    min_lr_fraction: float = 0.02      # the cosine ends at learning_rate * this
    warmup_steps: int = 200
    momentum: float = 0.9
    weight_decay: float = 1e-4         # sgd: L2 on conv/linear weights; adamw: decoupled decay
    hours: Optional[float] = None      # run-time budget (see the module docstring)
    steps: Optional[int] = None        # step budget
    checkpoint_minutes: float = 15.0
    eval_games: int = 30               # held-out games evaluated at each checkpoint (0: none)
    final_eval_games: int = 200        # held-out games evaluated at the end (0: all)
    eval_batch: int = 256
    shards_in_memory: int = 4
    symmetries: bool = True            # a random board symmetry per sample
    seed: int = 0
    device: str = "auto"               # "auto" (cuda when available), "cpu", "cuda", "cuda:1"
    threads: int = 0                   # torch CPU threads; 0: one per physical core
    log_every: int = 10                # steps between TensorBoard writes
    init_from: Optional[str] = None    # a checkpoint of the same architecture to start from
    reset_heads: tuple[str, ...] = ()  # with init_from: heads ("policy", "value") trained afresh

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.kind == "policy_value" and get_feature_set(self.feature_set).name == "alphago":
            # The outcome depends on who is to move (komi): the value needs the colour plane.
            raise ValueError("a policy_value net needs a feature set with the colour to play: "
                             "alphago-value or agz, not alphago")
        if self.kind == "policy" and self.global_pooling:
            raise ValueError("global pooling needs kind policy_value")
        if self.value_weight < 0:
            raise ValueError("value_weight must be >= 0")
        object.__setattr__(self, "reset_heads", tuple(self.reset_heads))
        if set(self.reset_heads) - {"policy", "value"}:
            raise ValueError(f"reset_heads names policy or value, got {self.reset_heads!r}")
        if self.reset_heads and not self.init_from:
            raise ValueError("reset_heads needs init_from")
        self.net_config()
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.hours is None and self.steps is None:
            raise ValueError("give a budget: hours or steps")
        if (self.hours is not None and self.hours <= 0) or (self.steps is not None and self.steps < 1):
            raise ValueError("hours and steps must be positive")
        if self.batch_size < 1 or self.learning_rate <= 0 or not 0 <= self.min_lr_fraction <= 1:
            raise ValueError("batch_size and learning_rate must be positive, min_lr_fraction in [0, 1]")

    def net_config(self) -> NetConfig:
        fs = get_feature_set(self.feature_set)
        extra = {"global_pooling": self.global_pooling} if self.kind == "policy_value" else {}
        return NetConfig.from_tag(self.tag, kind=self.kind, in_planes=fs.num_planes, feature_set=fs.name,
                                  feature_version=fs.version, board_sizes=(self.board_size,),
                                  head_channels=self.head_channels, **extra)


    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def progress(self, step: int, seconds: float) -> float:
        fractions = [0.0]
        if self.steps is not None:
            fractions.append(step / self.steps)
        if self.hours is not None:
            fractions.append(seconds / (3600.0 * self.hours))
        return min(1.0, max(fractions))

    def learning_rate_at(self, step: int, seconds: float) -> float:
        p = self.progress(step, seconds)
        lr = self.learning_rate * (self.min_lr_fraction + (1 - self.min_lr_fraction) * 0.5 * (1 + math.cos(math.pi * p)))
        if step < self.warmup_steps:
            lr *= (step + 1) / self.warmup_steps
        return lr


# Settings a run directory is tied to: everything else may change between resumptions.
_FIXED = ("feature_set", "tag", "board_size", "head_channels", "optimizer", "kind", "global_pooling")


class _Interrupt:
    """Turns SIGTERM into a flag the loop checks, so the run saves its state before leaving."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> "_Interrupt":
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def _handle(self, signum, frame) -> None:
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


class SLRun:
    """One training run in `run_dir` on prepared shards. `train()` runs it to its budget (or
    resumes it) and returns the final held-out report."""

    def __init__(self, run_dir: str | Path, config: SLConfig, train_paths: list[Path],
                 heldout: Optional[Shard], log: Callable[[str], None] = print, progress_bar: bool = True,
                 data_key: str = ""):
        self.dir = Path(run_dir)
        self.data_key = data_key
        self.config = config
        self.log = log
        self.progress_bar = progress_bar
        self.heldout = heldout
        self.device = torch.device(resolve_device(config.device))
        self.autocast = bf16_autocast(config.precision, self.device)
        use_cpu_threads(self.device, config.threads)
        self.net_config = config.net_config()
        torch.manual_seed(config.seed)
        self.model = build_network(self.net_config).to(self.device)
        self.optimizer = make_optimizer(self.model, config.optimizer, config.learning_rate,
                                        weight_decay=config.weight_decay, momentum=config.momentum)
        self.step = 0
        self.samples = 0
        self.seconds = 0.0
        self.finished = False
        self.last_checkpoint: Optional[str] = None
        cursor = (0, 0, 0)
        state = self._load_state()
        self.parent_model_id: Optional[str] = state.get("parent_model_id") or None if state else None
        if state is None and config.init_from:
            self._init_from(config.init_from, config.reset_heads)
        if state is not None:
            if state.get("data_key", "") == data_key:
                cursor = tuple(state["cursor"])
            else:
                self.log("the training shards changed since the last checkpoint: the data stream starts afresh")
        self.stream = ShardStream(train_paths, config.feature_set, config.batch_size, seed=config.seed,
                                  shards_in_memory=config.shards_in_memory, symmetries=config.symmetries,
                                  cursor=cursor)
        self._tb = Scalars(self.dir / "tb")

    def _init_from(self, path: str, reset_heads: tuple[str, ...]) -> None:
        """Start from a checkpoint's weights (a new run continuing an earlier one), with the
        heads named in `reset_heads` drawn afresh: a head that learned nothing (a value head
        whose units all died) gets a second start without losing what the trunk learned."""
        from goengine.nn import load_checkpoint

        model, config, meta = load_checkpoint(path)
        if config.to_dict() != self.net_config.to_dict():
            raise ValueError(f"{path}: its network ({config.kind} {config.tag}, {config.feature_set}) is not "
                             f"the one this run trains ({self.net_config.kind} {self.net_config.tag}, "
                             f"{self.net_config.feature_set})")
        self.model.load_state_dict(model.state_dict())
        for head in reset_heads:
            for module in getattr(self.model, head).modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        self.parent_model_id = meta.get("model_id") or Path(path).name
        reset = f", {' and '.join(reset_heads)} head(s) drawn afresh" if reset_heads else ""
        self.log(f"starting from {path}{reset}")

    # --- state -----------------------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self.dir / STATE_FILE

    def _load_state(self) -> Optional[dict[str, Any]]:
        if not self.state_path.is_file():
            return None
        state = load_state(self.state_path)
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"{self.state_path}: state version {state.get('version')!r}, expected {STATE_VERSION}")
        saved = json.loads(state["config"])
        changed = [k for k in _FIXED if saved.get(k) != getattr(self.config, k)]
        if changed:
            details = ", ".join(f"{k}: run has {saved.get(k)!r}, asked {getattr(self.config, k)!r}" for k in changed)
            raise ValueError(f"{self.dir} holds a run with other settings ({details}); use another --run-dir")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.samples, self.seconds = int(state["step"]), int(state["samples"]), float(state["seconds"])
        self.last_checkpoint = state["last_checkpoint"] or None
        budget_grew = self.config.progress(self.step, self.seconds) < 1.0
        self.finished = bool(state["finished"]) and not budget_grew
        self.log(f"resuming {self.dir} at step {self.step} ({self.samples} samples, {self.seconds / 60:.1f} min)")
        return state

    def _save_state(self) -> None:
        state = {"version": STATE_VERSION, "config": json.dumps(self.config.to_dict()), "step": self.step,
                 "samples": self.samples, "seconds": self.seconds, "cursor": list(self.stream.cursor),
                 "finished": self.finished, "last_checkpoint": self.last_checkpoint or "", "data_key": self.data_key,
                 "parent_model_id": self.parent_model_id or "",
                 "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}
        save_state(self.state_path, state)

    def _save_checkpoint(self) -> str:
        stem = self.dir / "models" / f"sl-{self.step:07d}-{self.net_config.tag}"
        save_checkpoint(stem, self.model, self.net_config, step=self.step, model_id=stem.name,
                        parent_model_id=self.parent_model_id,
                        train_config=self.config.to_dict(), extra={"samples": self.samples})
        self.last_checkpoint = str(stem)
        return str(stem)

    # --- logging -----------------------------------------------------------------------------------

    def _scalars(self, prefix: str, values: dict[str, float]) -> None:
        self._tb.add(prefix, values, self.step)

    def _train_log(self, values: dict[str, float]) -> None:
        line = {"step": self.step, "samples": self.samples, "minutes": round(self.seconds / 60, 2)}
        line.update({k: round(v, 5) for k, v in values.items()})
        with open(self.dir / "train.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    def evaluate(self, max_games: int) -> Optional[dict[str, Any]]:
        """Held-out accuracy of the current model on `max_games` games spread over the set (0:
        all), logged to eval.jsonl and TensorBoard."""
        if self.heldout is None or self.heldout.num_games == 0:
            return None
        games = spread_games(self.heldout, max_games or None)
        report = evaluate_policy(self.model, self.net_config, games, device=self.device,
                                 batch_size=self.config.eval_batch)
        self.model.train()
        line = {"step": self.step, "samples": self.samples, "minutes": round(self.seconds / 60, 2),
                "checkpoint": self.last_checkpoint, "report": report}
        with open(self.dir / "eval.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        flat = {"top1": report["top1"], "top5": report["top5"], "nll": report["nll"],
                "value_mse": report.get("value_mse")}
        for name, row in report["by_move_number"].items():
            flat[f"top1_moves_{name}"] = row["top1"]
        self._scalars("heldout", flat)
        self.log(f"held-out at step {self.step} ({report['games']} games): {format_report(report)}")
        if report.get("value_std", 1.0) < 1e-3:
            self.log("warning: the value head answers the same for every position (its units stopped firing); "
                     "start a new run from this checkpoint with --init-from ... --reset-heads value and a lower --lr")
        return report

    # --- the loop ------------------------------------------------------------------------------------

    def _step(self, batch) -> tuple[float, float, Optional[float], int]:
        """One optimizer step: (loss, top-1 accuracy, value mse over the decided positions or
        None, samples)."""
        x = torch.from_numpy(batch.features).to(self.device).float()
        y = torch.from_numpy(batch.targets).to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            out = self.model(x)
        logits = out.policy_logits
        loss = F.cross_entropy(logits.float(), y)
        value_mse = None
        if out.value is not None:
            z = torch.from_numpy(batch.value_targets).to(self.device)
            known = ~torch.isnan(z)
            # Positions without an outcome add nothing; the mean is over the batch so that the
            # weight means the same whatever share of games is decided.
            value_loss = (out.value.float() - torch.nan_to_num(z)).square().mul(known).sum() / len(z)
            loss = loss + self.config.value_weight * value_loss
            # Reported over the decided positions only, as the held-out value_mse is.
            value_mse = float(value_loss.detach() * len(z) / known.sum().clamp(min=1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        acc = float((logits.detach().argmax(dim=1) == y).float().mean())
        return float(loss.detach()), acc, value_mse, int(y.shape[0])

    def _report_progress(self, meter: "_Meter", lr: float, bar) -> None:
        values = meter.values(lr)
        self._scalars("train", values)
        if bar is not None:
            # Named in words: the share of time spent waiting for batches, and the minutes
            # trained over every session of this run.
            value = values.get("value_loss")
            value_text = "" if value is None else f", value mse {value:.3f}"
            bar.set_fields(f"loss {values['loss']:.3f}, top-1 {100 * values['top1']:.1f}%{value_text}, "
                           f"{values['samples_per_s']:.0f} samples/s, lr {lr:.4f}, waiting for data "
                           f"{100 * values['data_share']:.0f}%, trained {self.seconds / 60:.0f} min")
        if self.step % (10 * self.config.log_every) == 0:
            self._train_log(values)

    def train(self) -> Optional[dict[str, Any]]:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.finished:
            final = json.loads((self.dir / "final.json").read_text()) if (self.dir / "final.json").is_file() else None
            self.log(f"{self.dir} is finished (step {self.step}); final checkpoint {self.last_checkpoint}")
            return final["report"] if final else None
        c = self.config
        self.model.train()
        bar = None
        if self.progress_bar:
            from goengine.progress import Progress
            bar = Progress(total=c.steps, initial=self.step, unit="step", desc=f"train-sl {self.net_config.tag}",
                           stream=sys.stderr, every=60.0)
        session_start = time.perf_counter()
        base_seconds = self.seconds
        last_checkpoint = time.perf_counter()
        meter = _Meter()
        interrupted = False
        with _Interrupt() as interrupt:
            try:
                while c.progress(self.step, self.seconds) < 1.0:
                    t0 = time.perf_counter()
                    batch = next(self.stream)
                    data_seconds = time.perf_counter() - t0
                    lr = c.learning_rate_at(self.step, self.seconds)
                    set_learning_rate(self.optimizer, lr)
                    loss, acc, value_mse, n = self._step(batch)
                    self.step += 1
                    self.samples += n
                    self.seconds = base_seconds + time.perf_counter() - session_start
                    meter.add(loss, acc, value_mse, n, data_seconds)
                    if self.step % c.log_every == 0:
                        self._report_progress(meter, lr, bar)
                        meter.new_window()
                    if bar is not None:
                        bar.update(1)
                    if interrupt.requested:
                        raise KeyboardInterrupt
                    if time.perf_counter() - last_checkpoint >= 60 * c.checkpoint_minutes:
                        self._save_checkpoint()
                        self._save_state()
                        if c.eval_games:
                            self.evaluate(c.eval_games)
                            self.seconds = base_seconds + time.perf_counter() - session_start
                        last_checkpoint = time.perf_counter()
            except KeyboardInterrupt:
                interrupted = True
            finally:
                if bar is not None:
                    bar.close()
        self.seconds = base_seconds + time.perf_counter() - session_start
        if interrupted:
            self._save_state()
            self.log(f"interrupted at step {self.step}; state saved in {self.state_path}: rerun the command to resume")
            raise KeyboardInterrupt
        checkpoint = self._save_checkpoint()
        self._save_state()
        self.log(f"trained {self.step} steps ({self.samples} samples) in {self.seconds / 60:.1f} min; "
                 f"checkpoint {checkpoint}")
        report = self.evaluate(c.final_eval_games)
        self.finished = True
        self._save_state()
        atomic_write_json(self.dir / "final.json", {"checkpoint": checkpoint, "step": self.step,
                                                    "samples": self.samples, "minutes": round(self.seconds / 60, 2),
                                                    "report": report})
        self._tb.flush()
        return report


class _Meter:
    """Moving averages (0.98 per step) of loss, top-1 and value mse, and the samples/s and the
    share of time spent waiting for data over the current log window."""

    def __init__(self):
        self.ema: dict[str, float] = {}
        self.new_window()

    def new_window(self) -> None:
        self.window_samples, self.window_start, self.data_seconds = 0, time.perf_counter(), 0.0

    def add(self, loss: float, acc: float, value_mse: Optional[float], samples: int, data_seconds: float) -> None:
        for name, v in (("loss", loss), ("top1", acc), ("value_loss", value_mse)):
            if v is not None:
                self.ema[name] = v if name not in self.ema else 0.98 * self.ema[name] + 0.02 * v
        self.window_samples += samples
        self.data_seconds += data_seconds

    def values(self, lr: float) -> dict[str, float]:
        elapsed = max(time.perf_counter() - self.window_start, 1e-9)
        values = {"loss": self.ema["loss"], "top1": self.ema["top1"], "learning_rate": lr,
                  "samples_per_s": self.window_samples / elapsed, "data_share": self.data_seconds / elapsed}
        if "value_loss" in self.ema:
            values["value_loss"] = self.ema["value_loss"]
        return values
