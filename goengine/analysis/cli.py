"""`goengine analysis`: KataGo's JSON analysis protocol on stdin/stdout, for KaTrain and review
tools. One JSON query per line in; one JSON response per line out (possibly out of order: see
engine.py); logs on stderr. Without --model each board size is searched with the network
bundled for it, or with random rollouts where none fits; --model takes the forms of
`goengine gtp` (a checkpoint, bundled:NAME, rollout: goengine/gtp/model_choice.py).

KaTrain starts `katago analysis -model M -config C ...`: point its engine command at
`goengine analysis --model M` (extra KataGo flags such as -config are refused, so give KaTrain
the command without them)."""

from __future__ import annotations

import argparse
import queue
import sys
import threading

from ..runtime_options import add_runtime_arguments, runtime_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="checkpoint (stem, .json or .safetensors), bundled:NAME or rollout; default: the "
                             "bundled network for each board size, the rollout search where none fits")
    parser.add_argument("--visits", type=int, default=500,
                        help="visits per position when a query gives no maxVisits (default 500)")
    parser.add_argument("--max-visits", type=int, default=10_000,
                        help="the most visits any query gets; the search trees are sized for it (default 10000)")
    parser.add_argument("--parallel", type=int, default=4,
                        help="positions searched at once per board size, their leaves batched together (default 4)")
    parser.add_argument("--report-as", default="BLACK", choices=("BLACK", "WHITE", "SIDETOMOVE"),
                        help="whose view win rates, scores and ownership take, unless a query's "
                             "reportAnalysisWinratesAs says (default BLACK, as KaTrain expects)")
    parser.add_argument("--ownership-playouts", type=int, default=200,
                        help="random playouts per ownership estimate when the network has no ownership head "
                             "(default 200)")
    parser.add_argument("--any-size", action="store_true",
                        help="analyse board sizes the network was not trained on (refused otherwise)")
    parser.add_argument("--threads", type=int, default=None, help="threads for the network")
    add_runtime_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--log-level", default="INFO", help="stderr log level (default INFO)")


def _check(args: argparse.Namespace) -> str | None:
    for flag in ("visits", "max_visits", "parallel", "threads"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            return f"--{flag.replace('_', '-')} must be at least 1"
    if args.ownership_playouts < 1:
        return "--ownership-playouts must be at least 1"
    from ..gtp.cli import model_problem

    return model_problem(args.model) or runtime_problem(args.backend)


def run(args: argparse.Namespace) -> int:
    import logging

    from .. import __version__
    from ..gtp.cli import configure_logging
    from dataclasses import replace

    from ..gtp.engine import EngineOptions, _load_evaluator, trained_sizes
    from ..gtp.model_choice import AUTO, Networks, parse_model
    from .engine import AnalysisEngine, AnalysisSettings

    configure_logging(args.log_level)
    log = logging.getLogger("goengine.analysis")
    problem = _check(args)
    if problem is not None:
        print(f"goengine analysis: {problem}", file=sys.stderr)
        return 2
    evaluator = networks = None
    choice = parse_model(AUTO if args.model is None else args.model)
    options = EngineOptions(threads=args.threads, backend=args.backend, precision=args.precision)
    if choice.kind == "auto":
        networks = Networks(choice, lambda stem: _load_evaluator(replace(options, model=stem)), say=log.info)
    elif choice.named:
        try:
            evaluator = _load_evaluator(replace(options, model=choice.stem))
        except Exception as e:  # a broken model fails the start, before any query
            reason = str(e) if isinstance(e, (ValueError, OSError)) else f"{type(e).__name__}: {e}"
            print(f"goengine analysis: cannot use --model {args.model}: {reason}", file=sys.stderr)
            return 2
    settings = AnalysisSettings(max_visits=args.visits, max_visits_cap=args.max_visits, parallel=args.parallel,
                                perspective=args.report_as, ownership_playouts=args.ownership_playouts,
                                seed=args.seed, version=__version__, any_size=args.any_size,
                                trained_sizes=trained_sizes(evaluator))
    stdout = open(sys.stdout.fileno(), "w", encoding="utf-8", newline="\n", closefd=False)
    lock = threading.Lock()

    def write(text: str) -> None:
        with lock:
            stdout.write(text + "\n")
            stdout.flush()

    engine = AnalysisEngine(evaluator, settings, write, networks=networks)
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in open(sys.stdin.fileno(), "r", encoding="utf-8", errors="replace", closefd=False):
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, name="analysis-stdin", daemon=True).start()
    log.info("analysis engine ready (%s)", choice.label if choice.kind != "rollout" else "rollout search, no network")
    try:
        while True:
            try:
                line = lines.get(block=not engine.busy())
            except queue.Empty:
                engine.step()
                continue
            if line is None:
                engine.finish()  # answer everything asked before the end of input
                return 0
            engine.handle_line(line)
    except BrokenPipeError:
        return 0
