"""The first start: the search compiles only the kernels its player uses, the engine says on
stderr when it compiles, and `numba_cache.kernels_cached` tells a cold cache from a warm one."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from goengine.gtp import Engine, EngineOptions
from goengine.numba_cache import kernels_cached

from gtp_helpers import engine_env


def test_kernels_cached_reads_numba_index_files(tmp_path, monkeypatch):
    import numba

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    assert not kernels_cached("kernels.select_leaves")
    (tmp_path / "search_abc").mkdir()
    (tmp_path / "search_abc" / "kernels.select_leaves-208.py311.nbi").write_bytes(b"")
    assert kernels_cached("kernels.select_leaves")
    assert not kernels_cached("kernels.select_leaves", "kernels.expand_and_backup")


def test_a_cold_cache_is_announced_with_the_time_taken(monkeypatch, caplog):
    import goengine.numba_cache as cache

    monkeypatch.setattr(cache, "kernels_cached", lambda *names: False)
    engine = Engine(EngineOptions(size=5, visits=8))
    with caplog.at_level(logging.INFO, logger="goengine.gtp"):
        engine.wait_ready()
    messages = [r.getMessage() for r in caplog.records]
    assert any("compiling the search kernels once" in m for m in messages), messages
    assert any(m.startswith("search ready in ") and "compiled and cached" in m for m in messages), messages


_ONLY_WHAT_IS_USED = """
from goengine.features import alphago, agz
from goengine.rollout import playout
from goengine.search import leaves
from goengine.game import GameState
from goengine.gtp.thinking import Searcher
Searcher(5).search(GameState(5), visits=16)
unused = {'encode_alphago': alphago.encode_alphago, 'encode_agz': agz.encode_agz,
          'policy_playout': playout.policy_playout, 'policy_rollouts': leaves.policy_rollouts}
compiled = sorted(name for name, kernel in unused.items() if kernel.signatures)
assert not compiled, compiled
assert leaves.random_rollouts.signatures
print('ok')
"""


@pytest.mark.slow
def test_a_rollout_search_compiles_no_encoder_and_no_rollout_policy(tmp_path):
    env = engine_env()
    env["NUMBA_CACHE_DIR"] = str(tmp_path)  # cold: every kernel the search reaches compiles
    done = subprocess.run([sys.executable, "-c", _ONLY_WHAT_IS_USED], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
