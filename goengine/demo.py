"""`goengine demo`: a game between two built-in players, printed to the terminal."""

from __future__ import annotations

import argparse
import time

import numpy as np

from .coords import DEFAULT_SIZE, vertex_of_loc
from .game import GameState, colour_name
from .players import random_move


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"board size (default {DEFAULT_SIZE})")
    parser.add_argument("--komi", type=float, default=None, help="komi (default: the rules' own)")
    parser.add_argument("--rules", default="chinese", help="rule set preset (default chinese)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--every", type=int, default=0, help="print the board every N moves (0: only at the end)")


def run(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    game = GameState(args.size, komi=args.komi, rules=args.rules)
    start = time.perf_counter()
    while not game.is_over:
        loc = random_move(game, rng)
        game.play(loc)
        if args.every and game.move_number % args.every == 0:
            print(f"move {game.move_number}: {colour_name(3 - game.to_play)} {vertex_of_loc(loc, game.size)}")
            print(game.to_ascii(), end="\n\n")
    print(game.to_ascii())
    print(f"{game.move_number} moves in {time.perf_counter() - start:.2f} s; result {game.result_string()} "
          f"under {game.rules.name} rules, komi {game.komi:g}")
    return 0
