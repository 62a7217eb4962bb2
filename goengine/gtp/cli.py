"""`goengine gtp`: the engine over GTP on stdin/stdout, for GUIs (Sabaki, Lizzie, GoGui) and
match tools. Logs go to stderr only. Without --model it plays the network bundled with the
package for the board size in use (switching when the controller changes the size), and the
rollout search on sizes none fits; `--model rollout` forces the rollout search, `--model
bundled:NAME` names a bundled network, and a path names a checkpoint (goengine.nn.checkpoint):
see model_choice.py.

AlphaGo's search: --model an SL policy network (the priors), --value-model a value network, and
--rollout-model a rollout policy (`goengine train-rollout`); leaf values are
(1 - lambda) * value network + lambda * rollout outcome. --lambda defaults to 0.5 with a value
network, else to 1 with a rollout model (the rollouts are the value), else 0.

Every process plays its own games: without --seed it draws a seed (printed on stderr), and the
first moves are drawn with a low temperature, so a match tool that starts a fresh engine per
game against a deterministic opponent does not get the same game twice."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys

from ..coords import DEFAULT_SIZE
from ..runtime_options import add_runtime_arguments, runtime_problem
from .model_choice import AUTO, BUNDLED_PREFIX, ROLLOUT, parse_model, strip_suffix


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="checkpoint (stem, .json or .safetensors), bundled:NAME (a network shipped with "
                             "the package) or rollout (the search without a network); default: the bundled "
                             "network for the board size in use, the rollout search where none fits")
    parser.add_argument("--visits", type=int, default=None,
                        help="visits per move (default 10000 with rollouts, 800 with a network); "
                             "under a time control, a cap only when given")
    parser.add_argument("--time-per-move", type=float, default=None,
                        help="seconds per move: the budget without a time control, a cap with one")
    parser.add_argument("--rules", default="chinese", help="rule set preset (default chinese)")
    parser.add_argument("--komi", type=float, default=None, help="komi (default: the rules' own)")
    parser.add_argument("--size", type=int, default=None,
                        help="initial board size (default: the size the network was trained on, else 19)")
    parser.add_argument("--any-size", action="store_true",
                        help="let a network play board sizes it was not trained on (it runs on any size, "
                             "but plays them badly); without this they are refused")
    parser.add_argument("--resign-threshold", type=float, default=0.05,
                        help="resign below this win rate (0 never resigns; default 0.05)")
    parser.add_argument("--value-model", default=None,
                        help="value network checkpoint, its values mixed with rollouts (needs --model)")
    parser.add_argument("--rollout-model", default=None,
                        help="rollout policy checkpoint: leaf rollouts follow it (default: uniformly random)")
    parser.add_argument("--lambda", dest="rollout_lambda", type=float, default=None,
                        help="leaf value = (1 - lambda) value net + lambda rollout (default 0.5 with "
                             "--value-model, else 1 with --rollout-model, else 0)")
    parser.add_argument("--threads", type=int, default=None, help="threads for the network")
    add_runtime_arguments(parser)
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: a new one each time, printed on stderr, so that "
                             "every process plays its own games and any of them can be replayed)")
    parser.add_argument("--opening-temperature", type=float, default=0.5,
                        help="temperature of the first move, halving every N*N/19 moves until 0.1, "
                             "among moves with 10%% of the top visits (opening variety; 0: none; "
                             "default 0.5)")
    parser.add_argument("--log-level", default="INFO", help="stderr log level (default INFO)")


def _check(args: argparse.Namespace) -> str | None:
    from ..coords import MAX_SIZE, MIN_SIZE
    from ..rules import get_rules

    if args.visits is not None and args.visits < 1:
        return "--visits must be at least 1"
    if args.time_per_move is not None and not args.time_per_move > 0:
        return "--time-per-move must be positive"
    if args.size is not None and not MIN_SIZE <= args.size <= MAX_SIZE:
        return f"--size must be from {MIN_SIZE} to {MAX_SIZE}"
    if args.threads is not None and args.threads < 1:
        return "--threads must be at least 1"
    if args.seed is not None and args.seed < 0:
        return "--seed must not be negative"
    if not 0.0 <= args.opening_temperature <= 10.0:
        return "--opening-temperature must be from 0 to 10"
    try:
        get_rules(args.rules)
    except ValueError as e:
        return str(e)
    problem = model_problem(args.model)
    if problem is not None:
        return problem
    for flag, path in (("--value-model", args.value_model), ("--rollout-model", args.rollout_model)):
        if path is not None:
            problem = missing_checkpoint(flag, path)
            if problem is not None:
                return problem
    if runtime_problem(args.backend):
        return runtime_problem(args.backend)
    if args.value_model is not None and args.model in (None, ROLLOUT):
        return "--value-model needs --model (the policy network that gives the priors)"
    if args.rollout_lambda is not None and not 0.0 <= args.rollout_lambda <= 1.0:
        return "--lambda must be in [0, 1]"
    return None


def missing_checkpoint(flag: str, path: str) -> str | None:
    stem = strip_suffix(path)
    missing = [p for p in (stem + ".json", stem + ".safetensors") if not os.path.isfile(p)]
    return f"{flag}: {', '.join(missing)} not found" if missing else None


def model_problem(model: str | None) -> str | None:
    """What is wrong with --model (None: nothing): a bundled name that names no bundled
    network, or a checkpoint path whose files are missing."""
    if model is None or model in (ROLLOUT, AUTO):
        return None
    try:
        parse_model(model)
    except ValueError as e:
        return f"--model: {e}"
    return None if model.startswith(BUNDLED_PREFIX) else missing_checkpoint("--model", model)


def model_option(args: argparse.Namespace) -> str:
    """The --model the engine plays: as given, else the bundled default, except that a
    rollout policy without a network keeps the rollout search it names."""
    if args.model is not None:
        return args.model
    return ROLLOUT if args.rollout_model is not None else AUTO


def default_lambda(args: argparse.Namespace) -> float:
    if args.rollout_lambda is not None:
        return args.rollout_lambda
    if args.value_model is not None:
        return 0.5
    return 1.0 if args.rollout_model is not None else 0.0


def _initial_size(args: argparse.Namespace) -> int:
    """--size, else the one size the network was trained on (read from its JSON), else 19."""
    if args.size is not None:
        return args.size
    choice = parse_model(model_option(args))
    if choice.named:
        from ..networks import checkpoint_board_sizes

        sizes = checkpoint_board_sizes(strip_suffix(choice.stem))  # () if unreadable: the loader says why
        if len(sizes) == 1:
            return sizes[0]
    return DEFAULT_SIZE


def configure_logging(level_name: str) -> None:
    """Our loggers at the asked level on stderr; other libraries' (numba's DEBUG output runs to
    megabytes a kernel) at WARNING."""
    level = getattr(logging, str(level_name).upper(), logging.INFO)
    logging.basicConfig(stream=sys.stderr, level=max(level, logging.WARNING),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("goengine").setLevel(level)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    problem = _check(args)
    if problem is not None:
        print(f"goengine gtp: {problem}", file=sys.stderr)
        return 2
    from .engine import Engine, EngineOptions
    from .server import Server

    seed = args.seed if args.seed is not None else secrets.randbits(32)
    if args.seed is None:
        print(f"goengine gtp: seed {seed} (--seed {seed} plays these games again)", file=sys.stderr, flush=True)
    model = model_option(args)
    options = EngineOptions(model=model, visits=args.visits, time_per_move=args.time_per_move,
                            rules=args.rules, komi=args.komi, size=_initial_size(args), any_size=args.any_size,
                            resign_threshold=args.resign_threshold, threads=args.threads, seed=seed,
                            opening_temperature=args.opening_temperature,
                            backend=args.backend, precision=args.precision,
                            value_model=args.value_model, rollout_model=args.rollout_model,
                            rollout_lambda=default_lambda(args))
    engine = Engine(options)
    try:
        engine.load_model()
    except Exception as e:  # a broken or unsuitable model fails the start, before any GTP reply
        reason = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        which = f"--model {args.model}" if args.model is not None else "the bundled network"
        print(f"goengine gtp: cannot use {which}: {reason}", file=sys.stderr)
        return 2
    if args.threads is not None:
        try:
            import numba

            numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
        except (ImportError, ValueError):
            pass
    # Line-buffered text with "\n" endings on every platform.
    stdin = open(sys.stdin.fileno(), "r", encoding="utf-8", errors="replace", newline=None, closefd=False)
    stdout = open(sys.stdout.fileno(), "w", encoding="utf-8", newline="\n", closefd=False)
    return Server(engine, stdin, stdout).serve()
