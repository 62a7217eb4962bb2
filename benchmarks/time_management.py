"""How much thinking time genmove's time management saves on forced moves, and spends on unclear ones.

    python benchmarks/time_management.py --size 9 --period 1.0 --moves 60 [--model CHECKPOINT]

A game is played first by the rollout search against itself at a fixed number of visits, to
have realistic positions (a network's own game would do, once a trained one is at hand). Each position is then searched by
genmove under byo-yomi (`time_settings 0 PERIOD 1`), from a fresh tree, with the time
management on (early stop once the move cannot change; up to 1.5x the budget when the choice
is unclear). Prints one JSON line: the planned seconds (the budget of every move), the seconds
spent, how many moves stopped early and how many thought longer, and the share of the planned
time saved on the moves that stopped early. Timings are noisy on a shared machine; the ratios
(spent / planned) are what to read.
"""

from __future__ import annotations

import argparse
import json
import time

from goengine.gtp.engine import Engine, EngineOptions
from goengine.gtp.timecontrol import Clock


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--period", type=float, default=1.0, help="byo-yomi period in seconds (one stone)")
    p.add_argument("--moves", type=int, default=60, help="positions of the game to time")
    p.add_argument("--game-visits", type=int, default=1000, help="visits per move of the game that makes the positions")
    p.add_argument("--model", default=None, help="checkpoint (default: the rollout search)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--verbose", action="store_true", help="a line per move")
    args = p.parse_args()

    options = dict(model=args.model, size=args.size, resign_threshold=0.0, seed=args.seed, opening_temperature=0.0)
    player = Engine(EngineOptions(visits=args.game_visits, **dict(options, model=None)))
    moves = []
    for i in range(args.moves):
        vertex = player.handle_line(f"genmove {'bw'[i % 2]}")[2:].strip()
        if vertex in ("pass", "resign"):
            break
        moves.append(vertex)

    timed = Engine(EngineOptions(**options))
    timed.handle_line("genmove b")  # compiles and measures the speed before the timed moves
    rows = []
    for i in range(len(moves)):
        timed.handle_line("clear_board")
        for j, vertex in enumerate(moves[:i]):
            timed.handle_line(f"play {'bw'[j % 2]} {vertex}")
        timed.handle_line(f"time_settings 0 {args.period} 1")
        colour = 1 if i % 2 == 0 else 2
        planned = timed.options.time_policy.budget(timed.time_settings, Clock.start(timed.time_settings),
                                                   args.size, i)
        timed.searcher().reset()
        started = time.monotonic()
        timed.handle_line(f"genmove {'bw'[colour - 1]}")
        spent = time.monotonic() - started
        rows.append((planned, spent, timed.searcher().last.stop))
        if args.verbose:
            print(f"move {i}: planned {planned:.2f} s, spent {spent:.2f} s, {timed.searcher().last}")
    planned = sum(r[0] for r in rows)
    spent = sum(r[1] for r in rows)
    settled = [r for r in rows if r[2] == "settled"]
    extended = [r for r in rows if r[2] == "extended"]
    print(json.dumps({
        "size": args.size, "moves": len(rows), "period_s": args.period, "model": args.model or "rollout",
        "planned_s": round(planned, 2), "spent_s": round(spent, 2), "spent_per_planned": round(spent / planned, 3),
        "settled_moves": len(settled),
        "settled_spent_per_planned": round(sum(r[1] for r in settled) / max(1e-9, sum(r[0] for r in settled)), 3),
        "saved_s": round(sum(r[0] - r[1] for r in settled), 2),
        "extended_moves": len(extended),
        "extended_spent_per_planned": round(sum(r[1] for r in extended) / max(1e-9, sum(r[0] for r in extended)), 3),
    }))


if __name__ == "__main__":
    main()
