"""`goengine demo`: a game between two built-in players, printed to the terminal."""

from __future__ import annotations

import argparse
import time

import numpy as np

from .board import is_eyeish
from .coords import vertex_of_loc, PASS_LOC
from .game import GameState, colour_name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=9, help="board size (default 9)")
    parser.add_argument("--komi", type=float, default=None, help="komi (default: the rules' own)")
    parser.add_argument("--rules", default="chinese", help="rule set preset (default chinese)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--every", type=int, default=0, help="print the board every N moves (0: only at the end)")


def random_move(game: GameState, rng: np.random.Generator) -> int:
    """Uniform over legal moves that do not fill the mover's own eye; pass when none is left."""
    locs = [loc for loc in game.legal_locs() if loc != PASS_LOC and not is_eyeish(game.board, loc, game.to_play)]
    return int(rng.choice(locs)) if locs else PASS_LOC


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
