"""Matches: GNU Go games, forfeits by a fake engine that dies, hangs or cheats, lockstep games equal
to games played one at a time, SPRT stopping, SGF and ledger output, the command."""

from __future__ import annotations

import os
import sys
import textwrap
from dataclasses import replace

import pytest

from goengine.cli import main
from goengine.coords import PASS_LOC
from goengine.evaluator import RandomEvaluator
from goengine.players import Decision, Player
from goengine.sgf import read_sgf
from selfplay.ledger import read_ledger
from selfplay.match import MatchConfig, play_match
from selfplay.players_spec import gtp_player, network_player, object_player, random_player, rollout_player

GNUGO = os.environ.get("GNUGO", "/usr/games/gnugo")

FAKE_ENGINE = textwrap.dedent(r'''
    import os, sys, time
    args = sys.argv[1:]
    mode, at, marker = args[0], int(args[1]), args[2]
    first_process = not os.path.exists(marker)
    open(marker, "a").close()
    genmoves = 0
    last_played = "pass"
    for raw in sys.stdin:
        parts = raw.split()
        if not parts:
            continue
        cid = parts[0] if parts[0].isdigit() else ""
        name = parts[1] if cid else parts[0]
        ok, text = True, ""
        if name == "genmove":
            genmoves += 1
            if first_process and genmoves == at:
                if mode == "die":
                    os._exit(3)
                if mode == "hang":
                    time.sleep(60)
                if mode == "illegal":
                    text = last_played  # occupied
                if mode == "garbage":
                    text = "Z99"
            text = text or "pass"
        elif name == "play":
            last_played = parts[-1]
        elif name == "list_commands":
            text = "boardsize\nclear_board\nkomi\nplay\ngenmove\nquit"
        elif name in ("final_score", "set_random_seed"):
            ok, text = False, "unknown command"
        sys.stdout.write(("=" if ok else "?") + cid + (" " + text if text else "") + "\n\n")
        sys.stdout.flush()
        if name == "quit":
            break
''')


def _fake_engine(tmp_path, mode, at):
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE)
    return gtp_player([sys.executable, str(script), mode, str(at), str(tmp_path / "started")], name=f"fake-{mode}")


@pytest.mark.parametrize("mode,reason", [("die", "engine died"), ("hang", "timeout"), ("illegal", "illegal move"),
                                         ("garbage", "unreadable move")])
def test_a_failing_engine_forfeits_and_the_match_goes_on(tmp_path, mode, reason):
    ledger = tmp_path / "ledger.jsonl"
    config = MatchConfig(games=3, size=5, komi=0.5, visits=8, move_timeout=1.0, parallel=1,
                         sgf_dir=str(tmp_path / "sgf"))
    result = play_match(random_player(), _fake_engine(tmp_path, mode, 3), config, ledger=ledger)
    assert len(result.games) == 3
    first = result.games[0]  # the only game played by the first (failing) process
    assert first.reason.startswith("forfeit: ") and reason in first.reason
    assert first.winner_name == "random"
    assert first.result == "B+F"  # random is Black in game 0
    assert all(not g.reason.startswith("forfeit") for g in result.games[1:]), "fresh processes play on"
    assert result.forfeits == 1
    records = read_ledger(ledger).records
    assert [r["reason"] for r in records] == [g.reason for g in sorted(result.games, key=lambda g: g.index)]
    assert read_sgf(first.sgf).result == "B+F"


@pytest.mark.skipif(not os.access(GNUGO, os.X_OK), reason=f"GNU Go not found at {GNUGO} (set GNUGO to its path)")
def test_games_against_gnugo_level_0(tmp_path):
    gnugo = gtp_player(f"{GNUGO} --mode gtp --level 0 --chinese-rules --capture-all-dead", name="gnugo-l0")
    config = MatchConfig(games=2, size=9, komi=7.5, rules="chinese", visits=16, sgf_dir=str(tmp_path / "sgf"),
                         move_timeout=30.0)
    result = play_match(random_player(), gnugo, config, ledger=tmp_path / "ledger.jsonl")
    assert [g.winner_name for g in result.games] == ["gnugo-l0", "gnugo-l0"]
    assert {(g.black, g.white) for g in result.games} == {("random", "gnugo-l0"), ("gnugo-l0", "random")}
    for g in result.games:
        assert g.reason == "resign" or g.reason.startswith("score")
        if g.reason.startswith("score"):
            # GNU Go counts dead stones itself; on who won it must agree with our area count,
            # and to the point when both sides named the same dead stones.
            assert g.engine_score["gnugo-l0"][0] == g.result[0]
            if g.reason != "score after cleanup":
                assert g.engine_score["gnugo-l0"] == g.result
        assert read_sgf(g.sgf).result == g.result
    assert result.wins == 0 and result.losses == 2
    records = read_ledger(tmp_path / "ledger.jsonl").records
    assert len(records) == 2 and all(r["winner"] == "gnugo-l0" for r in records)
    assert {"time", "black", "white", "result", "winner", "score", "size", "komi", "rules", "visits",
            "reason", "sgf"} <= set(records[0])


def _moves_by_game(result):
    return {g.index: (g.move_locs, g.result, g.reason) for g in result.games}


@pytest.mark.parametrize("players", ["networks", "rollout"])
def test_lockstep_games_equal_games_played_one_at_a_time(players):
    if players == "networks":
        a = network_player(RandomEvaluator(7, seed=1), "net-1")
        b = network_player(RandomEvaluator(7, seed=2), "net-2")
    else:
        a, b = rollout_player(), random_player()
    # Deterministic players repeat a game whenever an opening repeats: start every pair differently.
    base = MatchConfig(games=5, size=7, komi=7.5, visits=24, seed=3, opening_moves=(2, 3))
    together = play_match(a, b, replace(base, parallel=5))
    alone = play_match(a, b, replace(base, parallel=1))
    assert _moves_by_game(together) == _moves_by_game(alone)
    # Different seeds give different games: the comparison above is not vacuous.
    other = play_match(a, b, replace(base, seed=4))
    assert _moves_by_game(other) != _moves_by_game(alone)
    assert len({g.move_locs for g in alone.games}) == 5


class _Passer(Player):
    name = "passer"

    def decide(self, game, slot=0):
        return Decision(PASS_LOC)


def test_sprt_stops_the_match_once_decided(tmp_path):
    config = MatchConfig(games=200, size=5, komi=0.5, visits=16, sprt=(0.0, 100.0), parallel=4)
    result = play_match(rollout_player(), object_player(_Passer()), config, ledger=tmp_path / "l.jsonl")
    # Every game is a win; each adds log(s1/s0) = 0.247 to the LLR, so H1 after 12 games.
    assert result.sprt_decision == "H1"
    assert len(result.games) == 12 and result.wins == 12
    assert len(read_ledger(tmp_path / "l.jsonl").records) == 12
    assert "H1 accepted" in result.table()


def test_match_command(tmp_path, capsys):
    ledger = tmp_path / "ledger.jsonl"
    code = main(["match", "random", "rollout-mcts", "--games", "2", "--size", "5", "--komi", "0.5",
                 "--visits", "32", "--ledger", str(ledger), "--sgf-dir", str(tmp_path / "sgf"), "--openings", "1",
                 "--verbose"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("game ") >= 2 and "Elo random - rollout-mcts" in out
    assert len(read_ledger(ledger).records) == 2
    assert len(list((tmp_path / "sgf").glob("*.sgf"))) == 2
    assert main(["match", "random", "no/such/model", "--games", "1"]) == 2


def test_match_command_dead_stones_as_is(tmp_path):
    # The rollout search passes once it has won, leaving the random player's dead stones on the
    # board: with agreement (the default) they come off in some of these games; as-is, never.
    reasons = {}
    for mode in ("agree", "as-is"):
        ledger = tmp_path / f"{mode}.jsonl"
        code = main(["match", "rollout-mcts", "random", "--visits", "64", "--games", "4", "--size", "7",
                     "--komi", "0.5", "--ledger", str(ledger), "--dead-stones", mode])
        assert code == 0
        reasons[mode] = [(r["reason"], r["dead_stones"]) for r in read_ledger(ledger).records]
    assert len(reasons["as-is"]) == 4 and all(r == ("score", 0) for r in reasons["as-is"])
    assert any(reason != "score" for reason, _ in reasons["agree"])
    with pytest.raises(SystemExit):
        main(["match", "random", "random", "--dead-stones", "maybe"])


def test_sgf_openings_start_each_pair_of_games(tmp_path):
    from goengine.coords import loc_of_vertex
    from goengine.game import GameState
    from goengine.sgf import write_sgf
    folder = tmp_path / "openings"
    folder.mkdir()
    openings = [["C3", "G7"], ["E5", "D4", "F6"]]
    for i, vertices in enumerate(openings):
        game = GameState(9, komi=7.5, rules="chinese")
        for v in vertices:
            game.play(loc_of_vertex(v, 9))
        write_sgf(game, folder / f"{i}.sgf")
    config = MatchConfig(games=4, size=9, visits=8, opening_sgf_dir=str(folder), max_moves=12, parallel=2)
    result = play_match(rollout_player(), random_player(), config)
    for g in result.games:
        expected = [loc_of_vertex(v, 9) for v in openings[g.index // 2]]
        assert list(g.move_locs[:len(expected)]) == expected
        assert g.reason == "move limit" and g.moves == 12


def test_the_table_says_how_many_games_were_distinct():
    """Two deterministic players with no opening moves play the same game in every pair of
    colours: the match must say so rather than count four games where it played two."""
    a = network_player(RandomEvaluator(7, seed=1), "net-1")
    b = network_player(RandomEvaluator(7, seed=2), "net-2")
    result = play_match(a, b, MatchConfig(games=4, size=7, visits=8, opening_moves=(0, 0), parallel=4))
    assert result.distinct_games == 2
    assert "distinct games: 2 of 4 (2 repeat an earlier game" in result.table()
    varied = play_match(a, b, MatchConfig(games=4, size=7, visits=8, opening_moves=(2, 2), parallel=4))
    assert varied.distinct_games == 4 and "distinct games: 4 of 4\n" in varied.table() + "\n"


def test_the_header_names_the_match_visits_only_when_a_search_player_used_them():
    """Players with their own budget (random here; GTP engines, `name@N`) did not search at the
    match's visits, so the header must not say they did."""
    config = MatchConfig(games=2, size=7, visits=8, opening_moves=(0, 0), parallel=2)
    searched = play_match(network_player(RandomEvaluator(7, seed=1), "net"), random_player(), config)
    assert searched.table().splitlines()[0].endswith("komi 7.5, 8 visits)")
    unsearched = play_match(random_player("random-1"), random_player("random-2"), config)
    header = unsearched.table().splitlines()[0]
    assert header.endswith("komi 7.5)") and "visits" not in header
