"""The AlphaGo Zero loop end to end on a 5x5 board: self-play, train, gate, promote, resume."""

from __future__ import annotations

import json
import os

import pytest

from goengine import atomic
from selfplay import records
from training import rundir
from training.config import load_preset
from training.loop import TrainingLoop


def tiny_config(**changes):
    config = load_preset("5x5-smoke").override([
        "run.device='cpu'", "selfplay.games_per_generation=4", "selfplay.parallel_games=4",
        "selfplay.simulations=8", "selfplay.cheap_simulations=4", "selfplay.games_per_chunk=2",
        "training.steps_per_generation=4", "training.batch_size=16", "gating.games=2",
        "gating.simulations=4", "gating.parallel_games=2",
    ] + [f"{k}={v!r}" for k, v in changes.items()])
    return config


def run_loop(path, config, generations, **kwargs):
    loop = TrainingLoop(path, config, workers=1, progress=False, in_process_selfplay=True,
                        log=lambda line: None, **kwargs)
    return loop.run(generations)


def test_two_generations_end_to_end(tmp_path):
    state = run_loop(tmp_path, tiny_config(), 2)
    assert state["generation"] == 2 and state["phase"] == "done"
    d = rundir.RunDir(tmp_path)
    assert (d.models / "000000-b2c16.json").exists()
    assert (d.models / "000002-b2c16.safetensors").exists()
    best = json.loads(d.best_path.read_text())
    assert best["model_id"] == state["best"]
    games = [g for p in records.chunk_paths(d.records) for g in records.read_chunk(p)]
    assert len(games) == 8
    assert all(g.num_moves > 0 and g.result in (-1.0, 0.0, 1.0) for g in games)
    assert len(list((tmp_path / "sgf" / "gen000001").glob("*.sgf"))) == 4
    ledger = [json.loads(line) for line in d.ledger.read_text().splitlines()]
    assert len(ledger) == 4  # two gating games per generation
    assert [h["generation"] for h in state["history"]] == [1, 2]


def test_always_promote_moves_the_best_pointer(tmp_path):
    state = run_loop(tmp_path, tiny_config(**{"gating.mode": "always"}), 1)
    assert state["best"] == "000001-b2c16"
    assert rundir.RunDir(tmp_path).read_best() == "000001-b2c16"


def test_resume_after_a_crash_in_the_middle_of_a_write(tmp_path, monkeypatch):
    """A crash while a record chunk is being written leaves no half-written chunk; a restart
    finishes the generation with exactly the configured number of games."""
    config = tiny_config()
    real_replace = os.replace
    calls = {"n": 0}

    def crashing_replace(src, dst):
        if str(dst).endswith(".npz"):
            calls["n"] += 1
            if calls["n"] == 2:  # the second chunk of generation 1
                raise KeyboardInterrupt("simulated kill during a write")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", crashing_replace)
    with pytest.raises(KeyboardInterrupt):
        run_loop(tmp_path, config, 1)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    d = rundir.RunDir(tmp_path)
    state = d.read_state()
    assert state["generation"] == 1 and state["phase"] == "selfplay"
    # Only complete chunks are visible, and they can be read.
    chunks = records.chunk_paths(d.records)
    assert len(chunks) == 1 and len(records.read_chunk(chunks[0])) == 2
    state = run_loop(tmp_path, config, 1)
    assert state["generation"] == 1 and state["phase"] == "done"
    games = [g for p in records.chunk_paths(d.records) for g in records.read_chunk(p)]
    assert len(games) == 4


def test_resume_after_a_crash_while_saving_state(tmp_path, monkeypatch):
    config = tiny_config()
    run_loop(tmp_path, config, 1)
    d = rundir.RunDir(tmp_path)
    before = d.state_path.read_text()
    real_replace = atomic.os.replace

    def crash_on_state(src, dst):
        if str(dst).endswith("state.json"):
            raise KeyboardInterrupt("simulated kill while writing state.json")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", crash_on_state)
    with pytest.raises(KeyboardInterrupt):
        run_loop(tmp_path, config, 2)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert d.state_path.read_text() == before  # the old state, whole
    assert not list(tmp_path.glob(".state.json.*"))  # the temporary file was removed
    state = run_loop(tmp_path, config, 2)
    assert state["generation"] == 2 and state["phase"] == "done"


def test_a_stop_request_ends_after_the_current_step_and_a_restart_continues(tmp_path):
    config = tiny_config()
    loop = TrainingLoop(tmp_path, config, workers=1, progress=False, in_process_selfplay=True, log=lambda _: None)
    real_selfplay = loop._selfplay

    def selfplay_then_stop(*args):
        out = real_selfplay(*args)
        loop.request_stop()
        return out

    loop._selfplay = selfplay_then_stop
    state = loop.run(1)
    assert state["phase"] == "train"
    state = run_loop(tmp_path, config, 1)
    assert state["phase"] == "done"


def test_a_changed_config_is_refused_on_restart(tmp_path):
    import argparse

    from training.cli import resolve_config

    saved = tiny_config()
    args = argparse.Namespace(preset=None, set=["selfplay.simulations=99"], generations=None, device=None,
                              workers=None, reconfigure=False)
    with pytest.raises(ValueError, match="selfplay.visits 8 -> 99"):  # the key's old name still works
        resolve_config(args, saved)
    args.set = []
    args.generations = 7
    assert resolve_config(args, saved).run.generations == 7


def _ledger_games(d):
    from selfplay.ledger import read_ledger
    return [(r["match"], r["game"]) for r in read_ledger(d.ledger).records]


def test_an_interrupted_gate_resumes_and_counts_each_game_once(tmp_path, monkeypatch):
    """A gate killed after its first game used to start again from game 0, leaving that game
    twice in the ledger (and rated twice)."""
    from selfplay import match as match_module

    config = tiny_config(**{"gating.games": 4, "gating.parallel_games": 1})
    real_append = match_module.append_record
    appended = []

    def append_then_crash(path, record):
        real_append(path, record)
        appended.append(record)
        if len(appended) == 1:
            raise KeyboardInterrupt("simulated kill after the first gating game")

    monkeypatch.setattr(match_module, "append_record", append_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run_loop(tmp_path, config, 1)
    d = rundir.RunDir(tmp_path)
    assert d.read_state()["phase"] == "gate" and len(_ledger_games(d)) == 1
    state = run_loop(tmp_path, config, 1)
    games = _ledger_games(d)
    assert len(games) == 4 and len(set(games)) == 4, games
    gate = state["history"][-1]
    assert gate["gate_wins"] + gate["gate_losses"] + gate["gate_draws"] == 4
    assert len(list((tmp_path / "sgf" / "gate000001").glob("*.sgf"))) == 4


@pytest.mark.parametrize("crash_on", ["state.json", "best.json"])
def test_state_and_best_pointer_agree_whatever_write_a_crash_interrupts(tmp_path, monkeypatch, crash_on):
    """The gate promotes, the process dies writing one of the two files, and the repeated gate
    does not promote: best.json must end up naming state.json's best (it used to keep naming
    the candidate that the state never adopted)."""
    from training import loop as loop_module

    config = tiny_config()
    run_loop(tmp_path, config, 1)
    d = rundir.RunDir(tmp_path)
    verdicts = iter([True, False])
    gated, crashed = [], []

    def fake_gate(self, g, best, candidate):
        gated.append(g)
        return {"promoted": next(verdicts), "gate_wins": 0, "gate_losses": 0, "gate_draws": 0}

    monkeypatch.setattr(loop_module.TrainingLoop, "_gate", fake_gate)
    real_replace = atomic.os.replace

    def crash_once(src, dst):
        if str(dst).endswith(crash_on) and gated and not crashed:
            crashed.append(dst)
            raise KeyboardInterrupt(f"simulated kill while writing {crash_on}")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", crash_once)
    with pytest.raises(KeyboardInterrupt):
        run_loop(tmp_path, config, 2)
    assert crashed and gated == [2]
    state = run_loop(tmp_path, config, 2)
    assert gated == [2, 2] or crash_on == "best.json"  # a state written before the crash is kept
    assert state["generation"] == 2 and state["phase"] == "done"
    assert d.read_best() == state["best"] == d.read_state()["best"]


def test_temp_files_of_interrupted_writes_are_removed_at_start(tmp_path):
    config = tiny_config()
    run_loop(tmp_path, config, 1)
    d = rundir.RunDir(tmp_path)
    leftovers = [d.models / ".000001-b2c16.safetensors.abcd_123.tmp", d.records / ".gen000002-1-w00a0c0000.npz.x1y2z3w4.tmp",
                 d.train_state.parent / ".latest.qwertyui.tmp", tmp_path / ".state.json.a1b2c3d4.tmp",
                 tmp_path / "sgf" / "gate000001" / ".g.sgf.zzzzzzzz.tmp"]
    for p in leftovers:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half a file")
    keep = tmp_path / "notes.tmp"  # not a name our writes use
    keep.write_text("mine")
    run_loop(tmp_path, config, 1)
    assert not [p for p in leftovers if p.exists()]
    assert keep.exists()


def test_a_corrupt_record_chunk_is_quarantined_and_training_goes_on(tmp_path):
    """A truncated chunk used to stop every restart with zipfile.BadZipFile naming no file."""
    config = tiny_config()
    run_loop(tmp_path, config, 1)
    d = rundir.RunDir(tmp_path)
    bad = records.chunk_paths(d.records)[0]
    bad.write_bytes(bad.read_bytes()[:100])
    lines = []
    loop = TrainingLoop(tmp_path, config, workers=1, progress=False, in_process_selfplay=True, log=lines.append)
    state = loop.run(2)
    assert state["generation"] == 2 and state["phase"] == "done"
    assert not bad.exists() and (d.records / "quarantine" / bad.name).exists()
    assert any(bad.name in line and "quarantine" in line for line in lines), lines
    assert all(len(records.read_chunk(p)) > 0 for p in records.chunk_paths(d.records))


def test_a_second_loop_on_the_same_run_dir_is_refused(tmp_path):
    from goengine.cli import main

    d = rundir.RunDir(tmp_path)
    with d.locked():
        with pytest.raises(rundir.RunDirBusy, match=str(os.getpid())):
            run_loop(tmp_path, tiny_config(), 1)
        assert main(["train", "--preset", "5x5-smoke", "--run-dir", str(tmp_path), "--no-progress"]) == 2
        assert d.read_state() is None  # nothing was run
    with d.locked():  # released with the first holder
        pass


FORK_DURING_A_LOOP = """
import os, sys, time
from training import rundir
d = rundir.RunDir(sys.argv[1])
with d.locked():
    child = os.fork()
    if child == 0:  # the helper: lives on past the loop
        time.sleep(10)
        os._exit(0)
time.sleep(1)  # the child closes its copy as it starts; it then lives on for seconds
try:
    with d.locked():  # the next loop, while the helper still runs
        pass
except rundir.RunDirBusy as e:
    print(e)
    sys.exit(1)
finally:
    os.kill(child, 9)
"""


def test_a_child_forked_while_the_loop_holds_the_run_dir_does_not_keep_it(tmp_path):
    """A library that forks a helper during the loop (OpenVINO's telemetry) used to keep the
    run dir locked after the loop ended, for as long as the helper lived. (In a fresh process:
    a fork inside this multi-threaded test process can stall in other libraries' fork hooks.)"""
    import subprocess
    import sys

    from gtp_helpers import engine_env

    done = subprocess.run([sys.executable, "-c", FORK_DURING_A_LOOP, str(tmp_path)], env=engine_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
