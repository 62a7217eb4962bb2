"""Every subcommand answers bad input with one line on stderr and a non-zero exit, never a
traceback: missing paths, bad sizes, wrong models, unknown flags (with the subcommand's own
usage); and `goengine --version`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gtp_helpers import engine_env


def goengine(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "goengine.cli", *args], input=stdin, capture_output=True,
                          text=True, env=engine_env(), timeout=300)


@pytest.fixture(scope="module")
def model_5x5(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from goengine.nn import NetConfig, build_network, save_checkpoint

    torch.manual_seed(0)
    config = NetConfig(kind="policy_value", blocks=1, channels=8, head_channels=4, value_hidden=8, board_sizes=(5,))
    stem = tmp_path_factory.mktemp("model") / "000001-b1c8"
    save_checkpoint(stem, build_network(config), config)
    return str(stem)


CASES = [
    ("demo", "--size", "30"),
    ("match", "gtp:/nonexistent/engine", "random", "--games", "1", "--size", "9"),
    ("match", "/nonexistent/model", "random", "--games", "1", "--size", "9"),
    ("eval-policy", "--model", "/nonexistent/model", "--data", "/nonexistent/data"),
    ("eval-policy", "--model", "bundled:nosuch", "--data", "/nonexistent/data"),
    ("train-sl", "--data", "/nonexistent/data", "--run-dir", "/tmp/goengine-test-never-made", "--steps", "1"),
    ("gtp", "--size", "30"),
    ("gtp", "--model", "/nonexistent/model"),
    ("analysis", "--model", "/nonexistent/model"),
    ("analysis", "--visits", "0"),
    ("ratings", "/nonexistent/ledger.jsonl"),
    ("train", "--preset", "nosuch", "--run-dir", "/tmp/goengine-test-never-made"),
    ("train", "--preset", "5x5-smoke", "--run-dir", "/tmp/goengine-test-never-made", "--set", "bogus.key=1"),
    ("train-rollout", "--data", "/nonexistent/data", "--out", "/tmp/goengine-test-never-made/r"),
    ("train-rl", "--sl-model", "/nonexistent/model", "--run-dir", "/tmp/goengine-test-never-made"),
    ("train-value", "--rl-model", "/nonexistent/model", "--run-dir", "/tmp/goengine-test-never-made"),
    ("bundle-network", "--model", "/nonexistent/model", "--name", "x", "--out", "/tmp/goengine-test-never-made"),
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_bad_input_is_one_line_and_a_failure(args):
    done = goengine(*args)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip() and " INFO " not in line]
    assert "Traceback" not in done.stderr
    assert len(lines) == 1 and lines[0].startswith(f"goengine {args[0]}"), done.stderr
    assert not os.path.exists("/tmp/goengine-test-never-made")  # nothing is written for a failed start


def test_a_model_of_another_size_is_a_message(model_5x5):
    done = goengine("match", model_5x5, "random", "--size", "9", "--games", "1")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "5x5" in done.stderr and "9x9" in done.stderr


@pytest.mark.parametrize("command", ["gtp", "analysis", "demo", "match random random"])
def test_a_bad_flag_shows_the_subcommands_usage(command):
    done = goengine(*command.split(), "--bogus")
    command = command.split()[0]
    assert done.returncode == 2
    assert f"usage: goengine {command}" in done.stderr and "unrecognized arguments: --bogus" in done.stderr


def test_version():
    done = goengine("--version")
    assert done.returncode == 0 and done.stdout.startswith("goengine ")


@pytest.mark.parametrize("command", ["gtp", "analysis", "match", "demo", "train", "train-sl", "eval-policy",
                                     "train-rollout", "train-rl", "train-value", "bundle-network", "ratings"])
def test_every_flag_has_help(command):
    import importlib
    import argparse

    from goengine.cli import SUBCOMMANDS

    parser = argparse.ArgumentParser()
    importlib.import_module(SUBCOMMANDS[command][0]).add_arguments(parser)
    missing = [a.dest for a in parser._actions if a.help in (None, "") and a.dest != "help"]
    assert not missing, missing
    assert not [a.dest for a in parser._actions if a.help and "see above" in a.help]
