"""Reliability: kill -9 of the training process group at every phase boundary and during every
kind of atomic write, a parent killed alone, and damaged files of every kind.

A kill test runs `kill_driver.py` (the loop on a tiny 5x5 run) in a session of its own, which
SIGKILLs its process group at the named moment; then it checks that every file a reader could
open is whole, restarts, and after the last restart checks the whole run: both generations
complete, every game counted once and none played twice, SGF files for exactly the recorded
games, each gating game once in the ledger, best.json agreeing with state.json, no temporary
file left. The damaged-file sweep cuts and flips bytes of checkpoints, record chunks, SGF files
and archives, and requires a clear error (or a correct read) for each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from goengine.atomic import is_temp_name
from selfplay.ledger import read_ledger
from selfplay.records import QUARANTINE_DIR, read_chunk

from gtp_helpers import engine_env

DRIVER = Path(__file__).resolve().parent / "kill_driver.py"
GENERATIONS, GAMES, GATE_GAMES = 2, 4, 2  # as kill_driver.tiny_overrides sets them

# The moments of the first generation, in the order the loop reaches them (each restart
# continues from the last completed step, so each kill comes later than the one before).
FIRST_GENERATION_KILLS = [
    "write:weights:1", "write:checkpoint-json:1", "write:state:1", "write:best:1",   # generation 0
    "phase:selfplay:1", "write:attempts:1", "write:selfplay-sgf:2", "write:chunk:2",
    "phase:train:1", "write:trainer-state:1", "write:owner:1",
    "phase:gate:1", "write:gate-sgf:1", "ledger-torn:2", "write:state:1",
    "phase:done:1",
]
SECOND_GENERATION_KILLS = [
    "phase:selfplay:2", "write:selfplay-sgf:3", "write:chunk:1", "write:weights:1", "write:checkpoint-json:1",
    "phase:gate:2", "ledger-torn:1", "write:gate-sgf:2", "write:best:1",
]


def run_driver(run_dir: Path, kill: str | None = None, workers: int = 0, timeout: float = 300) -> int:
    argv = [sys.executable, str(DRIVER), str(run_dir), "--workers", str(workers)] + (["--kill", kill] if kill else [])
    proc = subprocess.Popen(argv, env=engine_env(), start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        _kill_session(proc.pid)
    assert proc.returncode in (0, -signal.SIGKILL), f"{kill}: exit {proc.returncode}\n{out[-3000:]}"
    if kill is not None:
        assert proc.returncode == -signal.SIGKILL, f"the kill point {kill} was never reached:\n{out[-3000:]}"
    return proc.returncode


def _kill_session(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def files(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.rglob("*") if p.is_file())


def check_every_file_loads(run_dir: Path) -> None:
    """What a reader (or a restart) opens must be whole: temporary files aside, every file the
    run wrote loads."""
    from goengine.nn import load_checkpoint
    from goengine.sgf import read_sgf

    for p in files(run_dir):
        if is_temp_name(p.name) or p.name == ".lock" or "tb" in p.relative_to(run_dir).parts:
            continue
        if p.suffix == ".npz":
            assert read_chunk(p), p
        elif p.suffix == ".sgf":
            read_sgf(p)
        elif p.parent.name == "models" and p.suffix == ".json":
            load_checkpoint(p)  # a JSON present means both halves are whole
        elif p.suffix == ".json":
            json.loads(p.read_text())
        elif p.name == "latest":
            import torch
            torch.load(p, map_location="cpu", weights_only=True)
    ledger = read_ledger(run_dir / "matches.jsonl")
    assert ledger.skipped <= 1  # at most the torn end of the line being written


def check_run_complete(run_dir: Path, torn_lines: int) -> None:
    from training.rundir import RunDir

    d = RunDir(run_dir)
    check_every_file_loads(run_dir)
    assert not [p for p in files(run_dir) if is_temp_name(p.name)], "temporary files left"
    state = d.read_state()
    assert state["generation"] == GENERATIONS and state["phase"] == "done"
    assert d.read_best() == state["best"]
    games = []
    for g in range(1, GENERATIONS + 1):
        recorded = [game for p in d.generation_chunks(g) for game in read_chunk(p)]
        assert len(recorded) == GAMES, f"generation {g}: {len(recorded)} games recorded"
        assert sorted(int(p.stem.rsplit("-", 1)[1]) for p in d.sgf(g).glob("*.sgf")) == \
            sorted(game.seed for game in recorded), f"generation {g}: SGF files and records differ"
        games += recorded
    assert len({game.seed for game in games}) == len(games), "a seed was played twice"
    assert len({tuple(game.actions) for game in games}) == len(games), "a game was played twice"
    assert [h["games"] for h in state["history"]] == [GAMES] * GENERATIONS
    ledger = read_ledger(d.ledger)
    assert ledger.skipped <= torn_lines
    per_gate = Counter(r["match"] for r in ledger.records)
    assert len(per_gate) == GENERATIONS and set(per_gate.values()) == {GATE_GAMES}, per_gate
    assert len({(r["match"], r["game"]) for r in ledger.records}) == len(ledger.records)
    for h in state["history"]:
        assert h["gate_wins"] + h["gate_losses"] + h["gate_draws"] == GATE_GAMES
    assert not (d.records / QUARANTINE_DIR).exists()


def kill_chain(run_dir: Path, kills: list[str], workers: int = 0) -> tuple[int, int]:
    """Kill at each moment in turn (restarting in between), then finish and check the run.
    Returns (tried, survived): a kill survived when every file still loaded after it and the
    finished run is whole."""
    survived = 0
    for kill in kills:
        run_driver(run_dir, kill, workers)
        check_every_file_loads(run_dir)
        survived += 1
    run_driver(run_dir, None, workers)
    check_run_complete(run_dir, torn_lines=sum(k.startswith("ledger-torn") for k in kills))
    return len(kills), survived


def test_kill_at_every_phase_boundary_and_atomic_write_of_a_generation(tmp_path):
    tried, survived = kill_chain(tmp_path / "run", FIRST_GENERATION_KILLS)
    assert (tried, survived) == (len(FIRST_GENERATION_KILLS), len(FIRST_GENERATION_KILLS))


def test_kills_in_the_second_generation(tmp_path):
    kill_chain(tmp_path / "run", SECOND_GENERATION_KILLS)


def test_kills_of_the_group_while_worker_processes_write(tmp_path):
    """Self-play in worker processes: the group dies as chunks appear, in both generations."""
    kill_chain(tmp_path / "run", ["chunk-seen:1", "chunk-seen:3"], workers=1)  # 4 chunks in all


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the worker processes")
def test_the_parent_killed_alone_takes_its_workers_along_and_nothing_is_counted_twice(tmp_path):
    """The out-of-memory killer's way: SIGKILL to the loop's process only, while its self-play
    worker plays. The worker must go too (it used to go on writing records that the restarted
    loop then counted: 32 games for a 16-game generation)."""
    from test_selfplay import _alive, _children

    run_dir = tmp_path / "run"
    records = run_dir / "records"
    argv = [sys.executable, str(DRIVER), str(run_dir), "--workers", "1"]
    proc = subprocess.Popen(argv, env=engine_env(), start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(records.glob("gen000001-*.npz")):
            assert proc.poll() is None and time.monotonic() < deadline, "self-play did not start"
            time.sleep(0.01)
        children = _children(proc.pid)
        assert children
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [c for c in children if _alive(c)], "a worker outlived its parent"
    finally:
        _kill_session(proc.pid)
        proc.wait()
    check_every_file_loads(run_dir)
    run_driver(run_dir)
    check_run_complete(run_dir, torn_lines=0)


# --- damaged files ------------------------------------------------------------------------------

def _damaged(data: bytes, rng: np.random.Generator, count: int) -> list[bytes]:
    """Cut at spread offsets, then single and burst byte changes at random places."""
    out = [data[:k] for k in np.linspace(0, len(data) - 1, count // 2).astype(int)]
    while len(out) < count:
        b = bytearray(data)
        start = int(rng.integers(0, len(b)))
        for i in range(start, min(len(b), start + int(rng.integers(1, 9)))):
            b[i] = int(rng.integers(0, 256))
        out.append(bytes(b))
    return out


def _sweep(cases, load, clear_errors) -> tuple[int, int]:
    """(tried, survived): survived when `load` raises one of `clear_errors` or returns."""
    survived = 0
    for case in cases:
        try:
            load(case)
        except clear_errors:
            pass
        survived += 1  # any other exception fails the test here
    return len(cases), survived


def test_damaged_checkpoints_records_sgf_and_archives_give_clear_errors(tmp_path):
    import hashlib
    import io
    import tarfile

    import torch

    from goengine.nn import CheckpointError, NetConfig, build_network, load_checkpoint, save_checkpoint
    from goengine.sgf import SgfError, read_sgf, replay
    from goengine.sgf_archive import ReadStats, iter_games
    from selfplay.records import PlayedGame, RecordError, write_chunk
    from training.replay import load_chunk_games

    rng = np.random.default_rng(12)
    counts = {}

    # Checkpoints: the weights damaged with their checksum fixed up to match (the loader must
    # look past the checksum), and the JSON damaged as text.
    config = NetConfig.from_tag("b1c8", kind="policy_value", in_planes=18, board_sizes=(5,), head_channels=4,
                                value_hidden=8, ownership=True)
    stem = tmp_path / "m"
    save_checkpoint(stem, build_network(config), config)
    weights, meta_text = (tmp_path / "m.safetensors").read_bytes(), (tmp_path / "m.json").read_text()

    def load_weights(data: bytes) -> None:
        (tmp_path / "m.safetensors").write_bytes(data)
        meta = json.loads(meta_text)
        meta["weights_sha256"] = hashlib.sha256(data).hexdigest()
        (tmp_path / "m.json").write_text(json.dumps(meta))
        load_checkpoint(stem)

    counts["checkpoint weights"] = _sweep(_damaged(weights, rng, 120), load_weights, (CheckpointError,))

    def load_meta(text: bytes) -> None:
        (tmp_path / "m.safetensors").write_bytes(weights)
        (tmp_path / "m.json").write_bytes(text)
        load_checkpoint(stem)

    counts["checkpoint JSON"] = _sweep(_damaged(meta_text.encode(), rng, 120), load_meta, (CheckpointError,))

    # Record chunks: damaged bytes (the zip layer), and damaged array values inside a whole zip.
    game = PlayedGame(board_size=5, komi=0.5, rules="tromp-taylor", model_id="m", seed=3, setup=[(8, 1)])
    for a in (6, 12, 18, 25, 25):
        policy = np.zeros(26, np.float32)
        policy[[a, 7]] = 3.0
        game.add_move(a, 0.0, policy)
    game.result, game.score, game.ownership = 1.0, 2.5, np.ones(25, np.int8)
    chunk = write_chunk(tmp_path / "c.npz", [game, game])
    chunk_bytes = chunk.read_bytes()

    def load_chunk(data: bytes) -> None:
        (tmp_path / "x.npz").write_bytes(data)
        read_chunk(tmp_path / "x.npz")
        load_chunk_games(tmp_path / "x.npz")

    counts["record chunk bytes"] = _sweep(_damaged(chunk_bytes, rng, 150), load_chunk, (RecordError,))
    with np.load(chunk) as d:
        arrays = {k: d[k] for k in d.files}
    tampered = []
    for _ in range(150):
        key = str(rng.choice([k for k in arrays if arrays[k].size]))
        changed = dict(arrays)
        values = changed[key].copy().reshape(-1)
        if values.dtype.kind == "f":
            choices = [-1.0, 0.0, 7.0, 1e30, -np.inf, np.nan]
        elif values.dtype.kind in "iu":
            info = np.iinfo(values.dtype)
            choices = [max(info.min, -1), 0, 7, 99, info.max, info.min]
        else:
            choices = [0, 1, 7]
        values[int(rng.integers(0, values.size))] = choices[int(rng.integers(0, len(choices)))]
        changed[key] = values.reshape(changed[key].shape)
        buffer = io.BytesIO()
        np.savez(buffer, **changed)
        tampered.append(buffer.getvalue())
    counts["record chunk arrays"] = _sweep(tampered, load_chunk, (RecordError,))

    # SGF files: read, then replay (what training and loadsgf do).
    sgf = b"(;GM[1]FF[4]CA[UTF-8]SZ[9]KM[7.5]RU[Chinese]PB[a]PW[b]AB[cc][gg];W[ee];B[ec];W[ce]C[hi];B[pass](;W[])(;W[aa]))"

    def load_sgf(data: bytes) -> None:
        replay(read_sgf(data, name="x.sgf"))

    counts["SGF"] = _sweep(_damaged(sgf, rng, 200), load_sgf, (SgfError,))

    # Archives: a damaged .tar.gz yields what it can and counts the rest.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for i in range(3):
            info = tarfile.TarInfo(f"g/{i}.sgf")
            info.size = len(sgf)
            tar.addfile(info, io.BytesIO(sgf))
    archive = buffer.getvalue()

    def load_archive(data: bytes) -> None:
        (tmp_path / "a.tar.gz").write_bytes(data)
        stats = ReadStats()
        read = list(iter_games(tmp_path / "a.tar.gz", stats=stats))
        assert len(read) + stats.total_skipped >= 1  # whatever is lost is counted

    counts["archive"] = _sweep(_damaged(archive, rng, 120), load_archive, ())
    print("damaged files tried / survived:", {k: f"{t}/{s}" for k, (t, s) in counts.items()})
    assert all(t == s for t, s in counts.values())
    assert sum(t for t, _ in counts.values()) >= 800
