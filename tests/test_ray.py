"""The training loop on a local Ray cluster with 2 CPUs: a generation of the 5x5 smoke preset
with self-play actors, and the asynchronous loop for a fixed number of trainer steps."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray")

from ray_helpers import assert_no_game_twice, private_ray, whole_games  # noqa: E402
from test_loop import tiny_config  # noqa: E402

from training import rundir  # noqa: E402
from training.config import load_preset  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    with private_ray(tmp_path_factory.mktemp("cache")) as weights_cache:
        yield weights_cache


def test_a_generation_of_the_smoke_preset_with_selfplay_actors(tmp_path, local_ray, capsys):
    from training.loop import TrainingLoop

    config = load_preset("5x5-smoke").override(["run.device='cpu'", "run.executor='ray'", "selfplay.workers=0"])
    state = TrainingLoop(tmp_path, config, progress=False).run(1)
    assert state["generation"] == 1 and state["phase"] == "done"
    assert "self-play on Ray" in capsys.readouterr().out
    d = rundir.RunDir(tmp_path)
    games = whole_games(d.records)
    assert len(games) == config.selfplay.games_per_generation
    assert_no_game_twice(games)
    # Both CPUs played: one actor per CPU, each with its own worker number in the chunk names.
    assert {p.name.split("-w")[1][:2] for p in d.generation_chunks(1)} == {"00", "01"}
    assert len(list(d.sgf(1).glob("*.sgf"))) == len(games)
    # The actors played the weights shipped through the object store, from their own cache.
    best_meta = json.loads((d.models / "000000-b2c16.json").read_text())
    assert (local_ray / best_meta["weights_sha256"] / "000000-b2c16.safetensors").is_file()


def test_the_asynchronous_loop_stops_on_request_and_resumes_to_a_fixed_number_of_steps(tmp_path, local_ray):
    import threading
    import time

    from selfplay.ray_pool import coordinator_class
    from training.async_loop import AsyncLoop

    assert coordinator_class()._default_options["num_cpus"] == 0
    config = tiny_config(**{"run.executor": "ray", "run.mode": "async"})
    steps = config.training.steps_per_generation
    d = rundir.RunDir(tmp_path)

    # Until stopped (generations 0), and stopped as Ctrl-C does, once a candidate is on disk.
    loop = AsyncLoop(tmp_path, config.override(["run.generations=0"]), progress=False, log=lambda _: None)
    done = threading.Event()

    def stop_after_the_first_candidate() -> None:
        while not done.is_set() and not (d.models / "000001-b2c16.json").exists():
            time.sleep(0.05)
        loop.request_stop()

    stopper = threading.Thread(target=stop_after_the_first_candidate, daemon=True)
    stopper.start()
    try:
        state = loop.run()
    finally:
        done.set()
        stopper.join()
    assert state["candidates"] >= 1 and state["train_steps"] == state["candidates"] * steps
    assert dict(d.read_state(), version=None) == dict(state, version=None) and d.read_best() == state["best"]
    first = whole_games(d.records)
    assert first

    # The same command goes on from the candidate written down, for two candidates more.
    target = state["candidates"] + 2
    state = AsyncLoop(tmp_path, config, progress=False, log=lambda _: None).run(target)
    assert state["candidates"] == target and state["train_steps"] == target * steps
    assert state["pending_gate"] is None and state["history"][-1]["generation"] == target
    last = json.loads((d.models / f"{target:06d}-b2c16.json").read_text())
    assert last["parent_model_id"] == f"{target - 1:06d}-b2c16"
    assert_no_game_twice(whole_games(d.records))  # the restarted actors took fresh attempt numbers
    gated = [h for h in state["history"] if "gate_wins" in h]
    assert gated and all(h["gate_wins"] + h["gate_losses"] + h["gate_draws"] == 2 for h in gated)


def test_always_promotes_every_candidate_without_games(tmp_path, local_ray):
    from training.async_loop import AsyncLoop

    config = tiny_config(**{"run.executor": "ray", "run.mode": "async", "gating.mode": "always"})
    state = AsyncLoop(tmp_path, config, progress=False, log=lambda _: None).run(2)
    assert state["best"] == "000002-b2c16" and state["best_version"] == 2
    assert not rundir.RunDir(tmp_path).ledger.exists()
