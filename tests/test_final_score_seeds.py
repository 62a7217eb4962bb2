"""final_score and final_status_list answer the same for the same position whatever the
engine's seed, and agree with GNU Go on finished 9x9 positions (tests/data/finished_9x9.json:
games GNU Go played against itself, and two corner sekis, where random playouts alone call the
seki stones dead or alive by chance). With a network that has an ownership head, the head
decides only the chains the playouts leave in doubt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from goengine.gtp import Engine, EngineOptions
from selfplay.gtp_client import GtpClient

from gtp_helpers import find_gnugo

POSITIONS = json.loads((Path(__file__).parent / "data" / "finished_9x9.json").read_text())["positions"]
SEEDS = (0, 1, 7, 2**31 - 1)


def _moves(position: dict) -> list[tuple[str, str]]:
    tokens = position["moves"].split()
    return list(zip(tokens[::2], tokens[1::2]))


def _engine(position: dict, seed: int, evaluator_loader=None, **options) -> Engine:
    defaults = dict(size=9, komi=7.5, seed=seed, visits=8, tree_edges=100_000)
    defaults.update(options)
    loader = {} if evaluator_loader is None else {"evaluator_loader": evaluator_loader}
    engine = Engine(EngineOptions(**defaults), **loader)
    for colour, vertex in _moves(position):
        assert engine.handle_line(f"play {colour} {vertex}") == "=\n\n", (position["name"], colour, vertex)
    return engine


def _answer(engine: Engine) -> tuple[str, list[str]]:
    score = engine.handle_line("final_score")[2:].strip()
    dead = sorted(engine.handle_line("final_status_list dead")[1:].split())
    return score, dead


@pytest.mark.parametrize("position", POSITIONS, ids=[p["name"] for p in POSITIONS])
def test_final_score_is_the_same_for_every_seed_and_agrees_with_gnugo(position):
    answers = {seed: _answer(_engine(position, seed)) for seed in SEEDS}
    assert len(set(map(repr, answers.values()))) == 1, answers
    score, dead = answers[SEEDS[0]]
    assert score == position["gnugo_score"]
    assert dead == sorted(position["gnugo_dead"])


@pytest.mark.skipif(find_gnugo() is None, reason="GNU Go not found: set $GNUGO or install gnugo")
def test_gnugo_still_scores_the_positions_so():
    with GtpClient([find_gnugo(), "--mode", "gtp", "--chinese-rules"], timeout=60) as gnugo:
        for position in POSITIONS:
            gnugo.boardsize(9)
            gnugo.clear_board()
            gnugo.komi(7.5)
            for colour, vertex in _moves(position):
                gnugo.command("play", colour, vertex)
            assert gnugo.final_score() == position["gnugo_score"], position["name"]


def test_an_ownership_head_decides_only_what_the_playouts_leave_in_doubt(monkeypatch):
    """An ownership head that gives White only its group on the left (rows 1-7 of columns
    A-C) calls the seki's white stones dead, for every seed, when the playouts cannot call
    them; where the playouts are sure of every chain the head is not heard."""
    from types import SimpleNamespace

    from goengine.board import BLACK
    from goengine.evaluator import RandomEvaluator
    from goengine import ownership as ownership_module

    seki = next(p for p in POSITIONS if p["name"] == "corner-seki")
    black_view = np.ones((9, 9), np.float32)
    black_view[2:, :3] = -1.0  # rows from the top, as the head reports them

    class OwnershipNet(RandomEvaluator):
        config = SimpleNamespace(ownership=True, board_sizes=(9,))

        def __init__(self, to_play):
            super().__init__(None, "agz", seed=1)
            self.to_play = to_play

        def evaluate_outputs(self, features):
            # The head speaks for the side to move.
            own = black_view.reshape(-1) * (1.0 if self.to_play() == BLACK else -1.0)
            return SimpleNamespace(ownership=np.repeat(own[None], len(features), 0))

    unsure = np.zeros(81)  # playouts that call nothing: every chain in doubt
    monkeypatch.setattr(ownership_module, "rollout_ownership", lambda *a, **k: unsure.copy())
    answers = set()
    for seed in SEEDS:
        holder = {}
        engine = _engine(seki, seed, model="net",
                         evaluator_loader=lambda o: OwnershipNet(lambda: holder["e"].game.to_play))
        holder["e"] = engine
        engine.load_model()
        answers.add(repr(_answer(engine)))
    assert len(answers) == 1
    assert answers.pop() == repr(("B+31.5", ["D8", "D9", "E8", "F8", "F9"]))

    # Sure playouts (Black owns the seki's white stones in none of them, White in all) win
    # over the head's opinion: the white stones live.
    sure = np.where(black_view.reshape(-1) > 0, 1.0, -1.0)
    sure[[3, 5, 12, 13, 14]] = -1.0  # D9 F9 (row 0), D8 E8 F8 (row 1): the seki stones the head holds dead
    monkeypatch.setattr(ownership_module, "rollout_ownership", lambda *a, **k: sure.copy())
    holder = {}
    engine = _engine(seki, 0, model="net", evaluator_loader=lambda o: OwnershipNet(lambda: holder["e"].game.to_play))
    holder["e"] = engine
    engine.load_model()
    score, dead = _answer(engine)
    assert not {"D8", "D9", "E8", "F8", "F9"} & set(dead)
