"""`goengine gtp --model`: a small untrained network with ownership and score heads, saved as a
checkpoint and loaded by the engine, plays moves and feeds kata-analyze's scoreLead and
ownership; a corrupt checkpoint is reported instead of crashing the engine."""

from __future__ import annotations

import re

import pytest

torch = pytest.importorskip("torch")

from goengine.gtp import Engine, EngineOptions  # noqa: E402
from goengine.nn import NetConfig, build_network, save_checkpoint  # noqa: E402

from gtp_helpers import engine_argv, engine_env  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    config = NetConfig(kind="policy_value", blocks=1, channels=8, head_channels=4, value_hidden=8,
                       ownership=True, score=True, board_sizes=(9,))
    stem = tmp_path_factory.mktemp("model") / "000001-b1c8"
    save_checkpoint(stem, build_network(config), config)
    return str(stem)


def test_network_engine_plays_and_reports_score_and_ownership(checkpoint):
    engine = Engine(EngineOptions(model=checkpoint, size=9, visits=24, threads=1))
    engine.wait_ready()
    assert engine.evaluator is not None
    assert engine.evaluator.symmetry == "random"  # each leaf in a random orientation, as match plays
    assert engine.handle_line("play b E5") == "=\n\n"
    move = engine.handle_line("genmove w")
    assert re.fullmatch(r"= ([A-HJ][1-9]|pass|resign)\n\n", move)
    reply = engine.handle_line("kata-analyze b 10 ownership true")
    line = next(l for l in reply.split("\n") if l.startswith("info"))
    moves, ownership = line.split(" ownership ")
    assert len(ownership.split()) == 81
    for entry in moves.split("info move ")[1:]:
        assert re.search(r" scoreMean -?\d+\.\d+ (scoreStdev [\d.]+ )?scoreLead -?\d+\.\d+ prior ", entry), entry
    assert re.fullmatch(r"= (B\+|W\+)[\d.]+\n\n|= 0\n\n", engine.handle_line("final_score"))
    # A network trained on 9x9 is refused on 7x7, the game unchanged...
    assert engine.handle_line("boardsize 7").startswith("? unacceptable size: the network was trained on 9x9")
    assert engine.game.size == 9
    # ...unless the user asks for it (the net is fully convolutional).
    anywhere = Engine(EngineOptions(model=checkpoint, size=9, visits=8, threads=1, any_size=True))
    assert anywhere.handle_line("boardsize 7") == "=\n\n"
    assert anywhere.handle_line("genmove b").startswith("= ")


def test_corrupt_checkpoint_is_an_error_reply_not_a_crash(checkpoint, tmp_path):
    bad = tmp_path / "bad"
    (tmp_path / "bad.json").write_text(open(checkpoint + ".json").read())
    (tmp_path / "bad.safetensors").write_bytes(b"not weights")
    engine = Engine(EngineOptions(model=str(bad), size=9))
    assert engine.handle_line("name") == "= goengine\n\n"
    assert engine.handle_line("genmove b").startswith("? engine failed to start: CheckpointError")
    assert engine.handle_line("play b E5") == "=\n\n"


def test_process_with_a_model(checkpoint):
    from selfplay.gtp_client import GtpClient

    with GtpClient(engine_argv("--model", checkpoint, "--size", "9", "--visits", "16", "--threads", "1"),
                   env=engine_env(), timeout=180) as engine:
        assert engine.name() == "goengine"
        assert engine.genmove("black") not in ("",)


def _start(*args: str, stdin: str = "name\nquit\n"):
    import subprocess

    return subprocess.run(engine_argv(*args), input=stdin, capture_output=True, text=True, env=engine_env(),
                          timeout=180)


def test_a_broken_model_fails_the_start_before_any_reply(checkpoint, tmp_path):
    (tmp_path / "bad.json").write_text(open(checkpoint + ".json").read())
    (tmp_path / "bad.safetensors").write_bytes(b"not weights")
    done = _start("--model", str(tmp_path / "bad"))
    assert done.returncode == 2
    assert done.stdout == ""  # not even `name` is answered: a tool's `check` sees the failure
    assert "cannot use --model" in done.stderr and "corrupt" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_model_of_another_size_is_refused_unless_asked_for(checkpoint):
    done = _start("--model", checkpoint, "--size", "19")
    assert done.returncode == 2 and done.stdout == ""
    assert "trained on 9x9, not 19x19" in done.stderr and "--any-size" in done.stderr
    # Without --size the engine starts on the network's own size.
    done = _start("--model", checkpoint, stdin="name\nshowboard\nquit\n")
    assert done.returncode == 0 and "A B C D E F G H J" in done.stdout and " 9 " in done.stdout
    done = _start("--model", checkpoint, "--size", "13", "--any-size")
    assert done.returncode == 0 and done.stdout.startswith("= goengine")
