"""GtpClient against a small fake GTP engine (a Python script written into tmp_path) that can
answer, fail, hang, crash, flood stderr, drop or garble ids, and refuse to quit."""

from __future__ import annotations

import shlex
import sys
import textwrap
import time

import pytest

from selfplay.gtp_client import (GtpClient, GtpEngineDied, GtpError, GtpProtocolError, GtpTimeout,
                                 normalise_colour, normalise_vertex)

FAKE_ENGINE = textwrap.dedent(r'''
    import signal, sys, time

    flags = set(sys.argv[1:])
    if "--ignore-term" in flags:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    newline = "\r\n" if "--crlf" in flags else "\n"
    stones = {"black": [], "white": []}
    genmoves = ["d4", "PASS", "Resign"]

    def reply(cid, text, ok=True):
        if "--no-ids" in flags:
            cid = ""
        elif "--wrong-ids" in flags and cid:
            cid = str(int(cid) + 100)
        head = ("=" if ok else "?") + cid
        body = (head + " " + text) if text else head
        sys.stdout.write(body.replace("\n", newline) + newline + newline)
        sys.stdout.flush()

    for raw in sys.stdin:
        parts = raw.split()
        if not parts:
            continue
        cid = ""
        if parts[0].isdigit():
            cid, parts = parts[0], parts[1:]
        name, args = parts[0], parts[1:]
        if name == "name":
            reply(cid, "Fake")
        elif name == "version":
            reply(cid, "0.1")
        elif name == "protocol_version":
            reply(cid, "2")
        elif name == "list_commands":
            reply(cid, "name\nversion\nplay\ngenmove\nquit")
        elif name == "known_command":
            reply(cid, "true" if args[0] in ("name", "play") else "false")
        elif name == "boardsize":
            if 2 <= int(args[0]) <= 25:
                reply(cid, "")
            else:
                reply(cid, "unacceptable size", ok=False)
        elif name in ("clear_board", "komi"):
            reply(cid, "")
        elif name == "play":
            colour, vertex = args
            if vertex.upper() in stones["black"] + stones["white"] or vertex == "Z99":
                reply(cid, "illegal move", ok=False)
            else:
                stones[colour].append(vertex.upper())
                reply(cid, "")
        elif name == "genmove":
            reply(cid, genmoves.pop(0) if genmoves else "pass")
        elif name == "list_stones":
            reply(cid, " ".join(stones[args[0]]))
        elif name == "is_legal":
            reply(cid, "0" if args[1].upper() in stones["black"] + stones["white"] else "1")
        elif name == "all_legal":
            reply(cid, "a1 B2")
        elif name == "fixed_handicap":
            reply(cid, "G7 C3")
        elif name == "final_score":
            reply(cid, "B+3.5")
        elif name == "showboard":
            reply(cid, "\n . . \n . X ")
        elif name == "noise":
            sys.stdout.write("some chatter on stdout" + newline)
            reply(cid, "after noise")
        elif name == "sleep":
            time.sleep(float(args[0]))
            reply(cid, "slept " + args[0])
        elif name == "hang":
            time.sleep(3600)
        elif name == "stderr_flood":
            sys.stderr.write(("x" * 1023 + "\n") * int(args[0]))
            sys.stderr.flush()
            reply(cid, "flooded")
        elif name == "crash":
            sys.stderr.write("fake engine: fatal error\n")
            sys.stderr.flush()
            sys.exit(3)
        elif name == "half_reply":
            sys.stdout.write("=" + cid + " half")
            sys.stdout.flush()
            sys.exit(4)
        elif name == "quit":
            reply(cid, "")
            if "--ignore-quit" not in flags:
                sys.exit(0)
        else:
            reply(cid, "unknown command", ok=False)
    if "--ignore-quit" in flags:  # not even the end of stdin stops it
        time.sleep(3600)
''')


@pytest.fixture
def engine_path(tmp_path):
    folder = tmp_path / "fake engine"  # a space, to exercise shlex splitting
    folder.mkdir()
    path = folder / "fake_gtp.py"
    path.write_text(FAKE_ENGINE)
    return path


def fake(engine_path, *flags, **options) -> GtpClient:
    options.setdefault("timeout", 10.0)
    options.setdefault("quit_grace", 1.0)
    return GtpClient([sys.executable, "-u", str(engine_path), *flags], **options)


def test_standard_commands(engine_path):
    with fake(engine_path) as engine:
        assert engine.name() == "Fake"
        assert engine.version() == "0.1"
        assert engine.protocol_version() == "2"
        assert engine.list_commands() == ["name", "version", "play", "genmove", "quit"]
        assert engine.known_command("play") and not engine.known_command("undo")
        engine.boardsize(9)
        engine.clear_board()
        engine.komi(6.5)
        engine.play("B", "d4")
        engine.play("white", "E5")
        assert engine.list_stones("black") == ["D4"]
        assert engine.list_stones("w") == ["E5"]
        assert engine.is_legal("black", "C3") and not engine.is_legal("black", "D4")
        assert engine.all_legal("black") == ["A1", "B2"]
        assert engine.fixed_handicap(2) == ["G7", "C3"]
        assert engine.final_score() == "B+3.5"


def test_genmove_normalises_vertices(engine_path):
    with fake(engine_path) as engine:
        assert [engine.genmove("black"), engine.genmove("white"), engine.genmove("black")] == ["D4", "pass", "resign"]


def test_failure_reply_raises_and_session_continues(engine_path):
    with fake(engine_path) as engine:
        with pytest.raises(GtpError) as info:
            engine.boardsize(30)
        assert info.value.message == "unacceptable size" and info.value.command == "boardsize 30"
        with pytest.raises(GtpError, match="illegal move"):
            engine.play("black", "Z99")
        reply = engine.send("frobnicate")
        assert not reply.ok and reply.text == "unknown command"
        assert engine.name() == "Fake"


def test_multiline_replies_noise_and_crlf(engine_path):
    for flags in ((), ("--crlf",)):
        with fake(engine_path, *flags) as engine:
            assert engine.showboard() == ". . \n . X"
            assert engine.command("noise") == "after noise"
            assert "some chatter on stdout" in engine.noise
            assert engine.list_commands()[-1] == "quit"


@pytest.mark.parametrize("flags", [(), ("--no-ids",)])
def test_timeout_then_late_reply_is_discarded(engine_path, flags):
    with fake(engine_path, *flags) as engine:
        start = time.monotonic()
        with pytest.raises(GtpTimeout):
            engine.command("sleep", 0.6, timeout=0.2)
        assert time.monotonic() - start < 0.5
        # The late "slept" reply arrives while this command waits; it must not be taken for ours.
        assert engine.name() == "Fake"
        assert engine.command("sleep", 0.05) == "slept 0.05"


def test_timeout_inside_a_batch_discards_the_rest(engine_path):
    with fake(engine_path) as engine:
        with pytest.raises(GtpTimeout):
            engine.send_many(["name", "sleep 0.6", "version"], timeout=0.3)
        assert engine.protocol_version() == "2"


def test_send_many_keeps_order_and_failures(engine_path):
    with fake(engine_path) as engine:
        replies = engine.send_many(["name", "boardsize 99", "version"])
        assert [(r.ok, r.text) for r in replies] == [(True, "Fake"), (False, "unacceptable size"), (True, "0.1")]
        assert [r.id for r in replies] == sorted(r.id for r in replies)
        assert engine.send_many([]) == []


def test_engine_that_hangs_is_killed_on_close(engine_path):
    engine = fake(engine_path, quit_grace=0.3)
    with pytest.raises(GtpTimeout):
        engine.command("hang", timeout=0.2)
    start = time.monotonic()
    code = engine.close()
    assert time.monotonic() - start < 3.0
    assert code is not None and code < 0  # ended by a signal
    assert not engine.alive


def test_engine_ignoring_quit_and_sigterm_is_killed(engine_path):
    engine = fake(engine_path, "--ignore-quit", "--ignore-term", quit_grace=0.3)
    assert engine.name() == "Fake"
    start = time.monotonic()
    assert engine.close() == -9
    assert time.monotonic() - start < 3.0


def test_clean_quit(engine_path):
    engine = fake(engine_path)
    assert engine.close() == 0
    assert engine.close() == 0  # idempotent
    with pytest.raises(GtpEngineDied):
        engine.name()


def test_crash_mid_session(engine_path):
    engine = fake(engine_path)
    try:
        engine.boardsize(9)
        with pytest.raises(GtpEngineDied) as info:
            engine.command("crash")
        assert info.value.returncode == 3
        assert "fatal error" in info.value.stderr_tail
        assert not engine.alive
        with pytest.raises(GtpEngineDied):
            engine.name()
    finally:
        engine.close()


def test_death_in_the_middle_of_a_reply(engine_path):
    with fake(engine_path) as engine:
        with pytest.raises(GtpEngineDied) as info:
            engine.command("half_reply")
        assert info.value.returncode == 4


def test_stderr_flood_does_not_block(engine_path, tmp_path):
    log = tmp_path / "engine.log"
    with fake(engine_path, stderr_log=log, timeout=20) as engine:
        assert engine.command("stderr_flood", 2048) == "flooded"  # 2 MiB, far beyond a pipe buffer
        assert engine.name() == "Fake"
    assert log.stat().st_size == 2048 * 1024


def test_mismatched_reply_id_is_a_protocol_error(engine_path):
    with fake(engine_path, "--wrong-ids") as engine:
        with pytest.raises(GtpProtocolError):
            engine.name()


def test_engines_that_reject_ids(engine_path):
    with fake(engine_path, "--no-ids", use_ids=False) as engine:
        assert engine.name() == "Fake" and engine.version() == "0.1"


def test_command_line_as_a_string(engine_path):
    line = f"{shlex.quote(sys.executable)} -u {shlex.quote(str(engine_path))}"
    with GtpClient(line, timeout=10) as engine:
        assert engine.argv[-1] == str(engine_path)
        assert engine.name() == "Fake"


def test_bad_commands_and_programs(engine_path, tmp_path):
    with fake(engine_path) as engine:
        with pytest.raises(ValueError):
            engine.send("name\nversion")
        with pytest.raises(ValueError):
            engine.send("   ")
        with pytest.raises(ValueError):
            engine.play("red", "D4")
    with pytest.raises(OSError):
        GtpClient([str(tmp_path / "no-such-engine")])
    with pytest.raises(ValueError):
        GtpClient("")


def test_normalisers():
    assert normalise_colour("B") == normalise_colour("black") == "black"
    assert normalise_colour(" w ") == "white"
    assert normalise_vertex("q16") == "Q16" and normalise_vertex("Pass") == "pass"
    assert normalise_vertex("RESIGN") == "resign"
