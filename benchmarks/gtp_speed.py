"""Visits per second of GTP `genmove` with a network, for each network runtime, in one run.

    python benchmarks/gtp_speed.py --size 9 --tag b4c48 --visits 800 [--backends torch,openvino]
    python benchmarks/gtp_speed.py --size 19 --tag b6c64 --visits 800

The engine is the one `goengine gtp` runs, in this process (commands through
`Engine.handle_line`), with a random-weight PolicyValueNet checkpoint (ownership head, as the
training presets build it). Each timed genmove follows `clear_board` and the same few opening
moves, so no tree is reused and every runtime searches the same positions; the runtimes take
turns, so a noisy neighbour slows them alike. Prints one JSON line per runtime with visits/s and
the ratio to torch.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from goengine.nn import NetConfig, build_network, save_checkpoint  # isort: skip  (sets OpenMP first)
from goengine.gtp.engine import Engine, EngineOptions
from goengine.nn.backends import installed

OPENINGS = {9: ["E5", "C3", "G7", "C7", "G3"], 19: ["Q16", "D4", "Q3", "D16", "R5", "C10"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--tag", default="b4c48")
    p.add_argument("--visits", type=int, default=800)
    p.add_argument("--moves", type=int, default=4, help="timed genmoves per runtime per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--backends", default=None, help="default: torch and every installed CPU runtime")
    p.add_argument("--precision", default=None, choices=("fp32", "bf16"))
    args = p.parse_args()
    backends = (args.backends.split(",") if args.backends else
                ["torch"] + [b for b in ("openvino", "onnxruntime") if installed(b)])

    config = NetConfig.from_tag(args.tag, kind="policy_value", board_sizes=(args.size,), ownership=True)
    stem = f"{tempfile.mkdtemp(prefix='gtp-speed-')}/net"
    save_checkpoint(stem, build_network(config), config)
    engines = {}
    for backend in backends:
        engine = Engine(EngineOptions(model=stem, backend=backend, visits=args.visits, size=args.size,
                                      threads=args.threads, resign_threshold=0.0,
                                      precision=args.precision))
        engine.handle_line(f"boardsize {args.size}")
        engine.handle_line("genmove b")  # loads the network, compiles, warms the search
        engines[backend] = engine
    opening = OPENINGS.get(args.size, [])
    totals = {b: [0, 0.0] for b in backends}
    for _ in range(args.rounds):
        for backend, engine in engines.items():
            for _ in range(args.moves):
                engine.handle_line("clear_board")
                for i, vertex in enumerate(opening):
                    engine.handle_line(f"play {'bw'[i % 2]} {vertex}")
                start = time.perf_counter()
                reply = engine.handle_line(f"genmove {'bw'[len(opening) % 2]}")
                totals[backend][1] += time.perf_counter() - start
                assert reply.startswith("="), reply
                # The visits the search ran (an early stop may spend fewer than asked).
                totals[backend][0] += engine.searcher().last.searched
    base = totals["torch"][0] / totals["torch"][1] if "torch" in totals else None
    for backend, (visits, seconds) in totals.items():
        rate = visits / seconds
        print(json.dumps({"benchmark": "gtp_speed", "backend": backend,
                          "runtime": engines[backend].evaluator.description, "size": args.size,
                          "tag": args.tag, "visits_per_move": round(visits / (args.rounds * args.moves)),
                          "visits_per_s": round(rate, 1), "seconds_per_move": round(args.visits / rate, 3),
                          "ratio_to_torch": round(rate / base, 2) if base else None}), flush=True)


if __name__ == "__main__":
    main()
