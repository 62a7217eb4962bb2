"""The GTP extensions of KataGo, Leela Zero and GoGui: kata-analyze's scores, rootInfo,
pvVisits, movesOwnership and ownershipStdev, lz-analyze's ownership, kata-raw-nn, the
parameter commands, lz-setoption, get_komi, clear_cache, kata-set-rules with KataGo's JSON
rules, and GoGui's analysis menu."""

from __future__ import annotations

import re

import numpy as np
import pytest

from goengine.gtp import Engine, EngineOptions


def ok(engine: Engine, line: str) -> str:
    reply = engine.handle_line(line)
    assert reply.startswith("="), (line, reply)
    return reply[1:].strip()


@pytest.fixture(scope="module")
def rollout_engine():
    engine = Engine(EngineOptions(size=9, visits=60, ownership_playouts=32))
    engine.wait_ready()
    return engine


@pytest.fixture(scope="module")
def network_engine():
    torch = pytest.importorskip("torch")
    from goengine.nn import NetConfig, TorchEvaluator, build_network

    torch.manual_seed(2)
    config = NetConfig(kind="policy_value", blocks=1, channels=8, head_channels=4, value_hidden=8,
                       ownership=True, score=True, board_sizes=(9,))
    evaluator = TorchEvaluator(build_network(config), config, threads=1, any_size=True)
    engine = Engine(EngineOptions(model="net", size=9, visits=24), evaluator_loader=lambda options: evaluator)
    engine.wait_ready()
    return engine


def _info_line(reply: str) -> str:
    return next(line for line in reply.split("\n") if line.startswith("info"))


def test_kata_analyze_reports_scores_root_info_pv_visits_and_moves_ownership(network_engine):
    engine = network_engine
    ok(engine, "clear_board")
    ok(engine, "play b E5")
    line = _info_line(engine.handle_line(
        "kata-analyze 10 rootInfo true pvVisits true movesOwnership true ownership true ownershipStdev true"))
    moves, rest = line.split(" rootInfo ")
    root, rest = rest.split(" ownership ", 1)
    ownership, stdev = rest.split(" ownershipStdev ")
    assert len(ownership.split()) == 81 and len(stdev.split()) == 81
    assert re.fullmatch(r"visits \d+ utility -?[\d.]+ winrate [\d.]+ scoreMean -?[\d.]+ scoreStdev [\d.]+ "
                        r"scoreLead -?[\d.]+", root), root
    for entry in moves.split("info move ")[1:]:
        fields = re.match(r"\S+ visits (\d+) utility (-?[\d.]+) winrate ([\d.]+) scoreMean (-?[\d.]+) "
                          r"scoreStdev ([\d.]+) scoreLead (-?[\d.]+) prior [\d.]+ lcb ([\d.]+) "
                          r"utilityLcb (-?[\d.]+) order \d+ pv (.+?) pvVisits ([\d ]+) movesOwnership (.+)$",
                          entry.strip())
        assert fields, entry
        visits, utility, winrate, mean, _, lead, lcb, utility_lcb, pv, pv_visits, owned = fields.groups()
        assert float(utility) == pytest.approx(2 * float(winrate) - 1, abs=1e-5)
        assert float(utility_lcb) == pytest.approx(2 * float(lcb) - 1, abs=1e-5)
        assert mean == lead
        counts = [int(v) for v in pv_visits.split()]
        assert len(counts) == len(pv.split()) and counts[0] == int(visits)
        assert counts == sorted(counts, reverse=True)
        assert len(owned.split()) == 81


def test_kata_analyze_score_lead_is_the_score_head_after_the_move(network_engine):
    from goengine.coords import loc_of_vertex
    from goengine.features.state import encode_state

    engine = network_engine
    ok(engine, "clear_board")
    line = _info_line(engine.handle_line("kata-analyze b 10"))
    first = re.match(r"info move (\S+) .*? scoreLead (-?[\d.]+) ", line)
    child = engine.game.copy()
    child.play(loc_of_vertex(first.group(1), 9))
    out = engine.evaluator.evaluate_outputs(encode_state(child, engine.evaluator.feature_set)[None])
    assert float(first.group(2)) == pytest.approx(-float(out.score[0]), abs=1e-3)


def test_without_a_network_kata_analyze_still_reports_a_score(rollout_engine):
    engine = rollout_engine
    ok(engine, "clear_board")
    line = _info_line(engine.handle_line("kata-analyze b 10 minmoves 3 rootInfo true"))
    assert " scoreLead " in line and " scoreStdev " in line and " rootInfo visits " in line


def test_lz_analyze_ownership(rollout_engine):
    engine = rollout_engine
    ok(engine, "clear_board")
    line = _info_line(engine.handle_line("lz-analyze b 10 minmoves 3 ownership true"))
    values = [float(v) for v in line.split(" ownership ")[1].split()]
    assert len(values) == 81 and all(-1 <= v <= 1 for v in values)


def test_kata_raw_nn(network_engine, rollout_engine):
    engine = network_engine
    ok(engine, "clear_board")
    ok(engine, "play b E5")
    text = ok(engine, "kata-raw-nn 0")
    lines = text.split("\n")
    assert lines[0] == "symmetry 0"
    win = float(lines[1].split()[1])
    assert lines[2].startswith("whiteLoss") and float(lines[2].split()[1]) == pytest.approx(1 - win, abs=1e-5)
    policy_at = lines.index("policy")
    rows = [row.split() for row in lines[policy_at + 1:policy_at + 10]]
    assert rows[4][4] == "NAN"  # E5 is taken
    total = sum(float(v) for row in rows for v in row if v != "NAN") + float(lines[policy_at + 10].split()[1])
    assert total == pytest.approx(1.0, abs=1e-4)
    assert "whiteOwnership" in lines and any(l.startswith("whiteLead") for l in lines)
    assert ok(engine, "kata-raw-nn all").count("symmetry ") == 8
    assert engine.handle_line("kata-raw-nn 9").startswith("? symmetry must be")
    assert rollout_engine.handle_line("kata-raw-nn 0").startswith("? this command needs a network")


def test_params_lz_setoption_komi_and_cache():
    engine = Engine(EngineOptions(size=9, visits=40))
    assert ok(engine, "kata-list-params").split() == ["maxVisits", "maxPlayouts", "maxTime", "numSearchThreads"]
    assert ok(engine, "kata-get-param maxVisits") == "40"
    ok(engine, "kata-set-param maxVisits 25")
    assert ok(engine, "kata-get-param maxPlayouts") == "25"
    assert engine.searcher().default_visits == 25
    ok(engine, "lz-setoption name visits value 30")
    assert ok(engine, "kata-get-param maxVisits") == "30"
    ok(engine, "lz-setoption name maximum time (seconds) value 2.5")
    assert ok(engine, "kata-get-param maxTime") == "2.5"
    assert engine.handle_line("kata-set-param maxVisits 0").startswith("? maxVisits must be at least 1")
    assert engine.handle_line("kata-set-param bogus 1").startswith("? unknown parameter")
    assert engine.handle_line("lz-setoption name bogus value 1").startswith("? unknown option")
    ok(engine, "komi 6.5")
    assert ok(engine, "get_komi") == "6.5"
    ok(engine, "clear_cache")
    assert ok(engine, "genmove b")


def test_kata_set_rules_json_form():
    engine = Engine(EngineOptions(size=9, visits=8))
    ok(engine, 'kata-set-rules {"ko":"SITUATIONAL","scoring":"AREA","suicide":true,"whiteHandicapBonus":"0"}')
    assert engine.rules.name == "new-zealand"
    ok(engine, 'kata-set-rules {"ko": "SIMPLE", "scoring": "TERRITORY", "suicide": false, "tax": "SEKI"}')
    assert (engine.rules.ko, engine.rules.scoring) == ("simple", "territory")
    assert engine.handle_line('kata-set-rules {"ko":"NONE"}').startswith("? rules: ko must be one of")
    assert engine.handle_line('kata-set-rules {"ko":').startswith("? rules: not valid JSON")
    assert engine.rules.scoring == "territory"  # unchanged by the failures


def test_gogui_analysis_menu(rollout_engine):
    engine = rollout_engine
    ok(engine, "clear_board")
    listed = ok(engine, "gogui-analyze_commands").split("\n")
    for entry in listed:
        kind, label, command = entry.split("/")
        assert kind in ("dboard", "string") and label
        assert engine.handle_line("known_command " + command.split()[0]) == "= true\n\n"
    board = ok(engine, "gogui-ownership").split("\n")
    assert len(board) == 9 and all(len(row.split()) == 9 for row in board)
    rates = np.array([[float(v) for v in row.split()] for row in ok(engine, "gogui-winrates").split("\n")])
    assert rates.shape == (9, 9) and (rates > 0).any() and (rates <= 1).all()
    assert engine.handle_line("gogui-interrupt") == "=\n\n"
