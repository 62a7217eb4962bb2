"""`goengine analysis`, KataGo's JSON analysis protocol: the queries KaTrain's engine client sent
(recorded from KaTrain 1.20's KataGoEngine driving this engine: an analysis with ownership and
policy, one of the empty board, a ponder query with reports during the search, and its
terminate) replayed against the engine, with the fields KaTrain reads checked; errors and
warnings; priorities and termination; several queries in flight sharing network batches;
the score head reported as scoreLead; the process end to end; and KaTrain itself when it is
installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from goengine.analysis.engine import AnalysisEngine, AnalysisSettings

from gtp_helpers import engine_env

DATA = Path(__file__).parent / "data" / "analysis"
QUERY = {"id": "q", "moves": [["B", "E5"], ["W", "C3"]], "rules": "chinese", "komi": 7.5, "boardXSize": 9,
         "boardYSize": 9, "maxVisits": 24}


def make_engine(evaluator=None, clock=None, **settings) -> tuple[AnalysisEngine, list[dict]]:
    out: list[dict] = []
    engine = AnalysisEngine(evaluator, AnalysisSettings(**{"max_visits_cap": 2000, **settings}),
                            lambda text: out.append(json.loads(text)), **({"clock": clock} if clock else {}))
    return engine, out


class HandClock:
    """Time that moves only when the test says: reports and maxTime no longer race the search."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def send(engine: AnalysisEngine, obj) -> None:
    engine.handle_line(obj if isinstance(obj, str) else json.dumps(obj))


@pytest.fixture(scope="module")
def network():
    torch = pytest.importorskip("torch")
    from goengine.nn import NetConfig, TorchEvaluator, build_network

    torch.manual_seed(1)
    config = NetConfig(kind="policy_value", blocks=1, channels=8, head_channels=4, value_hidden=8,
                       ownership=True, score=True, board_sizes=(9,))
    return TorchEvaluator(build_network(config), config, threads=1)


def check_katrain_fields(answer: dict, size: int, ownership: bool) -> None:
    """What KaTrain's engine client and game nodes read from an answer."""
    assert isinstance(answer["id"], str) and "error" not in answer
    root = answer["rootInfo"]
    for key in ("visits", "winrate", "scoreLead", "utility", "scoreStdev"):
        assert isinstance(root[key], (int, float)), key
    assert answer["moveInfos"]
    for order, info in enumerate(answer["moveInfos"]):
        for key in ("move", "visits", "winrate", "scoreLead", "scoreMean", "scoreStdev", "prior", "lcb", "utility",
                    "utilityLcb", "pv"):
            assert key in info, key
        assert info["order"] == order and info["pv"][0] == info["move"]
        assert 0.0 <= info["winrate"] <= 1.0 and 0.0 <= info["prior"] <= 1.0
    assert [m["visits"] for m in answer["moveInfos"]] == sorted((m["visits"] for m in answer["moveInfos"]),
                                                                reverse=True)
    policy = answer["policy"]
    assert len(policy) == size * size + 1
    legal = [p for p in policy if p >= 0]
    assert abs(sum(legal) - 1.0) < 1e-3
    if ownership:
        assert len(answer["ownership"]) == size * size and all(-1 <= v <= 1 for v in answer["ownership"])
        assert all(len(m["ownership"]) == size * size for m in answer["moveInfos"])
    else:
        assert "ownership" not in answer


def test_katrain_queries_replayed(network):
    queries = [json.loads(line) for line in (DATA / "katrain_queries.jsonl").read_text().splitlines()]
    analysis, empty_board, ponder, terminate = queries
    clock = HandClock()
    engine, out = make_engine(network, clock=clock)
    # KaTrain's queries carry maxTime 20 s: compile the kernels first, so that a cold numba
    # cache on a slow machine does not eat the query's time.
    send(engine, dict(analysis, id="warm-up", overrideSettings={}))
    engine.finish()
    out.clear()
    send(engine, analysis)
    send(engine, empty_board)
    engine.finish()
    warnings = [a for a in out if "warning" in a]
    answers = {a["id"]: a for a in out if "rootInfo" in a}
    assert {w["field"] for w in warnings} == {"overrideSettings.wideRootNoise"}  # KaTrain logs these, no more
    check_katrain_fields(answers["QUERY:1"], 9, ownership=True)
    assert answers["QUERY:1"]["rootInfo"]["visits"] == 30 and answers["QUERY:1"]["turnNumber"] == 3
    assert answers["QUERY:1"]["rootInfo"]["currentPlayer"] == "W"
    check_katrain_fields(answers["QUERY:2"], 9, ownership=False)
    assert answers["QUERY:2"]["rootInfo"]["visits"] == 20
    # Pondering: reports during the search until KaTrain terminates it, then one final answer.
    # (A fast machine once finished the whole capped search before the first 0.25 s report.)
    out.clear()
    send(engine, ponder)
    engine.step()
    assert not [a for a in out if "rootInfo" in a]  # no report is due yet
    for _ in range(3):
        clock.now += ponder["reportDuringSearchEvery"]
        engine.step()
    during = [a for a in out if a.get("isDuringSearch")]
    assert len(during) == 3 and during[-1]["rootInfo"]["visits"] > during[0]["rootInfo"]["visits"]
    send(engine, terminate)
    assert out[-1] == terminate  # the action is acknowledged by echoing it
    engine.finish()
    final = [a for a in out if a.get("id") == "QUERY:3" and a.get("isDuringSearch") is False]
    assert len(final) == 1 and final[0]["rootInfo"]["visits"] >= 1
    assert not engine.busy()


@pytest.mark.parametrize("line, field", [
    ("not json", None),
    ({"moves": []}, "id"),
    ({**QUERY, "moves": [["B", "E5"], ["W", "E5"]]}, "moves"),
    ({**QUERY, "moves": [["B", "Z99"]]}, "moves"),
    ({**QUERY, "boardYSize": 13}, "boardXSize"),
    ({**QUERY, "rules": "bogus"}, "rules"),
    ({**QUERY, "rules": {"ko": "SIMPLE", "scoring": "NONSENSE"}}, "rules"),
    ({**QUERY, "maxVisits": 0}, "maxVisits"),
    ({**QUERY, "analyzeTurns": [7]}, "analyzeTurns"),
    ({**QUERY, "komi": "seven"}, "komi"),
    ({**QUERY, "includeOwnership": "yes"}, "includeOwnership"),
    ({"id": "x", "action": "dance"}, "action"),
])
def test_bad_queries_get_an_error_naming_the_field(line, field):
    engine, out = make_engine()
    send(engine, line)
    assert len(out) == 1 and "error" in out[0], out
    assert out[0].get("field") == field
    if isinstance(line, dict) and "id" in line:
        assert out[0]["id"] == line["id"]
    assert not engine.busy()


def test_actions_version_cache_and_unknown_fields():
    engine, out = make_engine()
    send(engine, {"id": "v", "action": "query_version"})
    send(engine, {"id": "c", "action": "clear_cache"})
    assert out[0]["id"] == "v" and out[0]["version"] and out[0]["action"] == "query_version"
    assert out[1] == {"id": "c", "action": "clear_cache"}
    send(engine, {**QUERY, "id": "w", "colour": "blue", "maxVisits": 8})
    assert out[2] == {"id": "w", "warning": "unused field", "field": "colour"}
    engine.finish()
    assert out[3]["id"] == "w" and out[3]["rootInfo"]["visits"] == 8


def test_turns_priorities_and_terminating_a_waiting_query():
    engine, out = make_engine(parallel=1)
    send(engine, {**QUERY, "id": "low", "analyzeTurns": [0, 1, 2], "maxVisits": 16})
    send(engine, {**QUERY, "id": "high", "priority": 5, "maxVisits": 16})
    send(engine, {**QUERY, "id": "doomed", "maxVisits": 16})
    send(engine, {"id": "t", "action": "terminate", "terminateId": "doomed"})
    engine.finish()
    answers = [(a["id"], a.get("turnNumber")) for a in out if "turnNumber" in a]
    first = next(a for a in out if "turnNumber" in a)
    assert ("doomed", 2) == answers[0] and first["noResults"] is True  # terminated before it began
    assert {"id": "t", "action": "terminate", "terminateId": "doomed"} in out
    assert answers[1:] == [("high", 2), ("low", 0), ("low", 1), ("low", 2)]


def test_perspective_black_white_and_side_to_move():
    answers = {}
    for view in ("BLACK", "SIDETOMOVE", "WHITE"):
        engine, out = make_engine(seed=3)
        send(engine, {**QUERY, "id": view, "moves": [["B", "E5"]], "includeOwnership": True,
                      "overrideSettings": {"reportAnalysisWinratesAs": view}})
        engine.finish()
        answers[view] = out[-1]
    black, mover, white = (answers[v]["rootInfo"] for v in ("BLACK", "SIDETOMOVE", "WHITE"))
    assert mover["currentPlayer"] == "W"
    assert black["winrate"] == pytest.approx(1.0 - mover["winrate"], abs=1e-6)
    assert white["winrate"] == pytest.approx(mover["winrate"], abs=1e-6)
    assert black["scoreLead"] == pytest.approx(-white["scoreLead"], abs=1e-6)
    assert np.allclose(answers["BLACK"]["ownership"], -np.array(answers["WHITE"]["ownership"]))


def test_queries_in_flight_share_network_batches(network):
    class Counting:
        def __init__(self, inner):
            self.inner, self.feature_set, self.board_size, self.config = inner, inner.feature_set, None, inner.config
            self.batches: list[int] = []

        def evaluate(self, features):
            self.batches.append(len(features))
            return self.inner.evaluate(features)

        def evaluate_outputs(self, features):
            return self.inner.evaluate_outputs(features)

    counting = Counting(network)
    engine, out = make_engine(counting, parallel=3)
    for i in range(3):
        send(engine, {**QUERY, "id": f"p{i}", "maxVisits": 64, "moves": QUERY["moves"][:i]})
    engine.finish()
    assert sorted(a["id"] for a in out if "rootInfo" in a) == ["p0", "p1", "p2"]
    # One tree offers at most 8 leaves a step: bigger batches hold several queries' leaves.
    assert max(counting.batches) > 8


def test_score_head_is_reported_as_score_lead(network):
    from goengine.analysis.query import parse_query
    from goengine.features.state import encode_state

    engine, out = make_engine(network)
    send(engine, {**QUERY, "moves": [["B", "E5"]], "maxVisits": 16,
                  "overrideSettings": {"reportAnalysisWinratesAs": "SIDETOMOVE"}})
    engine.finish()
    answer = out[-1]
    game = parse_query({**QUERY, "moves": [["B", "E5"]]}, 16).turns[0].game
    head = network.evaluate_outputs(encode_state(game, network.feature_set)[None])
    assert answer["rootInfo"]["scoreLead"] == pytest.approx(float(head.score[0]), abs=1e-4)
    first = answer["moveInfos"][0]
    child = game.copy()
    from goengine.coords import loc_of_vertex

    child.play(loc_of_vertex(first["move"], 9))
    after = network.evaluate_outputs(encode_state(child, network.feature_set)[None])
    assert first["scoreLead"] == pytest.approx(-float(after.score[0]), abs=1e-4)
    assert first["scoreMean"] == first["scoreLead"] and first["scoreStdev"] > 0


def test_without_a_network_the_scores_come_from_playout_ownership():
    engine, out = make_engine(ownership_playouts=64)
    # Black has walled off the whole left side: the playouts count it for Black.
    moves = [["B", f"E{r}"] for r in range(1, 10)]
    moves = [m for pair in zip(moves, [["W", "pass"]] * 9) for m in pair]
    send(engine, {**QUERY, "moves": moves, "komi": 0.5, "includeOwnership": True})
    engine.finish()
    answer = out[-1]
    assert answer["rootInfo"]["scoreLead"] > 10  # Black's view (the default): Black leads
    own = np.array(answer["ownership"]).reshape(9, 9)
    assert own[:, :4].mean() > 0.3  # the left side is mostly Black's


def _run(args: list[str], stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "goengine.cli", "analysis", *args], input=stdin,
                          capture_output=True, text=True, env=engine_env(), timeout=300)


def test_the_process_answers_one_json_line_each_and_exits_at_the_end_of_input(tmp_path):
    lines = [json.dumps({**QUERY, "id": "a", "maxVisits": 16}), "oops", json.dumps({"id": "v", "action": "query_version"})]
    done = _run(["--visits", "16"], "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert {a.get("id") for a in answers} == {"a", "v", None}
    assert "Traceback" not in done.stderr
    (tmp_path / "bad.json").write_text("{}")
    (tmp_path / "bad.safetensors").write_bytes(b"")
    broken = _run(["--model", str(tmp_path / "bad")], "")
    assert broken.returncode == 2 and broken.stdout == ""
    assert broken.stderr.startswith("goengine analysis: cannot use --model") and "Traceback" not in broken.stderr


def test_katrain_itself_drives_the_engine(tmp_path):
    pytest.importorskip("katrain.core.engine", reason="KaTrain is not installed (pip install katrain)")
    import os
    import threading

    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", str(tmp_path))
    from katrain.core.engine import KataGoEngine
    from katrain.core.game_node import GameNode
    from pysgf import Move

    class KaTrainStandIn:  # what the engine client calls back on its application object
        def __init__(self):
            self.logs = []

        def log(self, message, level):
            self.logs.append(str(message))

        def __call__(self, *args):
            self.logs.append(repr(args))

    command = " ".join([f"PYTHONPATH={engine_env()['PYTHONPATH']}", "exec", sys.executable, "-m", "goengine.cli",
                        "analysis"])
    app = KaTrainStandIn()
    client = KataGoEngine(app, {"backend": "custom", "altcommand": command, "max_visits": 24, "max_time": 30.0,
                                "wide_root_noise": 0.0, "_enable_ownership": True})
    node = GameNode(properties={"SZ": 9, "KM": 7.5, "RU": "chinese"})
    node = node.play(Move.from_gtp("E5", player="B"))
    answers, done = [], threading.Event()

    def callback(analysis, partial):
        answers.append(analysis)
        if not partial:
            done.set()

    try:
        client.request_analysis(node, callback, visits=24)
        assert done.wait(240), app.logs[-5:]
    finally:
        client.shutdown(finish=None)
    assert answers[-1]["rootInfo"]["visits"] == 24
    assert not [m for m in app.logs if "rror" in m or "xception" in m]
