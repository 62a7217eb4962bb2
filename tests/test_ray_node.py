"""Self-play through node actors on a local Ray with 2 CPUs, the per-node mode forced on CPU: a
node actor's search processes send their leaves to the inference server beside them, the
records on disk are whole and hold each game once, and a node actor killed in the middle of a
generation is replaced without a game lost or counted twice."""

from __future__ import annotations

import threading
import time

import pytest

ray = pytest.importorskip("ray")

from selfplay.inference import BLOCK_PREFIX, SHM_FOLDER  # noqa: E402
from ray_helpers import assert_no_game_twice, private_ray, whole_games  # noqa: E402
from test_loop import tiny_config  # noqa: E402

from training import rundir  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    with private_ray(tmp_path_factory.mktemp("cache")) as weights_cache:
        yield weights_cache


def node_config(**changes):
    return tiny_config(**{"run.executor": "ray", "run.ray_inference": "node", "run.ray_workers_per_node": 2,
                          "selfplay.workers": 0, "gating.mode": "always", **changes})


def lanes_of(records_dir, prefix: str) -> set[str]:
    return {p.stem.rsplit("c", 1)[1][4:] for p in records_dir.glob(f"{prefix}-*.npz")}


def test_a_node_actor_plays_the_generation_through_its_inference_server(tmp_path, local_ray, capsys):
    from training.loop import TrainingLoop

    config = node_config(**{"selfplay.games_per_generation": 6, "selfplay.games_per_chunk": 1})
    state = TrainingLoop(tmp_path, config, progress=False).run(1)
    out = capsys.readouterr().out
    assert "1 node actor(s), each one inference process on cpu fed by 2 search process(es)" in out
    assert state["generation"] == 1 and state["phase"] == "done"
    d = rundir.RunDir(tmp_path)
    games = whole_games(d.records)
    assert len(games) == 6 and state["history"][0]["games"] == 6
    assert_no_game_twice(games)
    assert len(list(d.sgf(1).glob("*.sgf"))) == 6
    # One node actor (worker 0) whose two search processes both played.
    assert {p.name.split("-w")[1][:2] for p in d.generation_chunks(1)} == {"00"}
    assert lanes_of(d.records, d.chunk_prefix(1)) == {"l0", "l1"}
    # Every move was searched with leaves the server evaluated: at least one per move.
    current = state["history"][0]
    assert current["inference_positions"] >= current["positions"] > 0
    assert 0.0 < current["inference_busy_fraction"] <= 1.0
    assert "node inference servers evaluated" in out


def test_a_killed_node_actor_is_replaced_and_no_game_counts_twice(tmp_path, local_ray, capsys):
    from selfplay.ray_pool import RayWorkerPool
    from selfplay.workers import run_selfplay
    from training.loop import selfplay_config_of
    from training.models import create_initial_model, net_config_of
    from selfplay.ray_node import NodePlan

    config = node_config(**{"selfplay.parallel_games": 2})
    d = rundir.RunDir(tmp_path / "run")
    d.create()
    model_id = create_initial_model(d, config)
    net = net_config_of(config)
    pool = RayWorkerPool(node=NodePlan("cpu", 2, net.in_planes, net.feature_set))
    records, sgf = tmp_path / "records", tmp_path / "sgf"
    seen = {"chunks_at_kill": None}
    finished = threading.Event()

    def kill_the_node_after_its_first_chunk() -> None:
        while not finished.is_set():
            playing = dict(pool.set.actors)
            if playing and any(records.glob("gen-*.npz")):
                ray.kill(playing[0], no_restart=True)
                seen["chunks_at_kill"] = sum(1 for _ in records.glob("gen-*.npz"))
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_the_node_after_its_first_chunk, daemon=True)
    watcher.start()
    try:
        stats = run_selfplay(config=selfplay_config_of(config), num_games=8, model_path=str(d.model_stem(model_id)),
                             model_id=model_id, records_dir=records, sgf_dir=sgf, chunk_prefix="gen", seed=3,
                             workers=1, games_per_chunk=1, pool=pool)
    finally:
        finished.set()
        watcher.join()
        pool.shutdown()
    assert seen["chunks_at_kill"] is not None and seen["chunks_at_kill"] < 8, "the node was not killed while playing"
    assert stats.restarts == 1 and "self-play worker 0 died" in capsys.readouterr().out
    games = whole_games(records)
    assert len(games) == 8
    assert_no_game_twice(games)
    assert len(list(sgf.glob("*.sgf"))) == 8
    # The replacement played under a new attempt number.
    assert {p.name.split("-w00")[1][:2] for p in records.glob("gen-*.npz")} == {"a0", "a1"}
    # It removed the killed actor's leaf memory, then its own when done.
    assert not list(SHM_FOLDER.glob(f"{BLOCK_PREFIX}-*"))
