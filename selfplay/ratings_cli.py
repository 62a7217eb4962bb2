"""`goengine ratings LEDGER...`: Bradley-Terry ratings of every player in match ledgers."""

from __future__ import annotations

import argparse
import sys

from .ratings import parse_anchor, plot_ratings, rate_ledgers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ledgers", nargs="+", metavar="LEDGER", help="JSONL match ledger(s)")
    parser.add_argument("--anchor", default=None, metavar="NAME=ELO",
                        help="player held at a fixed rating (default: random = 0 if it played, else the most active player = 0)")
    parser.add_argument("--plot", default=None, metavar="PNG", help="draw Elo by generation to this PNG")
    parser.add_argument("--visits", type=int, default=None, help="only games played at this many visits")
    parser.add_argument("--prior-draws", type=float, default=1.0,
                        help="virtual draws added to each pair of players that met (default 1)")
    parser.add_argument("--pairs", action="store_true", help="also print each pairing's games and score")


def run(args: argparse.Namespace) -> int:
    try:
        anchor, anchor_elo = parse_anchor(args.anchor) if args.anchor else (None, 0.0)
        table, skipped, repeated = rate_ledgers(args.ledgers, anchor, anchor_elo, args.prior_draws, args.visits)
    except ValueError as e:
        print(f"goengine ratings: {e}", file=sys.stderr)
        return 2
    if skipped:
        print(f"skipped {skipped} malformed ledger line(s)", file=sys.stderr)
    if repeated:
        print(f"counted once: {repeated} ledger record(s) repeating a game already read (same match and game)",
              file=sys.stderr)
    print(table.format())
    if args.pairs:
        print(table.format_pairs())
    if args.plot:
        print(f"plot: {plot_ratings(table, args.plot)}")
    return 0
