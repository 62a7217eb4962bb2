"""`goengine gtp` driven by Sabaki's own GTP library (@sabaki/gtp 3.x, run with node): the
start-up queries, a short game, and an lz-analyze session that the next command interrupts.
Skipped where node or the package is missing (install it with `npm ci` in tests/js)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from goengine.coords import loc_of_vertex

from gtp_helpers import engine_env

JS = Path(__file__).parent / "js"
NODE = shutil.which("node")
HAVE_PACKAGE = (JS / "node_modules" / "@sabaki" / "gtp" / "package.json").is_file()
pytestmark = pytest.mark.skipif(
    NODE is None or not HAVE_PACKAGE,
    reason="needs node and @sabaki/gtp: run `npm ci` (or `npm install @sabaki/gtp@3`) in tests/js")

LZ_MOVE = re.compile(r"^move (\S+) visits (\d+) winrate (\d+) prior (\d+) lcb (\d+) order (\d+) pv((?: \S+)+)$")


def board_points(showboard: str) -> dict[str, str]:
    """Vertex -> '.', 'X' or 'O' from a showboard diagram."""
    lines = [line.split() for line in showboard.splitlines()]
    letters = next(parts for parts in lines if parts and parts[0] == "A")
    points = {}
    for parts in lines:
        if parts and parts[0].isdigit():
            for letter, cell in zip(letters, parts[1:-1]):
                points[f"{letter}{parts[0]}"] = cell
    return points


@pytest.fixture(scope="module")
def report():
    run = subprocess.run([NODE, "sabaki_session.js", sys.executable, "--size", "9", "--visits", "300"],
                         cwd=JS, env=engine_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_start_up_queries(report):
    assert report["errors"] == []
    replies = report["replies"]
    assert replies["name"] == "goengine"
    assert replies["protocol_version"] == "2"
    major, minor = (int(x) for x in replies["version"].split("."))
    assert minor >= 15  # Lizzie's check for engines whose name does not start with "KataGo"
    commands = set(replies["list_commands"].split())
    assert {"lz-analyze", "kata-analyze", "lz-genmove_analyze", "genmove", "play", "undo"} <= commands


def test_game_moves_are_legal_vertices(report):
    points = board_points(report["boardAfter"])
    assert len(report["moves"]) == 6
    played = report["moves"][:5]
    assert len(set(played)) == 5
    for vertex in played:
        assert points[vertex.upper()] in ("X", "O")
    assert points[report["moves"][5].upper()] == "." or report["moves"][5] in ("pass", "resign")


def test_analysis_streams_until_the_next_command(report):
    assert report["analysisHeader"] == "="
    assert report["analysisStop"] == ""
    lines = report["analysis"]
    assert len(lines) >= 3
    points = board_points(report["boardAfter"])
    assert sum(cell != "." for cell in points.values()) == 5  # analysis played nothing
    for line in lines:
        entries = line.split(" info ")
        entries[0] = entries[0].removeprefix("info ")
        orders = []
        for entry in entries:
            match = LZ_MOVE.match(entry)
            assert match, entry
            vertex, visits, winrate, prior, lcb, order, pv = match.groups()
            assert vertex == "pass" or points[vertex] == "."
            assert 0 <= int(winrate) <= 10000 and 0 <= int(prior) <= 10000 and 0 <= int(lcb) <= int(winrate)
            assert pv.split()[0] == vertex
            for v in pv.split():
                loc_of_vertex(v, 9)
            orders.append(int(order))
        assert orders == list(range(len(entries)))


KATA_MOVE = re.compile(r"^move (\S+) visits (\d+) utility (\S+) winrate (\S+)"
                       r"(?: scoreMean \S+ scoreStdev \S+ scoreLead \S+)? prior (\S+) lcb (\S+)"
                       r"(?: utilityLcb \S+)? order (\d+) pv((?: \S+)+)$")


def test_kata_analysis_with_ownership(report):
    assert report["kataAnalysisHeader"] == "=" and report["kataAnalysisStop"] == ""
    lines = report["kataAnalysis"]
    assert len(lines) >= 3
    points = board_points(report["boardAfter"])
    for line in lines:
        moves, ownership = line.split(" ownership ")
        values = [float(v) for v in ownership.split()]
        assert len(values) == 81 and all(-1.0 <= v <= 1.0 for v in values)
        # Row by row from A9, from White's view (White is to move): White's stone on C3 is
        # White's, Black's on E5 is not.
        assert values[6 * 9 + 2] > 0 and values[4 * 9 + 4] < 0
        entries = moves.split(" info ")
        entries[0] = entries[0].removeprefix("info ")
        for order, entry in enumerate(entries):
            match = KATA_MOVE.match(entry)
            assert match, entry
            vertex, visits, utility, winrate, prior, lcb, k, pv = match.groups()
            assert int(k) == order and (vertex == "pass" or points[vertex] == ".")
            assert 0.0 <= float(lcb) <= float(winrate) <= 1.0 and 0.0 <= float(prior) <= 1.0
            assert abs(float(utility) - (2 * float(winrate) - 1)) < 1e-5


def test_genmove_analyze_ends_with_the_move(report):
    lines = report["genmoveLines"]
    assert lines[0] == "="
    assert lines[-1].startswith("play ")
    assert all(line.startswith("info move ") for line in lines[1:-1])
    assert len(lines) >= 2
