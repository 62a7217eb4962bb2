"""Runs the training loop on a tiny 5x5 run and, when told, kills its own process group with
SIGKILL at a chosen moment: what `kill -9` of the group does, at a moment a test can name.
Used by test_reliability.py as `python tests/kill_driver.py RUN_DIR [--kill SPEC]`.

SPEC is one of
    write:KIND:N     the N-th atomic write of KIND, after its temporary file is written and
                     before it is renamed into place (the temporary file is left behind)
    phase:PHASE:G    just after state.json records generation G in PHASE
    ledger-torn:N    half way through writing the N-th ledger line
    chunk-seen:N     as soon as N record chunks are on disk (the writes of worker processes,
                     watched from here)
KIND: chunk, attempts, selfplay-sgf, weights, checkpoint-json, trainer-state, owner, state,
best, gate-sgf. Without --kill the loop runs to the end. A kill point never reached makes the
driver exit with NOT_REACHED.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

NOT_REACHED = 3
KINDS = {
    "chunk": r"/records/[^/]+\.npz$",
    "attempts": r"/records/[^/]+-attempts\.json$",
    "selfplay-sgf": r"/sgf/gen\d+/[^/]+\.sgf$",
    "weights": r"/models/[^/]+\.safetensors$",
    "checkpoint-json": r"/models/[^/]+\.json$",
    "trainer-state": r"/train_state/latest$",
    "owner": r"/train_state/latest\.owner\.json$",
    "state": r"/state\.json$",
    "best": r"/best\.json$",
    "gate-sgf": r"/sgf/gate\d+/[^/]+\.sgf$",
}


def tiny_overrides(workers: int) -> list[str]:
    return ["run.device='cpu'", "run.generations=2", "selfplay.games_per_generation=4",
            "selfplay.parallel_games=2", "selfplay.simulations=8", "selfplay.cheap_simulations=4",
            "selfplay.games_per_chunk=2", f"selfplay.workers={max(1, workers)}", "training.steps_per_generation=4",
            "training.batch_size=16", "gating.games=2", "gating.simulations=4", "gating.parallel_games=2",
            "gating.threshold=0.0"]  # every gate plays its games and promotes: best.json is written


def kill_group() -> None:
    sys.stdout.flush()
    os.killpg(os.getpgrp(), signal.SIGKILL)


def install(spec: str, records: Path) -> None:
    what, _, rest = spec.partition(":")
    if what == "write":
        kind, n = rest.split(":")
        pattern, wanted, seen = re.compile(KINDS[kind]), int(n), [0]
        from goengine import atomic
        real_replace = atomic.os.replace

        def replace(src, dst):
            if pattern.search(str(dst)):
                seen[0] += 1
                if seen[0] == wanted:
                    kill_group()
            return real_replace(src, dst)

        atomic.os.replace = replace
    elif what == "phase":
        phase, g = rest.split(":")
        from training.rundir import RunDir
        real_write = RunDir.write_state

        def write_state(self, state):
            real_write(self, state)
            if state["phase"] == phase and state["generation"] == int(g):
                kill_group()

        RunDir.write_state = write_state
    elif what == "ledger-torn":
        wanted, seen = int(rest), [0]
        from selfplay import ledger
        real_write = ledger.os.write

        def write(fd, data):
            if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")) == "matches.jsonl":
                seen[0] += 1
                if seen[0] == wanted:
                    real_write(fd, data[: len(data) // 2])
                    kill_group()
            return real_write(fd, data)

        ledger.os.write = write
    elif what == "chunk-seen":
        wanted = int(rest)

        def watch():
            while len(list(records.glob("*.npz"))) < wanted:
                time.sleep(0.002)
            kill_group()

        threading.Thread(target=watch, daemon=True).start()
    else:
        raise SystemExit(f"unknown kill spec {spec!r}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--kill", default=None)
    parser.add_argument("--workers", type=int, default=0, help="self-play processes (0: in this process)")
    args = parser.parse_args()
    from training.config import load_preset
    from training.loop import TrainingLoop

    config = load_preset("5x5-smoke").override(tiny_overrides(args.workers))
    if args.kill:
        install(args.kill, Path(args.run_dir) / "records")
    loop = TrainingLoop(args.run_dir, config, workers=max(1, args.workers), progress=False,
                        in_process_selfplay=args.workers == 0, log=lambda line: print(line, flush=True))
    loop._writer = lambda: None  # no TensorBoard: it starts slowly and is not under test
    loop.run()
    return NOT_REACHED if args.kill else 0


if __name__ == "__main__":
    sys.exit(main())
