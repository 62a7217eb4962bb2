"""A two-node Ray cluster on loopback: a self-play actor killed in the middle of a generation is
replaced, the generation ends with exactly its games, every record on disk whole, none twice."""

from __future__ import annotations

import threading
import time

import pytest

ray = pytest.importorskip("ray")

from ray_helpers import assert_no_game_twice, private_weights_cache, whole_games  # noqa: E402
from test_loop import tiny_config  # noqa: E402

from training import rundir  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture
def two_nodes(tmp_path):
    from ray.cluster_utils import Cluster

    with private_weights_cache(tmp_path / "cache"):
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address)
        try:
            cluster.wait_for_nodes()
            yield cluster
        finally:
            ray.shutdown()
            cluster.shutdown()


def test_a_killed_selfplay_actor_is_replaced_and_no_game_counts_twice(tmp_path, two_nodes, capsys):
    from training.loop import TrainingLoop

    config = tiny_config(**{"run.executor": "ray", "selfplay.workers": 0, "selfplay.games_per_generation": 16,
                            "selfplay.games_per_chunk": 1, "selfplay.parallel_games": 2, "gating.mode": "always"})
    run = tmp_path / "run"
    loop = TrainingLoop(run, config, progress=False)
    records = run / "records"
    seen = {"nodes": set(), "chunks_at_kill": None}
    finished = threading.Event()

    def kill_an_actor_after_the_first_chunk() -> None:
        while not finished.is_set():
            pool = loop._pool
            playing = dict(pool.set.actors) if pool is not None else {}
            if len(playing) == 2 and any(records.glob("gen000001-*.npz")):
                seen["nodes"] = set(ray.get([a.node.remote() for a in playing.values()], timeout=60))
                ray.kill(playing[min(playing)], no_restart=True)
                seen["chunks_at_kill"] = sum(1 for _ in records.glob("gen000001-*.npz"))
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_an_actor_after_the_first_chunk, daemon=True)
    watcher.start()
    try:
        state = loop.run(1)
    finally:
        finished.set()
        watcher.join()
    assert seen["chunks_at_kill"] is not None and seen["chunks_at_kill"] < 16, "no actor was killed while playing"
    assert len(seen["nodes"]) == 2, "the two actors should play on the two nodes"
    assert "self-play worker 0 died" in capsys.readouterr().out
    assert state["generation"] == 1 and state["phase"] == "done"
    d = rundir.RunDir(run)
    games = whole_games(d.records)
    assert len(games) == 16
    assert_no_game_twice(games)
    assert len(list(d.sgf(1).glob("*.sgf"))) == 16
