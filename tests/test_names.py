"""One word per concept: every command spells a flag one way (old spellings still accepted,
hidden from --help), with the same default; renamed preset keys still load; move limits come
from one place."""

from __future__ import annotations

import argparse
import importlib
import json

import pytest

from goengine.cli import SUBCOMMANDS
from goengine.coords import DEFAULT_SIZE
from goengine.game import GameState, move_limit


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    importlib.import_module(SUBCOMMANDS[command][0]).add_arguments(parser)
    return parser


def _flags(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: a for a in parser._actions for flag in a.option_strings}


@pytest.mark.parametrize("command, old, new, value", [
    ("train-sl", "--board-size", "--size", "9"), ("train-sl", "--batch", "--batch-size", "32"),
    ("eval-policy", "--board-size", "--size", "9"), ("eval-policy", "--batch", "--batch-size", "32"),
])
def test_old_flag_spellings_still_work_but_are_not_shown(command, old, new, value):
    parser = _parser(command)
    required = {"train-sl": ["--data", "d", "--run-dir", "r"], "eval-policy": ["--model", "m", "--data", "d"]}[command]
    assert parser.parse_args(required + [old, value]) == parser.parse_args(required + [new, value])
    shown = {f for a in parser._actions if a.help != argparse.SUPPRESS for f in a.option_strings}
    assert old not in shown and new in shown


RETIRED = ("--board-size", "--batch", "--simulations", "--num-simulations", "--batch_size")


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_one_spelling_and_one_default_per_flag(command):
    flags = _flags(_parser(command))
    shown = {f for f, a in flags.items() if a.help != argparse.SUPPRESS}
    assert not shown & set(RETIRED), shown & set(RETIRED)
    size = flags.get("--size")
    if size is not None:
        # None where a network's own size comes first (gtp, match), DEFAULT_SIZE elsewhere.
        assert size.default in (None, DEFAULT_SIZE), (command, size.default)


def test_a_match_plays_on_the_networks_size_else_the_default(tmp_path):
    from selfplay.players_spec import board_size_of, parse_player

    (tmp_path / "net.json").write_text(json.dumps({"config": {"board_sizes": [9]}}))
    (tmp_path / "net.safetensors").write_bytes(b"")
    assert board_size_of([parse_player("random"), parse_player(str(tmp_path / "net"))]) == 9
    assert board_size_of([parse_player("random"), parse_player("rollout-mcts")]) == DEFAULT_SIZE


def test_renamed_preset_keys_still_load():
    from training.config import RunConfig, load_preset

    old = RunConfig.from_dict({"selfplay": {"c_puct": 2.0, "simulations": 12, "cheap_simulations": 3},
                               "gating": {"simulations": 5}})
    assert (old.selfplay.c_init, old.selfplay.visits, old.selfplay.cheap_visits, old.gating.visits) == (2.0, 12, 3, 5)
    assert old.override(["selfplay.c_puct=1.5"]).selfplay.c_init == 1.5
    assert "c_puct" not in load_preset("9x9-quick").to_toml()


def test_move_limits_come_from_one_place():
    from selfplay.match import MatchConfig
    from selfplay.runner import SelfPlayConfig
    from training.rl.games import LockstepGames
    from goengine.gtp import Engine, EngineOptions

    assert GameState(9).max_moves == SelfPlayConfig(board_size=9).move_limit == move_limit(9) == 162
    assert LockstepGames(9, 1).max_moves == move_limit(9)
    assert MatchConfig(size=9).move_limit == move_limit(9, "match")
    assert Engine(EngineOptions(size=9)).game.max_moves == move_limit(9, "gtp")
