"""The inference server: workers' batches come back exactly as the network computes them, and a
reply left over from a replaced worker is not taken for the new worker's answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from goengine.nn import NetConfig, TorchEvaluator, build_network, save_checkpoint
from selfplay.inference import InferenceServer, RemoteEvaluator

SIZE = 5
CONFIG = NetConfig(kind="policy_value", blocks=1, channels=8, board_sizes=(SIZE,))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    torch.manual_seed(0)
    stem = tmp_path_factory.mktemp("inference") / "net"
    save_checkpoint(stem, build_network(CONFIG).eval(), CONFIG)
    return str(stem)


def features(n, seed):
    return np.random.default_rng(seed).integers(0, 2, (n, CONFIG.in_planes, SIZE, SIZE), dtype=np.uint8)


def test_batches_from_two_workers_come_back_as_computed(model):
    direct = TorchEvaluator.from_checkpoint(model, device="cpu")
    with InferenceServer(model, "cpu", num_workers=2, max_batch=8, planes=CONFIG.in_planes, size=SIZE) as server:
        workers = [RemoteEvaluator(**server.client_args(w), timeout=60) for w in range(2)]
        for round_ in range(3):
            for w, remote in enumerate(workers):
                x = features(11, seed=10 * round_ + w)  # more than max_batch: sent in two parts
                logits, values = remote.evaluate(x)
                want_logits, want_values = direct.evaluate(x)
                np.testing.assert_allclose(logits, want_logits, rtol=1e-4, atol=1e-5)
                np.testing.assert_allclose(values, want_values, rtol=1e-4, atol=1e-5)


def test_a_stale_reply_is_not_taken_for_the_answer(model):
    direct = TorchEvaluator.from_checkpoint(model, device="cpu")
    with InferenceServer(model, "cpu", num_workers=1, max_batch=8, planes=CONFIG.in_planes, size=SIZE) as server:
        args = server.client_args(0)
        # The worker this one replaces left a request (and so a reply) behind.
        args["requests"].send((0, 8, 1))
        assert args["reply"].poll(30)  # its answer is computed (on other inputs) and waiting
        remote = RemoteEvaluator(**args, timeout=60)
        x = features(6, seed=3)
        logits, values = remote.evaluate(x)
        want_logits, want_values = direct.evaluate(x)
        np.testing.assert_allclose(logits, want_logits, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(values, want_values, rtol=1e-4, atol=1e-5)


def test_selfplay_workers_play_through_the_server(model, tmp_path):
    from goengine.search import SearchConfig
    from selfplay.records import chunk_paths, read_chunk
    from selfplay.runner import SelfPlayConfig
    from selfplay.workers import run_selfplay

    config = SelfPlayConfig(board_size=SIZE, komi=0.5, parallel_games=2, allow_resign=False, pass_rule="end",
                            search=SearchConfig(num_simulations=4, leaves_per_tree=1))
    with InferenceServer(model, "cpu", num_workers=2, max_batch=8, planes=CONFIG.in_planes, size=SIZE) as server:
        stats = run_selfplay(config=config, num_games=4, model_path=model, model_id="net", records_dir=tmp_path,
                             sgf_dir=None, chunk_prefix="g", seed=0, workers=2, games_per_chunk=1,
                             inference=server.client_args)
    games = [g for path in chunk_paths(tmp_path) for g in read_chunk(path)]
    assert stats.games == len(games) == 4 and stats.restarts == 0
    assert all(g.model_id == "net" and g.num_moves > 0 for g in games)


def test_the_server_counts_its_busy_time_against_a_stand_in_device(tmp_path):
    """With a stand-in that takes 50 ms per batch, the server's busy time is that per batch,
    and a worker that keeps sending keeps it busy most of the time."""
    import functools
    import time

    from goengine.evaluator import FixedTimeEvaluator

    stand_in = functools.partial(FixedTimeEvaluator, SIZE, "agz", 50.0)
    with InferenceServer("unused", "cpu", num_workers=1, max_batch=8, planes=CONFIG.in_planes, size=SIZE,
                         make_evaluator=stand_in) as server:
        remote = RemoteEvaluator(**server.client_args(0), timeout=60)
        before = server.counters()
        for seed in range(6):
            logits, values = remote.evaluate(features(8, seed))
            assert not logits.any() and not values.any()
        after = server.counters()
    batches = after["batches"] - before["batches"]
    busy = after["busy_s"] - before["busy_s"]
    assert batches == 6 and after["positions"] - before["positions"] == 48
    assert 6 * 0.05 <= busy < 6 * 0.05 + 0.5
    assert busy / (after["time"] - before["time"]) > 0.5


def test_the_memory_of_a_server_whose_owner_is_gone_is_removed(tmp_path):
    import os
    import subprocess
    import sys

    from selfplay.inference import BLOCK_PREFIX, remove_orphan_blocks

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True, timeout=60)
    orphan = tmp_path / f"{BLOCK_PREFIX}-{int(gone.stdout)}-ab12cd34-0"
    owned = tmp_path / f"{BLOCK_PREFIX}-{os.getpid()}-ab12cd34-0"
    other = tmp_path / "psm_12345"
    for p in (orphan, owned, other):
        p.write_bytes(b"x")
    assert remove_orphan_blocks(tmp_path) == 1
    assert not orphan.exists() and owned.exists() and other.exists()
