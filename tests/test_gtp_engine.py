"""The engine's behaviour over GTP, in process: scoring with dead stones, when it passes and
resigns, cleanup, avoid/allow, rules changes, records, undo, and the streaming server loop."""

from __future__ import annotations

import io
import re
import subprocess
import threading
import time

import numpy as np
import pytest

from goengine.ascii_board import parse
from goengine.board import BLACK, WHITE
from goengine.coords import action_of_loc, loc_of_vertex
from goengine.game import GameState
from goengine.gtp import Engine, EngineOptions, Server
from goengine.search.restrict import restrict_root
from goengine.stone_status import classify_stones
from goengine.gtp.thinking import SearchSettings, Searcher
from goengine.search.tree import EDGE_COUNT, EVAL, ROOT, VISITS
from goengine.sgf import read_sgf

from gtp_helpers import engine_argv, engine_env


def new_engine(**options) -> Engine:
    defaults = dict(size=9, visits=300, ownership_playouts=200)
    defaults.update(options)
    engine = Engine(EngineOptions(**defaults))
    engine.wait_ready()
    return engine


def ok(engine: Engine, line: str) -> str:
    reply = engine.handle_line(line)
    assert reply.startswith("=") and reply.endswith("\n\n"), f"{line!r} -> {reply!r}"
    return reply[1:].strip()


# A finished 9x9 game: Black's wall on E with four single eyes, White's on F with four, a dead
# white stone at B5 and a dead black stone at H5. By area Black has A-E (45), White F-J (36)
# + 7.5 komi: B+1.5. By territory (komi 6.5) Black 24 points + 1 prisoner, White 19 + 1:
# W+1.5.
FINISHED = """
    . X . X X O . O .
    X X X X X O O O O
    . . . . X O . . .
    . . . . X O . . .
    . O . . X O . X .
    . . . . X O . . .
    . . . . X O . . .
    X X X X X O O O O
    . X . X X O . O .
"""


def finished_game(engine: Engine) -> None:
    for r, row in enumerate(FINISHED.strip().splitlines()):
        for c, cell in enumerate(row.split()):
            if cell != ".":
                ok(engine, f"play {'b' if cell == 'X' else 'w'} {'ABCDEFGHJ'[c]}{9 - r}")


def test_final_score_removes_dead_stones_by_area_and_territory():
    engine = new_engine()
    finished_game(engine)
    assert ok(engine, "final_score") == "B+1.5"
    assert ok(engine, "final_status_list dead").split() == ["B5", "H5"]
    alive = ok(engine, "final_status_list alive").split("\n")
    assert sorted(len(chain.split()) for chain in alive) == [17, 21]
    assert ok(engine, "final_status_list seki") == ""
    ok(engine, "kata-set-rules japanese")
    assert ok(engine, "final_score") == "W+1.5"
    assert engine.handle_line("final_status_list undead").startswith("? invalid status")


def test_seki_chains_are_listed_as_seki_and_alive():
    # Each side has one eye (A6 for Black, E6 for White) and shares the liberty C6: whoever
    # fills C6 puts itself in atari and captures nothing. Neither is dead.
    game = GameState(6)
    board = parse("""
        . X . O . O
        X X X O O O
        X X X O O O
        X X X O O O
        X X X O O O
        X X X O O O
    """)
    game.board[:] = board
    status = classify_stones(game, np.zeros(36))
    stones = {loc for loc in status.alive}
    assert set(status.seki) == stones and len(stones) == 33
    assert not status.dead
    # With the white chain dead (its points owned by Black), nothing is in seki any more.
    ownership = np.where(np.arange(36) % 6 >= 3, 1.0, 0.5)
    status = classify_stones(game, ownership)
    assert len(status.dead) == 17 and not status.seki


def test_passes_to_end_a_won_game_but_not_in_cleanup_with_dead_stones_left():
    engine = new_engine()
    finished_game(engine)
    ok(engine, "play w pass")
    assert ok(engine, "genmove b") == "pass"
    ok(engine, "undo")  # White's pass is the last move again
    move = ok(engine, "kgs-genmove_cleanup b")
    assert move not in ("pass", "resign")
    assert engine.game.move_number == 42


def test_resigns_a_lost_game_but_not_when_told_not_to():
    def lost_position(engine: Engine) -> None:
        for row in range(1, 10):
            ok(engine, f"play w C{row}")  # White walls off seven columns; Black has nothing
        ok(engine, "play b pass")

    engine = new_engine(resign_min_move_fraction=0.0, resign_threshold=0.2)
    lost_position(engine)
    replies = [ok(engine, "genmove b") for _ in range(3)]
    assert "resign" in replies
    assert replies.index("resign") >= 1  # it takes two low evaluations in a row
    never = new_engine(resign_min_move_fraction=0.0, resign_threshold=0.0)
    lost_position(never)
    assert all(ok(never, "genmove b") != "resign" for _ in range(3))
    early = new_engine(resign_threshold=0.2)  # the default: not in the first half of the points
    lost_position(early)
    assert all(ok(early, "genmove b") != "resign" for _ in range(3))


def info_moves(reply: str) -> list[list[str]]:
    lines = [line for line in reply.split("\n") if line.startswith("info")]
    return [[m.split()[0] for m in line.split("info move ")[1:]] for line in lines]


def test_allow_and_avoid_restrict_analysis_and_genmove():
    engine = new_engine()
    ok(engine, "play b E5")
    allowed = info_moves(engine.handle_line("kata-analyze w 10 allow w C3,G7,D4 1"))
    assert allowed and all(set(moves) <= {"C3", "G7", "D4"} for moves in allowed)
    avoided = info_moves(engine.handle_line("lz-analyze w 10 avoid w D5,E4,F5,E6 1 minmoves 50"))
    assert avoided and all(not {"D5", "E4", "F5", "E6"} & set(moves) for moves in avoided)
    assert len(avoided[-1]) >= 50
    reply = engine.handle_line("lz-genmove_analyze w 10 allow w G3 1")
    assert reply.rstrip().endswith("play G3")
    assert engine.game.board[0, loc_of_vertex("G3", 9)] == WHITE
    # After a restricted search the tree is not reused: the next search sees every move.
    free = info_moves(engine.handle_line("lz-analyze b 10 minmoves 10"))
    assert len(set(free[-1])) >= 10


def test_analysis_of_the_other_colour_leaves_the_game_alone():
    engine = new_engine()
    ok(engine, "play b E5")
    before = engine.game.board.copy()
    reply = engine.handle_line("7 lz-analyze b 5")
    assert reply.startswith("=7\n") and reply.endswith("\n\n")
    assert (engine.game.board == before).all() and engine.game.to_play == WHITE
    assert engine.handle_line("lz-analyze 5 avoid purple D4 1").startswith("? invalid color")
    assert engine.handle_line("lz-analyze 5 avoid b Z99 1").startswith("? invalid vertex")
    assert engine.handle_line("lz-analyze 5 avoid b D4").startswith("? avoid needs")
    assert engine.handle_line("kata-analyze 5 frob 1").startswith("? unknown analysis option")
    assert engine.handle_line("lz-analyze 5 rootInfo true").startswith("? unknown analysis option")


def test_restrict_root_drops_moves_and_their_statistics():
    game = GameState(9)
    searcher = Searcher(9, None, SearchSettings(visits=400))
    searcher.search(game, visits=400)
    tree = searcher.player.search.trees
    root = int(tree.counts[0, ROOT])
    visits_before = int(tree.node_i[0, VISITS, root])
    allowed = np.zeros(82, bool)
    keep = [action_of_loc(loc_of_vertex(v, 9), 9) for v in ("E5", "C3", "G7")]
    allowed[keep] = True
    result = searcher.player.search.result(0)
    dropped = int(result.visit_counts[~allowed].sum())
    assert restrict_root(searcher.player.search, 0, allowed) == 3
    assert int(tree.node_i[0, EDGE_COUNT, root]) == 3
    assert int(tree.node_i[0, VISITS, root]) == visits_before - dropped
    after = searcher.player.search.result(0)
    assert np.flatnonzero(after.prior > 0).tolist() == sorted(keep)
    assert abs(float(after.prior.sum()) - 1.0) < 1e-5
    # The root's value is its own evaluation and its remaining children's values, visit-weighted.
    own = float(tree.node_f[0, EVAL, root])
    total = own + float(np.nansum(after.q * after.visit_counts))
    assert abs(after.root_value * (after.visit_counts.sum() + 1) - total) < 1e-6


    # A root already restricted to E5, C3, G7 (pass gone) asked to keep only D4: neither D4 nor
    # pass is among its edges, so it keeps what it has rather than leaving the search no move.
    only_d4 = np.zeros(82, bool)
    only_d4[action_of_loc(loc_of_vertex("D4", 9), 9)] = True
    assert restrict_root(searcher.player.search, 0, only_d4) == 3
    searcher.player.search.search([0], [16])
    assert int(tree.node_i[0, EDGE_COUNT, root]) == 3


def test_the_rollout_search_gtp_plans_is_the_one_that_runs():
    """thinking.py plans the rollout search's tree room (tree_memory_factor 2) and its own
    exploration and FPU; the player must run that plan, not a default of its own."""
    settings = SearchSettings(visits=100, tree_edges=200_000, rollout_c_puct=2.0, rollout_fpu_reduction=-50.0)
    searcher = Searcher(9, None, settings)
    search = searcher.player.search
    assert search.config == searcher.config
    assert (search.config.tree_memory_factor, search.config.c_puct, search.config.fpu_reduction) == (2, 2.0, -50.0)
    assert search.trees.node_i.shape[2] == 2 * searcher.config.num_simulations + 2

def test_rules_change_replays_the_game_and_refuses_an_illegal_history():
    engine = new_engine()
    for move in ("b E5", "w D5", "b D4", "w C4"):
        ok(engine, f"play {move}")
    ok(engine, "kata-set-rules aga")
    assert engine.game.move_number == 4 and engine.rules.name == "aga"
    assert '"ko": "SITUATIONAL"' in ok(engine, "kata-get-rules")
    ok(engine, "undo")
    assert engine.game.move_number == 3


def test_printsgf_round_trip(tmp_path):
    engine = new_engine()
    ok(engine, "fixed_handicap 2")
    for move in ("w E5", "b D5", "w pass"):
        ok(engine, f"play {move}")
    path = tmp_path / "game.sgf"
    ok(engine, f"printsgf {path}")
    for record in (read_sgf(str(path)), read_sgf(ok(engine, "printsgf").encode())):
        assert record.size == 9 and record.handicap == 2
        assert [(m.color, m.loc) for m in record.moves] == [(m.color, m.loc) for m in engine.game.moves]
    assert engine.handle_line(f"printsgf {tmp_path}/no/such/dir/x.sgf").startswith("? cannot write file")


def test_loadsgf_with_handicap_and_corrupt_files_leave_the_board_alone(tmp_path):
    engine = new_engine()
    good = tmp_path / "h.sgf"
    good.write_text("(;GM[1]FF[4]SZ[9]HA[2]KM[0.5]AB[cg][gc];W[ee];B[dd])")
    ok(engine, f"loadsgf {good}")
    assert engine.game.handicap == 2 and engine.game.komi == 0.5 and engine.game.move_number == 2
    snapshot = engine.game.board.copy()
    for content in (b"", b"(;GM[1]SZ[9];B[ee];W[ee])", b"\x00\xff garbage", b"(;GM[1]SZ[40])"):
        bad = tmp_path / "bad.sgf"
        bad.write_bytes(content)
        assert engine.handle_line(f"loadsgf {bad}").startswith("? cannot load file")
        assert (engine.game.board == snapshot).all()
    assert engine.handle_line(f"loadsgf {tmp_path}").startswith("? cannot load file")


def test_loadsgf_of_odd_charsets_devices_and_huge_files(tmp_path):
    """CA[rot13] was '? internal error'; /dev/zero was read without end."""
    engine = new_engine()
    odd = tmp_path / "rot13.sgf"
    odd.write_bytes(b"(;GM[1]FF[4]CA[rot13]SZ[9]PB[Bob];B[cc];W[gg])")
    ok(engine, f"loadsgf {odd}")
    assert engine.game.move_number == 2
    snapshot = engine.game.board.copy()
    assert engine.handle_line("loadsgf /dev/zero") == "? cannot load file: /dev/zero: not a regular file\n\n"
    big = tmp_path / "big.sgf"
    with open(big, "wb") as f:
        f.truncate(33 * 1024 * 1024)
    reply = engine.handle_line(f"loadsgf {big}")
    assert reply.startswith("? cannot load file") and "larger than the 32 MiB" in reply
    assert (engine.game.board == snapshot).all()


def test_undo_and_genmove_keep_the_board_in_step_with_a_referee():
    engine = new_engine(visits=50)
    referee = GameState(9)
    for _ in range(6):
        colour = "b" if referee.to_play == BLACK else "w"
        vertex = ok(engine, f"genmove {colour}")
        referee.play(loc_of_vertex(vertex, 9))
    for _ in range(3):
        ok(engine, "undo")
        referee.undo()
    assert (engine.game.board == referee.board).all()
    ok(engine, "genmove w")  # a colour out of turn is allowed
    assert engine.game.to_play == BLACK


def test_a_failing_command_restores_the_game(monkeypatch):
    engine = new_engine()
    ok(engine, "play b E5")
    before = engine.game.board.copy()

    def broken(*args, **kwargs):
        engine.game.play(loc_of_vertex("D4", 9), WHITE)
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.searcher(), "search", broken)
    reply = engine.handle_line("3 genmove w")
    assert reply.startswith("?3 internal error: RuntimeError: boom")
    assert (engine.game.board == before).all() and engine.game.move_number == 1


class ScriptedInput:
    """Lines for the server's reader, with pauses (seconds) between them."""

    def __init__(self, script):
        self.script = script

    def __iter__(self):
        for item in self.script:
            if isinstance(item, float):
                time.sleep(item)
            else:
                yield item


def test_server_streams_analysis_until_the_next_line_and_ends_at_eof():
    engine = new_engine()
    out = io.StringIO()
    server = Server(engine, ScriptedInput(["1 name\n", "2 lz-analyze b 10\n", 0.6, "3 name\n", "\n"]), out)
    finished = threading.Event()
    threading.Thread(target=lambda: (server.serve(), finished.set()), daemon=True).start()
    assert finished.wait(30), "the server did not end at the end of input"
    text = out.getvalue()
    assert text.startswith("=1 goengine\n\n=2\ninfo move ")
    assert text.endswith("\n\n=3 goengine\n\n")
    stream = text[len("=1 goengine\n\n"):-len("=3 goengine\n\n")]
    lines = stream.split("\n")
    assert lines[0] == "=2" and lines[-2:] == ["", ""]
    assert len([line for line in lines if line.startswith("info move")]) >= 3  # every 0.1 s for 0.6 s
    assert all(re.match(r"info move \S+ visits \d+ winrate \d+ ", line) for line in lines[1:-2])


def test_process_answers_and_exits_at_end_of_input():
    run = subprocess.run(engine_argv("--size", "9"), input="1 name\n2 protocol_version\n", env=engine_env(),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    assert run.stdout == "=1 goengine\n\n=2 2\n\n"


def test_command_line_rejects_bad_options():
    run = subprocess.run(engine_argv("--size", "30"), input="", env=engine_env(), capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and "--size" in run.stderr and run.stdout == ""
    run = subprocess.run(engine_argv("--model", "/no/such/model"), input="", env=engine_env(),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "not found" in run.stderr


def test_does_not_pass_into_an_unsettled_capturing_race(tmp_path):
    # White's group on the left (liberties A9, A4) and Black's A3 group (A4, A1) are in a
    # capturing race that whoever moves first wins; White has just passed. Black must play
    # (A9 wins the race), not pass on the strength of a guess at the dead stones.
    record = tmp_path / "semeai.sgf"
    record.write_text("(;GM[1]FF[4]SZ[9]KM[7.5]PL[B]"
                      "AB[ba][ca][da][fa][ga][ha][ia][bb][db][eb][fb][dc][fc][gc][hc][bd][cd][dd][ed][gd]"
                      "[ce][de][ee][fe][df][ff][ag][bg][cg][ah][fh][bi][ei]"
                      "AW[ab][cb][gb][hb][ib][ac][bc][cc][ic][ad][hd][id][ae][be][ge][he][bf][cf][ef][gf][hf]"
                      "[if][dg][eg][fg][bh][ch][dh][gh][hh][ci][gi][ii])")
    engine = new_engine()
    ok(engine, f"loadsgf {record}")
    ok(engine, "play w pass")
    assert ok(engine, "genmove b") != "pass"


def test_one_colour_asked_over_and_over_gets_moves_and_then_passes():
    # Every genmove of the colour not to move adds a setup to the history; the engine passes
    # rather than overrun the search's history.
    engine = new_engine(size=5, visits=20, resign_threshold=0.0)
    replies = [engine.handle_line("genmove b") for _ in range(120)]
    assert all(reply.startswith("= ") for reply in replies)
    assert replies[-1] == "= pass\n\n"
    assert engine.game.move_number == 120


def _opening(engine: Engine, moves: int = 6) -> list[str]:
    ok(engine, "clear_board")
    return [ok(engine, f"genmove {'bw'[i % 2]}") for i in range(moves)]


def test_opening_variety_is_drawn_from_the_seed():
    """With a deterministic search (a fixed network), only the opening temperature can make
    two engines play differently: different seeds differ, equal seeds agree, and without the
    temperature every engine plays the same game."""
    from goengine.evaluator import RandomEvaluator

    def engine(seed: int, temperature: float) -> Engine:
        return Engine(EngineOptions(size=9, visits=24, model="fixed", seed=seed, opening_temperature=temperature,
                                    resign_threshold=0, ownership_playouts=8, tree_edges=200_000),
                      evaluator_loader=lambda options: RandomEvaluator(None, "agz", seed=3))

    assert _opening(engine(0, 0.0)) == _opening(engine(1, 0.0))
    varied = [tuple(_opening(engine(seed, 0.5))) for seed in range(3)]
    assert len(set(varied)) >= 2
    assert tuple(_opening(engine(2, 0.5))) == varied[2]


def test_opening_temperature_fades_to_the_best_move():
    from goengine.search.choice import opening_temperature

    assert opening_temperature(0, 19, 0.5) == 0.5
    assert opening_temperature(19, 19, 0.5) == pytest.approx(0.25)
    assert opening_temperature(45, 19, 0.5) == 0.0  # below 0.1: the most visited move
    assert opening_temperature(4, 9, 0.5) == pytest.approx(0.5 * 0.5 ** (4 * 19 / 81))
    assert opening_temperature(11, 9, 0.5) == 0.0 and opening_temperature(0, 9, 0.0) == 0.0


def test_every_fresh_process_plays_its_own_game_and_says_its_seed():
    """`goengine gtp` seeded itself with 0, so every process played the same game against a
    deterministic opponent (a match tool starting a fresh engine per game got copies)."""
    procs = [subprocess.Popen(engine_argv("--size", "9", "--visits", "24", "--resign-threshold", "0"),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=engine_env()) for _ in range(2)]
    script = "".join(f"genmove {'bw'[i % 2]}\n" for i in range(6)) + "quit\n"
    outs = [p.communicate(script, timeout=300) for p in procs]
    games = [[line[2:] for line in out.splitlines() if line.startswith("= ")] for out, _ in outs]
    seeds = [re.search(r"seed (\d+) \(--seed \1 plays", err) for _, err in outs]
    assert all(seeds), [err for _, err in outs]
    assert seeds[0].group(1) != seeds[1].group(1)
    assert len(games[0]) == len(games[1]) == 6 and games[0] != games[1]
