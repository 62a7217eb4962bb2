"""The `goengine` command. Each subcommand lives in its own module and is imported only when
it runs, so `goengine gtp` never pays for torch or the trainers it does not use. This is the
composition root: it may name modules of every layer."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# name -> (module, one-line help). Each module defines `add_arguments(parser)` and `run(args)`.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("goengine.demo", "play a game between two built-in players and print it"),
    "gtp": ("goengine.gtp.cli", "play over GTP on stdin/stdout (for Sabaki, Lizzie, GoGui, match tools)"),
    "analysis": ("goengine.analysis.cli", "KataGo's JSON analysis engine on stdin/stdout (for KaTrain, review tools)"),
    "match": ("selfplay.match_cli", "play a match between two players (networks, built-ins, GTP engines)"),
    "ratings": ("selfplay.ratings_cli", "Bradley-Terry ratings of the players in match ledgers"),
    "train": ("training.cli", "self-play training: the AlphaGo Zero loop on a run directory"),
    "train-sl": ("training.sl.cli", "supervised policy training on expert SGF games (AlphaGo stage 1)"),
    "eval-policy": ("training.sl.eval_cli", "move-prediction accuracy of a policy network on expert games"),
    "train-rollout": ("training.rollout.cli", "fit AlphaGo's fast rollout policy on expert games"),
    "train-rl": ("training.rl.cli", "AlphaGo's policy-gradient self-play against a pool of earlier policies"),
    "train-value": ("training.value.cli", "AlphaGo's value network on one position per self-play game"),
    "bundle-network": ("training.bundle", "ship a trained checkpoint inside the package (fp16 weights + model card)"),
}


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the selected subcommand's module is imported (for its arguments)."""
    return _build(selected)[0]


def _build(selected: str | None) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser | None]:
    from . import __version__

    parser = argparse.ArgumentParser(prog="goengine", description="A self-learning Go engine.")
    parser.add_argument("--version", action="version", version=f"goengine {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="on an unexpected error, print the Python traceback instead of a one-line message")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if name == selected:
            importlib.import_module(module).add_arguments(p)
            chosen = p
    return parser, chosen


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # OpenMP threads that spin while idle cripple torch on shared cores; set the policy before
    # any subcommand imports torch (worker processes inherit it). See goengine/nn/runtime.py.
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
    selected = next((a for a in argv if not a.startswith("-")), None)
    selected = selected if selected in SUBCOMMANDS else None
    parser, sub_parser = _build(selected)
    if not argv:
        parser.print_help()
        return 0
    args, extra = parser.parse_known_args(argv)
    if extra:
        # The subcommand's own usage, not the top level's: that is where the flag was wrong.
        (sub_parser or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "_module", None) is None:
        parser.print_help()
        return 2
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a message, not a traceback: what went wrong, in one line
        if args.traceback:
            raise
        print(f"goengine {args.command}: {_describe(e)}", file=sys.stderr)
        return 1


def _describe(error: Exception) -> str:
    if isinstance(error, FileNotFoundError) and error.filename:
        return f"{error.filename}: no such file or folder"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    text = " ".join(str(error).split())
    if isinstance(error, (ValueError, OSError)) or type(error).__name__.endswith("Error") and text:
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}"


if __name__ == "__main__":
    sys.exit(main())
