"""The networks of a run: the initial one, and training a candidate for each generation.

One training network continues from generation to generation (AlphaGo Zero), whether or not its
candidates are promoted: each generation starts from the previous candidate's weights and the
optimizer state saved with it, trains on the replay window and is saved as
`models/{generation:06d}-{tag}`.
"""

from __future__ import annotations

import json
from typing import Optional

from .config import RunConfig
from goengine.atomic import atomic_write_json

from .rundir import RunDir


def net_config_of(config: RunConfig):
    from goengine.features import get_feature_set
    from goengine.nn import NetConfig

    n = config.network
    fs = get_feature_set(n.feature_set)
    return NetConfig.from_tag(n.tag, kind="policy_value", in_planes=fs.num_planes, feature_set=fs.name,
                              feature_version=fs.version, board_sizes=(config.run.board_size,),
                              global_pooling=n.global_pooling, ownership=n.ownership, score=n.score)


def model_id_of(generation: int, config: RunConfig) -> str:
    return f"{generation:06d}-{config.network.tag}"


def create_initial_model(run_dir: RunDir, config: RunConfig) -> str:
    """Generation 0: a randomly initialised network (seeded by the run's seed), or the network
    `run.init_from` names, in fp32, with that network as its parent."""
    import torch

    from goengine.nn import build_network, save_checkpoint

    torch.manual_seed(config.run.seed)
    net_config = net_config_of(config)
    parent, extra = None, None
    if config.run.init_from:
        model, parent = initial_weights(config.run.init_from, net_config)
        extra = {"init_from": config.run.init_from}
    else:
        model = build_network(net_config)
    model_id = model_id_of(0, config)
    save_checkpoint(run_dir.model_stem(model_id), model, net_config, step=0, parent_model_id=parent,
                    model_id=model_id, train_config=config.to_dict(), extra=extra)
    return model_id


def initial_weights(source: str, net_config):
    """(fp32 model, its model id) of checkpoint or bundled network `source`, which must have
    the run's architecture, features and heads."""
    from dataclasses import asdict

    from goengine.networks import bundled
    from goengine.nn import load_checkpoint

    stem = bundled(source.split(":", 1)[1]).stem if source.startswith("bundled:") else source
    model, config, meta = load_checkpoint(stem)
    mine, theirs = asdict(net_config), asdict(config)
    differ = [f"{k} {theirs.get(k)!r} (the run: {v!r})" for k, v in mine.items() if theirs.get(k) != v]
    if differ:
        raise ValueError(f"run.init_from {source}: not the run's network: " + ", ".join(differ))
    return model.float(), meta.get("model_id")


def train_config_of(config: RunConfig, device: str):
    from .trainer import TrainConfig

    t = config.training
    return TrainConfig(batch_size=t.batch_size, optimizer=t.optimizer, learning_rate=t.learning_rate,
                       lr_schedule=t.lr_schedule, momentum=t.momentum, weight_decay=t.weight_decay,
                       value_loss_weight=t.value_loss_weight, ownership_loss_weight=t.ownership_loss_weight,
                       score_loss_weight=t.score_loss_weight, device=device, precision=t.precision)


def train_generation(run_dir: RunDir, config: RunConfig, *, generation: int, parent: str, device: str,
                     tb=None, progress: bool = True, report=None, window=None, dist=None) -> dict:
    """Train the candidate of `generation` from `parent` (the previous candidate) and save it.
    Returns {"candidate", "train_steps", "loss", "policy_loss", "value_loss", "samples_per_s"}.
    `report(message)` hears of record chunks set aside as unreadable. `window`: a ReplayWindow
    to refresh and reuse (the asynchronous loop keeps one, so old chunks are parsed once).
    `dist`: this process's DistContext in a DDP group (`distributed.py`); only rank 0 saves."""
    from goengine.nn import load_checkpoint, save_checkpoint

    from .dataset import SampleStream
    from .replay import ReplayWindow
    from .trainer import Trainer

    t = config.training
    model, net_config, meta = load_checkpoint(run_dir.model_stem(parent), device=device)
    model.train()
    if dist is None:
        trainer = Trainer(model, net_config, train_config_of(config, device), tb_writer=tb)
    else:
        from .distributed import DistributedTrainer
        trainer = DistributedTrainer(model, net_config, train_config_of(config, device), dist, tb_writer=tb)
    step0 = int(meta.get("step", 0))
    trainer.step = step0
    _load_optimizer_state(run_dir, trainer, parent)
    if window is None:
        window = ReplayWindow(run_dir.records, t.window_games, board_size=config.run.board_size, report=report)
    else:
        window.refresh()
    candidate = model_id_of(generation, config)
    metrics: dict = {}
    steps = t.steps_per_generation if window.num_games >= max(1, t.min_window_games) else 0
    if steps:
        seed = hash((config.run.seed, generation)) & 0x7FFFFFFF
        bar = _progress_bar(progress, generation, steps)
        first = trainer.step

        def report(step: int, averages: dict) -> None:
            bar.set_fields(f"loss {averages['loss']:.3f}, {averages['samples_per_s']:.0f} samples/s")
            bar.update_to(step - first)

        with SampleStream(window, net_config, t.batch_size, seed=seed) as batches:
            metrics = trainer.train_steps(batches, steps, progress=report)
        bar.close()
    if dist is None or dist.rank == 0:
        save_checkpoint(run_dir.model_stem(candidate), trainer.model, net_config, step=step0 + steps,
                        parent_model_id=parent, model_id=candidate, train_config=config.to_dict(),
                        extra={"window_games": window.num_games, "window_positions": window.num_positions})
        _save_optimizer_state(run_dir, trainer, candidate)
    return {"candidate": candidate, "train_steps": steps, "loss": metrics.get("loss", float("nan")),
            "policy_loss": metrics.get("policy_loss", float("nan")),
            "value_loss": metrics.get("value_loss", float("nan")),
            "samples_per_s": metrics.get("samples_per_s", float("nan"))}


def train_generation_distributed(run_dir: RunDir, config: RunConfig, *, generation: int, parent: str,
                                 device: str) -> dict:
    """`train_generation` on `training.processes` local processes with DDP (one per GPU when
    `device` is CUDA); returns rank 0's result."""
    from .distributed import spawn

    result_path = run_dir.train_state.parent / f"ddp-result-{generation:06d}.json"
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    spawn(_train_rank, config.training.processes,
          (str(run_dir.root), config.to_dict(), generation, parent, str(result_path)), device_type=device_type)
    result = json.loads(result_path.read_text())
    result_path.unlink()
    return result


def _train_rank(ctx, root: str, config: dict, generation: int, parent: str, result_path: str) -> None:
    from .async_trainer import optional_writer

    run_dir, config = RunDir(root), RunConfig.from_dict(config)
    tb = optional_writer(run_dir.tensorboard) if ctx.rank == 0 else None
    try:
        result = train_generation(run_dir, config, generation=generation, parent=parent, device=ctx.device, tb=tb,
                                  progress=ctx.rank == 0, dist=ctx)
    finally:
        if tb is not None:
            tb.close()
    if ctx.rank == 0:
        atomic_write_json(result_path, result)


def _progress_bar(enabled: bool, generation: int, steps: int):
    from goengine.progress import Progress
    return Progress(total=steps, desc=f"gen {generation} train", unit="step", enabled=enabled)


def _save_optimizer_state(run_dir: RunDir, trainer, model_id: str) -> None:
    from .trainer import save_trainer_state
    save_trainer_state(run_dir.train_state, trainer)
    atomic_write_json(run_dir.train_state.with_suffix(".owner.json"), {"model_id": model_id})


def _load_optimizer_state(run_dir: RunDir, trainer, parent: str) -> Optional[str]:
    """The optimizer state belongs to the network it was saved with; use it only for that one."""
    owner = run_dir.train_state.with_suffix(".owner.json")
    if not owner.exists():
        return None
    if json.loads(owner.read_text()).get("model_id") != parent:
        return None
    from .trainer import load_trainer_state
    load_trainer_state(run_dir.train_state, trainer)
    return parent
