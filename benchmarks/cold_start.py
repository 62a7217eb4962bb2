"""A first start as a user sees it: `goengine gtp` with an empty numba cache, then again with the
cache it left behind.

    python benchmarks/cold_start.py [--size 9] [--visits 50] [--model STEM] [--kernels]

prints JSON lines, one per start ("cold", then "warm"): seconds until `name` is answered and
until the first and second `genmove` come back, and the engine's stderr lines about its
start-up. `--kernels` adds one more cold start inside this process that records numba's
compile events and prints the top-level kernels compiled before the first move, slowest first
(nested kernels are inlined into them and counted in their time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"cold": 30.0, "warm": 2.0}  # seconds of the first genmove, on 2 cores


def engine_env(cache: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["NUMBA_CACHE_DIR"] = cache
    return env


def timed_start(cache: str, args: argparse.Namespace) -> dict:
    argv = [sys.executable, "-m", "goengine.cli", "gtp", "--size", str(args.size), "--visits", str(args.visits)]
    if args.model:
        argv += ["--model", args.model, "--threads", "1"]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
                                env=engine_env(cache))

        def command(text: str) -> tuple[str, float]:
            t = time.monotonic()
            proc.stdin.write(text + "\n")
            proc.stdin.flush()
            lines = []
            while True:
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"the engine exited during {text!r}")
                if not line.strip():
                    break
                lines.append(line.strip())
            return " ".join(lines), time.monotonic() - t

        name, _ = command("name")
        name_at = time.monotonic() - started
        first, first_s = command("genmove b")
        second, second_s = command("genmove w")
        command("quit")
        proc.wait(timeout=30)
        err.seek(0)
        log = [line.rstrip() for line in err if "goengine" in line]
    return {"name": name, "name_s": round(name_at, 2), "first_genmove": first, "first_genmove_s": round(first_s, 2),
            "second_genmove": second, "second_genmove_s": round(second_s, 2), "stderr": log}


def kernel_breakdown(cache: str, args: argparse.Namespace) -> list[tuple[str, float]]:
    """Compile the kernels of a first move in a child process with numba's compile events on."""
    code = f"""
import json, sys, time
from numba.core import event
rows, stack = [], []
class Listener(event.Listener):
    def on_start(self, ev):
        stack.append(time.perf_counter())
    def on_end(self, ev):
        t = stack.pop()
        if not stack:
            f = ev.data['dispatcher'].py_func
            rows.append((f.__module__ + '.' + f.__qualname__, round(time.perf_counter() - t, 2)))
event.register('numba:compile', Listener())
from goengine.gtp.engine import Engine, EngineOptions
engine = Engine(EngineOptions(size={args.size}, visits={args.visits}, model={args.model!r}, threads=1))
engine.handle_line('genmove b')
print(json.dumps(sorted(rows, key=lambda r: -r[1])))
"""
    out = subprocess.run([sys.executable, "-c", code], env=engine_env(cache), capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=9, help="board size (default 9)")
    parser.add_argument("--visits", type=int, default=50, help="visits per move (default 50)")
    parser.add_argument("--model", default=None,
                        help="what to play: a checkpoint, bundled:NAME or rollout (default: what goengine gtp "
                             "plays without --model, the bundled network for the size)")
    parser.add_argument("--kernels", action="store_true", help="also list the kernels compiled and their times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        cold = timed_start(cache, args)
        print(json.dumps({"start": "cold", **cold}), flush=True)
        warm = timed_start(cache, args)
        print(json.dumps({"start": "warm", **warm}), flush=True)
    # The targets are for the first genmove; from starting the engine to its first move is what
    # a GUI waits for in all.
    genmove = {"cold": cold["first_genmove_s"], "warm": warm["first_genmove_s"]}
    first_move = {k: round(r["name_s"] + r["first_genmove_s"], 2) for k, r in (("cold", cold), ("warm", warm))}
    print(json.dumps({"first_genmove_s": genmove, "targets_s": TARGETS,
                      "met": {k: genmove[k] <= TARGETS[k] for k in TARGETS}, "start_to_first_move_s": first_move}),
          flush=True)
    if args.kernels:
        with tempfile.TemporaryDirectory() as cache:
            print(json.dumps({"kernels": kernel_breakdown(cache, args)}), flush=True)


if __name__ == "__main__":
    main()
