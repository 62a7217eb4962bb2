"""`goengine train`: the AlphaGo Zero loop on a run directory (resumable)."""

from __future__ import annotations

import argparse
import sys

from goengine.runtime_options import add_runtime_arguments

from .config import RunConfig, load_preset, load_toml, preset_names

# Settings that may change between restarts of one run without changing what it computes.
_RESTARTABLE = {("run", "generations"), ("run", "device"), ("run", "backend"), ("run", "precision"),
                ("run", "threads"), ("run", "executor"), ("run", "ray_address"), ("run", "ray_cpus_per_worker"),
                ("run", "ray_inference"), ("run", "ray_workers_per_node"),
                ("training", "precision"), ("training", "processes"),
                ("selfplay", "workers"), ("run", "init_from")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default=None,
                        help=f"a preset name ({', '.join(preset_names())}) or a TOML file; "
                             "default: the run dir's saved config, else 9x9-quick")
    parser.add_argument("--run-dir", required=True, help="where the run keeps its state; rerun to resume")
    parser.add_argument("--generations", type=int, default=None,
                        help="stop after this many generations in total (default: the preset's; 0 = until stopped)")
    parser.add_argument("--workers", type=int, default=None, help="self-play processes, or Ray actors (default: one per core of this machine or of the cluster)")
    parser.add_argument("--device", default=None, help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads of the trainer (default: one per physical core); with "
                             "several runs on one machine, give each a share of the cores")
    add_runtime_arguments(parser, backend_default=None, precision_default=None)
    parser.add_argument("--executor", default=None, choices=("local", "ray"),
                        help="where self-play runs: local worker processes (the default) or actors on a Ray "
                             "cluster (pip install -e '.[ray]')")
    parser.add_argument("--address", default=None,
                        help="with --executor ray: the cluster to join ('auto': the one `ray start` began here; "
                             "host:port); default: a private Ray on this machine")
    parser.add_argument("--async", dest="asynchronous", action="store_true",
                        help="the asynchronous loop (with --executor ray): self-play, training and gating at once")
    parser.add_argument("--init-from", default=None, metavar="MODEL",
                        help="a new run starts from this network instead of random weights: a checkpoint "
                             "or bundled:NAME (e.g. bundled:9x9); it must have the preset's architecture")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a setting, e.g. --set selfplay.visits=32 (repeatable)")
    parser.add_argument("--reconfigure", action="store_true",
                        help="allow settings to differ from those the run dir was started with")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (summaries only)")


def resolve_config(args: argparse.Namespace, saved: RunConfig | None) -> RunConfig:
    if args.preset is not None:
        config = load_preset(args.preset)
    elif saved is not None:
        config = saved
    else:
        config = load_preset("9x9-quick")
    extra = list(args.set)
    if args.generations is not None:
        extra.append(f"run.generations={args.generations}")
    if args.device is not None:
        extra.append(f"run.device={args.device!r}")
    if args.workers is not None:
        extra.append(f"selfplay.workers={args.workers}")
    if getattr(args, "threads", None) is not None:
        extra.append(f"run.threads={args.threads}")
    if getattr(args, "backend", None) is not None:
        extra.append(f"run.backend={args.backend!r}")
    if getattr(args, "precision", None) is not None:
        extra.append(f"run.precision={args.precision!r}")
    if getattr(args, "executor", None) is not None:
        extra.append(f"run.executor={args.executor!r}")
    if getattr(args, "address", None) is not None:
        extra.append(f"run.ray_address={args.address!r}")
    if getattr(args, "init_from", None) is not None:
        extra.append(f"run.init_from={args.init_from!r}")
    if getattr(args, "asynchronous", False):
        extra.append("run.mode='async'")
    config = config.override(extra)
    if saved is not None and not args.reconfigure:
        diffs = _differences(saved, config)
        if diffs:
            raise ValueError("this run dir was started with different settings: " + "; ".join(diffs)
                             + ". Use the same settings to resume, a new --run-dir, or --reconfigure.")
    return config


def _differences(a: RunConfig, b: RunConfig) -> list[str]:
    out = []
    da, db = a.to_dict(), b.to_dict()
    for section in da:
        for key in da[section]:
            if (section, key) in _RESTARTABLE:
                continue
            if da[section][key] != db[section][key]:
                out.append(f"{section}.{key} {da[section][key]!r} -> {db[section][key]!r}")
    return out


def run(args: argparse.Namespace) -> int:
    from goengine.atomic import atomic_write_text

    from .rundir import RunDir, RunDirBusy

    run_dir = RunDir(args.run_dir)
    try:
        saved = load_toml(run_dir.config_path)
        config = resolve_config(args, saved)
    except ValueError as e:
        print(f"goengine train: {e}", file=sys.stderr)
        return 2
    if config.run.executor == "ray":
        from selfplay.ray_session import RayMissing, import_ray
        try:
            import_ray()
        except RayMissing as e:
            print(f"goengine train: {e}", file=sys.stderr)
            return 2
    if config.run.init_from and run_dir.read_state() is None:
        # Checked before the run dir exists, so a wrong network leaves nothing behind.
        from goengine.nn import CheckpointError

        from .models import initial_weights, net_config_of
        try:
            initial_weights(config.run.init_from, net_config_of(config))
        except (OSError, ValueError, CheckpointError) as e:
            print(f"goengine train: {e}", file=sys.stderr)
            return 2
    run_dir.create()
    atomic_write_text(run_dir.config_path, config.to_toml())
    if config.run.mode == "async":
        from .async_loop import AsyncLoop
        loop = AsyncLoop(run_dir.root, config, progress=not args.no_progress)
    else:
        from .loop import TrainingLoop
        loop = TrainingLoop(run_dir.root, config, workers=config.selfplay.workers, progress=not args.no_progress)
    try:
        state = loop.run()
    except RunDirBusy as e:
        print(f"goengine train: {e}", file=sys.stderr)
        return 2
    if config.run.mode == "async":
        print(f"stopped after {state['candidates']} candidates ({state['train_steps']} training steps); best "
              f"network {state['best']}; rerun the same command to continue")
    else:
        print(f"stopped after generation {state['generation']} ({state['phase']}); best network {state['best']}; "
              f"rerun the same command to continue")
    return 0
