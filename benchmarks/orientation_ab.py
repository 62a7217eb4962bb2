"""A network's search with each leaf in a random board orientation (what `match` and `gtp` play)
against the same network always in the orientation given, at equal visits.

    python benchmarks/orientation_ab.py [--model bundled:9x9] [--visits 200] [--seeds 0,1]
                                        [--mode random|none|average] [--ledger FILE]

plays 40 games per seed through `selfplay.match.play_match` (the engine behind `goengine
match`; openings of 2-4 random moves so that the games differ) and prints one JSON line: wins
and losses of the `--mode` player over all games and over the distinct ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from goengine.nn import load_evaluator  # noqa: E402
from selfplay.match import MatchConfig, play_match  # noqa: E402
from selfplay.players_spec import network_player, parse_player  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled:9x9")
    parser.add_argument("--visits", type=int, default=200)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--mode", default="random", choices=("random", "none", "average"))
    parser.add_argument("--size", type=int, default=9)
    parser.add_argument("--ledger", default=None)
    args = parser.parse_args()
    stem = parse_player(args.model).checkpoint
    tested, plain = f"orientation-{args.mode}", "orientation-fixed"
    games = []
    for seed in (int(s) for s in args.seeds.split(",")):
        a = network_player(load_evaluator(stem, symmetry=args.mode, seed=seed), tested)
        b = network_player(load_evaluator(stem, symmetry="none"), plain)
        config = MatchConfig(games=40, visits=args.visits, size=args.size, komi=7.5, rules="chinese", seed=seed,
                             opening_moves=(2, 4), announce_backend=False)
        games += play_match(a, b, config, ledger=args.ledger).games
    distinct = {g.identity: g.winner_name for g in games}
    wins = sum(g.winner_name == tested for g in games)
    distinct_wins = sum(w == tested for w in distinct.values())
    print(json.dumps({"mode": args.mode, "visits": args.visits, "games": len(games), "wins": wins,
                      "losses": len(games) - wins, "distinct": len(distinct), "distinct_wins": distinct_wins,
                      "distinct_losses": len(distinct) - distinct_wins}))


if __name__ == "__main__":
    main()
