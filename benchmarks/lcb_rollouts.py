"""Does choosing moves by LCB help the rollout search? A match of the rollout search choosing
by lower confidence bound against itself choosing the most visited move.

    python benchmarks/lcb_rollouts.py --games 40 --visits 400 --size 9

Both players are the classical search (uniform priors, random rollouts) with the same visits;
only the final choice differs. Prints one JSON line: the LCB player's wins, losses and draws,
its Elo difference with a 95% interval, and how often the two rules would have chosen
different moves in the LCB player's searches (the games can only differ there).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from goengine.players import SearchPlayer
from goengine.search import rollout_search_config
from goengine.search.choice import lcb_action
from selfplay.match import MatchConfig, format_elo, play_match
from selfplay.players_spec import object_player


class CountingPlayer(SearchPlayer):
    """A search player that counts the searches where LCB and the most visits disagree."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.searches = 0
        self.disagreements = 0

    def after_search(self, slot, game, result, cleanup=False):
        self.searches += 1
        by_lcb = lcb_action(result, self.config.lcb_min_visit_fraction)
        self.disagreements += int(by_lcb != int(np.argmax(result.visit_counts)))
        return super().after_search(slot, game, result, cleanup)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--games", type=int, default=40)
    p.add_argument("--visits", type=int, default=400)
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    lcb = CountingPlayer(rollout_search_config(args.visits, use_lcb=True), args.size, seed=args.seed + 1)
    visits = SearchPlayer(rollout_search_config(args.visits), args.size, seed=args.seed + 2)
    config = MatchConfig(games=args.games, size=args.size, visits=args.visits, seed=args.seed, parallel=1,
                         opening_moves=(2, 4))
    result = play_match(object_player(lcb, "rollout-lcb"), object_player(visits, "rollout-visits"), config)
    elo, lo, hi = result.elo
    print(json.dumps({"games": len(result.games), "visits": args.visits, "size": args.size,
                      "lcb_wins": result.wins, "lcb_losses": result.losses, "draws": result.draws,
                      "elo": format_elo(elo), "elo_95": [format_elo(lo), format_elo(hi)],
                      "searches": lcb.searches,
                      "choice_differs": round(lcb.disagreements / max(1, lcb.searches), 3)}))


if __name__ == "__main__":
    main()
