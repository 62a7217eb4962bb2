"""Random and malformed command lines, in process: every reply is well formed and carries the
command's id, and afterwards the engine still plays a legal game to its end."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goengine.board import BLACK, WHITE
from goengine.coords import loc_of_vertex
from goengine.game import GameState
from goengine.gtp import Engine, EngineOptions, parse_command

REPLY = re.compile(r"\A([=?])(\d*)(?:[ \n][^\n]*)?\n(?:[^\n]+\n)*\n\Z")

NAMES = ["protocol_version", "name", "version", "known_command", "list_commands", "boardsize", "clear_board",
         "komi", "play", "genmove", "undo", "showboard", "fixed_handicap", "place_free_handicap",
         "set_free_handicap", "loadsgf", "printsgf", "reg_genmove", "final_score", "final_status_list",
         "time_settings", "time_left", "kgs-time_settings", "kgs-genmove_cleanup", "kgs-rules", "kata-set-rules",
         "kata-get-rules", "lz-analyze", "kata-analyze", "lz-genmove_analyze", "kata-genmove_analyze", "stop",
         "frobnicate", "GENMOVE", "Play", ""]
TOKENS = ["b", "w", "black", "WHITE", "x", "pass", "PASS", "resign", "a1", "A1", "E5", "e5", "J9", "T19", "Z25",
          "I5", "A0", "A-1", "0", "1", "2", "3", "5", "9", "13", "19", "25", "26", "-1", "7.5", "nan", "inf",
          "1e309", "0x10", "alive", "dead", "seki", "chinese", "japanese", "tromp-taylor", "aga", "new_zealand",
          "none", "absolute", "byoyomi", "canadian", "interval", "avoid", "allow", "minmoves", "ownership", "true",
          "D4,Q16", ",", "no-such-file.sgf", "out.sgf", "é", "\t", "#", "=", "?", "\x00", "\x1b[31m", "\r"]

token = st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))
line = st.one_of(
    st.builds(lambda i, n, a: f"{i}{n} {' '.join(a)}", st.sampled_from(["", "1 ", "007 ", "42 ", "x "]),
              st.sampled_from(NAMES), st.lists(token, max_size=5)),
    st.text(max_size=30),
)


def fast_engine() -> Engine:
    return Engine(EngineOptions(size=9, visits=12, ownership_playouts=8, tree_edges=200_000, resign_threshold=0.0))


@pytest.fixture(scope="module")
def engine():
    e = fast_engine()
    e.wait_ready()
    return e


def check_reply(raw: str, reply: str) -> None:
    command = parse_command(raw)
    if command is None:
        assert reply == "", f"{raw!r} is empty or a comment, yet got {reply!r}"
        return
    match = REPLY.match(reply)
    assert match, f"malformed reply to {raw!r}: {reply!r}"
    expected_id = "" if command.id is None else str(command.id)
    assert match.group(2) == expected_id, f"reply to {raw!r} carries id {match.group(2)!r}"


def send_random_lines(engine: Engine, max_examples: int = 250) -> int:
    """Feed up to max_examples * 16 random lines to `engine`; returns how many were sent."""
    sent = [0]

    @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(lines=st.lists(line, min_size=1, max_size=16))
    def run(lines):
        for raw in lines:
            check_reply(raw, engine.handle_line(raw))
            sent[0] += 1

    run()
    return sent[0]


def play_to_the_end(engine: Engine, size: int = 9) -> GameState:
    """Alternate genmoves until two passes, a resignation or the move limit; every move is
    checked on an independent game and on the engine's own board."""
    assert engine.handle_line(f"boardsize {size}").startswith("=")
    assert engine.handle_line("clear_board").startswith("=")
    referee = GameState(size, komi=engine.game.komi, rules=engine.rules, max_moves=10 * size * size)
    colours = {BLACK: "b", WHITE: "w"}
    while referee.consecutive_passes < 2 and referee.move_number < 4 * size * size:
        reply = engine.handle_line(f"genmove {colours[referee.to_play]}")
        assert reply.startswith("= ") and reply.endswith("\n\n"), reply
        vertex = reply[2:].strip()
        if vertex == "resign":
            break
        referee.play(loc_of_vertex(vertex, size))  # raises IllegalMove on an illegal move
        assert (engine.game.board == referee.board).all()
    return referee


def test_every_reply_is_well_formed_and_play_goes_on(engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # printsgf FILE writes here
    assert send_random_lines(engine) > 1000
    play_to_the_end(engine)


def test_ids_and_comments_on_known_lines():
    e = fast_engine()
    assert e.handle_line("12 name") == "=12 goengine\n\n"
    assert e.handle_line("   # only a comment") == ""
    assert e.handle_line("\x007 NAME\x01 # hi") == "=7 goengine\n\n"
    assert e.handle_line("3 frobnicate") == "?3 unknown command\n\n"
    assert e.handle_line("3") == "?3 missing command name\n\n"
