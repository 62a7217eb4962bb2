"""`goengine gtp` and `goengine analysis` play the bundled network of the board size in use:
without --model the engine picks the network bundled for the size (the rollout search where
none fits, said once per size), switches when the controller changes the size, loads each
network once, and `--model rollout` / `--model bundled:NAME` choose outright. The bundled
networks here live in a temporary folder named by GOENGINE_NETWORKS_DIR."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from goengine.analysis.engine import AnalysisEngine, AnalysisSettings  # noqa: E402
from goengine.gtp import Engine, EngineOptions  # noqa: E402
from goengine.gtp.engine import _load_evaluator, trained_sizes  # noqa: E402
from goengine.gtp.model_choice import Networks, parse_model  # noqa: E402
from goengine.networks import NETWORKS_DIR_VARIABLE, bundled_for_size  # noqa: E402
from goengine.nn import NetConfig, build_network, save_checkpoint  # noqa: E402
from training.bundle import bundle  # noqa: E402

from gtp_helpers import engine_argv, engine_env  # noqa: E402


@pytest.fixture(scope="module")
def networks_dir(tmp_path_factory):
    """Two bundled networks: 9x9 (with an ownership head) and 13x13."""
    root = tmp_path_factory.mktemp("bundled")
    out = root / "networks"
    for size, ownership in ((9, True), (13, False)):
        torch.manual_seed(size)
        config = NetConfig(kind="policy_value", blocks=1, channels=8, head_channels=4, value_hidden=8,
                           ownership=ownership, board_sizes=(size,))
        source = root / f"run{size}" / f"000001-b1c8-{size}"
        save_checkpoint(source, build_network(config), config, model_id=f"000001-n{size}")
        bundle(source, f"{size}x{size}", out)
    return out


@pytest.fixture
def bundled_env(networks_dir, monkeypatch):
    monkeypatch.setenv(NETWORKS_DIR_VARIABLE, str(networks_dir))
    return networks_dir


def test_the_index_folder_comes_from_the_environment(bundled_env, monkeypatch):
    assert bundled_for_size(9).name == "9x9" and bundled_for_size(13).name == "13x13"
    assert bundled_for_size(19) is None
    monkeypatch.delenv(NETWORKS_DIR_VARIABLE)
    assert bundled_for_size(9, bundled_env).name == "9x9"  # a folder passed outright


def counting_engine(**options):
    loads = []

    def loader(opts):
        loads.append(opts.model)
        return _load_evaluator(opts)

    defaults = dict(model="bundled", size=19, visits=16, threads=1, ownership_playouts=16, tree_edges=200_000,
                    resign_threshold=0)
    defaults.update(options)
    return Engine(EngineOptions(**defaults), evaluator_loader=loader), loads


def test_the_engine_switches_network_with_the_board_size_and_loads_each_once(bundled_env, caplog):
    caplog.set_level(logging.INFO, logger="goengine.gtp")
    engine, loads = counting_engine()
    engine.wait_ready()
    assert engine.evaluator is None  # nothing bundled plays 19x19: the rollout search
    assert engine.handle_line("genmove b").startswith("= ")
    assert engine.handle_line("boardsize 9") == "=\n\n"
    nine = engine.evaluator
    assert trained_sizes(nine) == (9,)
    assert engine.handle_line("genmove b").startswith("= ")
    assert engine.searcher().evaluator is nine
    assert engine.handle_line("boardsize 13") == "=\n\n"
    assert trained_sizes(engine.evaluator) == (13,)
    assert engine.handle_line("genmove b").startswith("= ")
    assert engine.handle_line("boardsize 9") == "=\n\n"
    assert engine.evaluator is nine
    assert engine.handle_line("boardsize 19") == "=\n\n"
    assert engine.evaluator is None and engine.searcher().evaluator is None
    assert engine.handle_line("boardsize 9") == "=\n\n"
    assert len(loads) == 2 and all(not m.startswith("bundled") for m in loads)  # resolved to stems
    said = [r.getMessage() for r in caplog.records]
    assert sum("no bundled network plays 19x19" in m for m in said) == 1
    assert sum("9x9: playing the bundled network 9x9 (000001-n9)" in m for m in said) == 1
    assert sum("13x13: playing the bundled network 13x13" in m for m in said) == 1


def test_a_named_bundled_network_is_refused_on_other_sizes(bundled_env):
    engine, loads = counting_engine(model="bundled:9x9", size=9)
    engine.load_model()
    assert trained_sizes(engine.evaluator) == (9,)
    assert engine.handle_line("boardsize 13").startswith("? unacceptable size: the network was trained on 9x9")
    assert engine.game.size == 9 and len(loads) == 1
    with pytest.raises(ValueError, match="no bundled network 'nope'; bundled: 13x13, 9x9"):
        parse_model("bundled:nope")


def test_rollout_forces_the_classical_search(bundled_env):
    engine, loads = counting_engine(model="rollout", size=9)
    engine.wait_ready()
    assert engine.evaluator is None and loads == []
    assert engine.handle_line("genmove b").startswith("= ")


def test_a_bundled_network_that_fails_to_load_refuses_the_size_and_keeps_the_game(bundled_env):
    def loader(opts):
        if opts.model.endswith("13x13"):
            raise OSError("unreadable weights")
        return _load_evaluator(opts)

    engine = Engine(EngineOptions(model="bundled", size=9, visits=8, threads=1, tree_edges=200_000),
                    evaluator_loader=loader)
    engine.wait_ready()
    assert engine.handle_line("play b E5") == "=\n\n"
    reply = engine.handle_line("boardsize 13")
    assert reply.startswith("? unacceptable size: the bundled network for 13x13 failed to load: OSError")
    assert engine.game.size == 9 and len(engine.game.moves) == 1


def _gtp(*args: str, stdin: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(engine_argv(*args), input=stdin, capture_output=True, text=True, env=env, timeout=300)


def test_gtp_process_plays_the_bundled_network_by_default(networks_dir):
    env = dict(engine_env(), **{NETWORKS_DIR_VARIABLE: str(networks_dir)})
    script = "boardsize 9\ngenmove b\nboardsize 19\nboardsize 9\ngenmove w\nquit\n"
    done = _gtp("--visits", "8", "--threads", "1", "--seed", "1", stdin=script, env=env)
    assert done.returncode == 0, done.stderr
    replies = [line for line in done.stdout.split("\n") if line.startswith(("=", "?"))]
    assert len(replies) == 6 and all(r.startswith("=") for r in replies), done.stdout
    assert done.stderr.count("no bundled network plays 19x19") == 1
    assert done.stderr.count("9x9: playing the bundled network 9x9") == 1
    # Named outright: refused on a size it was not trained on, before any reply.
    done = _gtp("--model", "bundled:13x13", "--size", "9", stdin="name\n", env=env)
    assert done.returncode == 2 and done.stdout == "" and "trained on 13x13, not 9x9" in done.stderr
    done = _gtp("--model", "bundled:nope", stdin="name\n", env=env)
    assert done.returncode == 2 and "no bundled network 'nope'" in done.stderr
    # Without --size a named network starts on its own size.
    done = _gtp("--model", "bundled:13x13", "--visits", "4", stdin="showboard\nquit\n", env=env)
    assert done.returncode == 0 and "\n13 . . ." in done.stdout
    done = _gtp("--model", "rollout", "--size", "9", stdin="name\nquit\n", env=env)
    assert done.returncode == 0 and "bundled network" not in done.stderr


def _query(qid: str, size: int) -> dict:
    return {"id": qid, "moves": [["B", "C3"]], "rules": "chinese", "komi": 7.5, "boardXSize": size,
            "boardYSize": size, "maxVisits": 8, "includeOwnership": True}


def test_analysis_engine_searches_each_size_with_its_bundled_network(bundled_env):
    loads = []

    def load(stem):
        loads.append(stem)
        return _load_evaluator(EngineOptions(model=stem, threads=1))

    out: list[dict] = []
    engine = AnalysisEngine(None, AnalysisSettings(max_visits_cap=64), lambda text: out.append(json.loads(text)),
                            networks=Networks(parse_model("bundled"), load))
    for qid, size in (("a", 9), ("b", 13), ("c", 9), ("d", 7)):
        engine.handle_line(json.dumps(_query(qid, size)))
    engine.finish()
    assert sorted(r["id"] for r in out if "moveInfos" in r) == ["a", "b", "c", "d"]
    assert trained_sizes(engine._pools[9].search.evaluator) == (9,)
    assert trained_sizes(engine._pools[13].search.evaluator) == (13,)
    assert engine._pools[7].search.evaluator is None and len(loads) == 2


def test_analysis_process_uses_the_bundled_default(networks_dir):
    env = dict(engine_env(), **{NETWORKS_DIR_VARIABLE: str(networks_dir)})
    done = subprocess.run([sys.executable, "-m", "goengine.cli", "analysis", "--threads", "1"],
                          input=json.dumps(_query("q", 9)) + "\n", capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[0])["id"] == "q"
    assert "9x9: playing the bundled network 9x9" in done.stderr


def test_the_network_search_is_prepared_before_the_size_switches(bundled_env, monkeypatch):
    """Started on a size no bundled network plays, the engine still compiles the network
    search's kernels in its warm-up (with a stand-in evaluator: no weights are loaded), so the
    first genmove after `boardsize 9` does not wait for them."""
    from goengine.gtp.thinking import Searcher

    searched_with = []
    search = Searcher.search

    def spy(self, game, *args, **kwargs):
        searched_with.append(None if self.evaluator is None else self.evaluator.feature_set)
        return search(self, game, *args, **kwargs)

    monkeypatch.setattr(Searcher, "search", spy)
    engine, loads = counting_engine()
    engine.wait_ready()
    assert searched_with == [None, "agz"] and loads == []
