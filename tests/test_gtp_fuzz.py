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


# --- the same over a pipe, to a process ---------------------------------------------------------

PROCESS_LINES = 10_000
PROCESS_SEED = 20_504
CHARS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t#=?-+.,:;[]()\\/'\"_"
         "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\r\u00e9\u00df\u4e2d\u200b\ufeff\U0001f600")


def _vertex(rng) -> str:
    if rng.random() < 0.05:
        return rng.choice(["pass", "PASS", "resign", "I5", "A0", "Z9"])
    if rng.random() < 0.7:  # on a 9x9 board, where the games mostly are
        return rng.choice("ABCDEFGHJ") + str(rng.randrange(1, 10))
    return rng.choice("ABCDEFGHJKLMNOPQRSTUVWXYZ") + str(rng.randrange(1, 26))


def _number(rng) -> str:
    return rng.choice(["0", "1", "2", "5", "0.5", "7.5", "-1", "1e308", "1e309", "nan", "inf", "-0",
                       "99999999999999999999999", str(rng.randrange(0, 100))])


def _arguments(rng, name: str) -> list[str]:
    """Arguments of the right kind and count for `name`, with values from the edges."""
    colour = lambda: rng.choice(["b", "w", "black", "white", "B", "W"])  # noqa: E731
    if name in ("genmove", "reg_genmove", "kgs-genmove_cleanup"):
        return [colour()]
    if name == "play":
        return [colour(), _vertex(rng)]
    if name == "boardsize":
        return [rng.choice(["2", "5", "7", "9", "9", "9", "13", "19", "25", "26", "0", "-3"])]
    if name == "komi":
        return [_number(rng)]
    if name in ("fixed_handicap", "place_free_handicap"):
        return [str(rng.randrange(0, 11))]
    if name == "set_free_handicap":
        return [_vertex(rng) for _ in range(rng.randrange(1, 5))]
    if name == "time_settings":
        return [_number(rng), _number(rng), _number(rng)]
    if name == "time_left":
        return [colour(), _number(rng), _number(rng)]
    if name == "kgs-time_settings":
        kind = rng.choice(["none", "absolute", "byoyomi", "canadian"])
        return [kind] + [_number(rng) for _ in range({"none": 0, "absolute": 1}.get(kind, 3))]
    if name == "final_status_list":
        return [rng.choice(["alive", "dead", "seki"])]
    if name in ("lz-analyze", "kata-analyze"):
        return [colour(), str(rng.randrange(0, 20))] + rng.choice([[], ["ownership", "true"], ["avoid", "b", _vertex(rng), "1"],
                                                                  ["allow", "w", _vertex(rng), "2"], ["minmoves", "3"]])
    if name in ("lz-genmove_analyze", "kata-genmove_analyze"):
        return [colour(), str(rng.randrange(0, 20))]
    if name == "loadsgf":
        return [rng.choice(["out.sgf", "no-such-file.sgf", "/dev/zero", "."])] + ([_number(rng)] if rng.random() < 0.3 else [])
    if name == "printsgf":
        return rng.choice([[], ["out.sgf"]])
    if name in ("kata-set-rules", "kgs-rules"):
        return [rng.choice(["chinese", "japanese", "tromp-taylor", "aga", "new_zealand", "koSIMPLEscoreAREA", "x"])]
    if name == "known_command":
        return [rng.choice(NAMES)]
    return []


def random_lines(rng, count: int) -> bytes:
    """`count` lines as bytes: many well formed commands with values from the edges (so that
    games are played, clocks set, files loaded), many a command name with random arguments
    (ids, numbers, vertices, junk), the rest random text or bytes that are not UTF-8."""
    out = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.45:
            name = rng.choice(NAMES[:-3])
            text = rng.choice(["", "", "1 ", "42 "]) + " ".join([name] + _arguments(rng, name))
            data = text.encode("utf-8")
        elif kind < 0.75:
            words = [rng.choice(NAMES)] + [rng.choice(TOKENS) if rng.random() < 0.8 else
                                           "".join(rng.choice(CHARS) for _ in range(rng.randrange(1, 7)))
                                           for _ in range(rng.randrange(0, 6))]
            text = rng.choice(["", "1 ", "007 ", "42 ", "x ", "99999999999999999999 "]) + " ".join(words)
            data = text.encode("utf-8")
        elif kind < 0.95:
            data = "".join(rng.choice(CHARS) for _ in range(rng.randrange(0, 31))).encode("utf-8")
        else:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20))).replace(b"\n", b"")
        out.append(data)
    return b"\n".join(out) + b"\n"


def lines_as_the_server_reads_them(data: bytes) -> list[str]:
    """The input split and decoded as `goengine gtp` reads stdin (universal newlines, UTF-8
    with replacement), so that the expected replies can be counted."""
    import io
    return list(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline=None))


def test_ten_thousand_random_lines_to_a_process(tmp_path):
    """A fixed-seed fuzz of `goengine gtp` over its pipes: every line gets exactly one well
    formed reply with its id, in order, none of them an internal error, and the process is
    still there at the end to answer and quit."""
    import random
    import subprocess

    from gtp_helpers import engine_argv, engine_env

    rng = random.Random(PROCESS_SEED)
    data = random_lines(rng, PROCESS_LINES)
    lines = lines_as_the_server_reads_them(data)
    # A random line that happens to say quit would end the test early.
    commands = [parse_command(line) for line in lines]
    assert not any(c is not None and c.name == "quit" for c in commands)
    expected_ids = ["" if c.id is None else str(c.id) for c in commands if c is not None]
    data += b"name\nquit\n"
    proc = subprocess.run(engine_argv("--size", "9", "--visits", "8", "--resign-threshold", "0", "--seed", "1"),
                          input=data, capture_output=True, env=engine_env(), cwd=tmp_path, timeout=600)
    out = proc.stdout.decode("utf-8")
    replies = [r + "\n\n" for r in out.split("\n\n")[:-1]]
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert out.endswith("\n\n") and replies[-2:] == ["= goengine\n\n", "=\n\n"]
    replies = replies[:-2]
    assert len(replies) == len(expected_ids)
    malformed = [r for r in replies if not REPLY.match(r)]
    assert not malformed, malformed[:5]
    assert [REPLY.match(r).group(2) for r in replies] == expected_ids
    internal = [(line, r) for line, r in zip([l for l, c in zip(lines, commands) if c is not None], replies)
                if "internal error" in r]
    assert not internal, internal[:5]
    assert len(lines) >= PROCESS_LINES
