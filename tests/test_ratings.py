"""Bradley-Terry ratings: recovery of the ratings that generated synthetic results, anchoring,
players cut off from the anchor, the plot and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from goengine.cli import main
from selfplay.match_stats import score_of_elo
from selfplay.ratings import fit_ratings, parse_anchor, plot_ratings, results_from_ledger

TRUE = {"random": 0.0, "000001-b2c16": 150.0, "000002-b2c16": 320.0, "gnugo": 500.0, "000003-b2c16": 560.0}


def _round_robin(ratings: dict[str, float], games_per_pair: int, rng: np.random.Generator, draw_rate=0.0):
    names = sorted(ratings)
    results = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            s = score_of_elo(ratings[a] - ratings[b])
            p_draw = draw_rate * 2 * min(s, 1 - s)  # keeps every probability non-negative
            p_win = s - p_draw / 2
            outcomes = rng.choice([1.0, 0.5, 0.0], size=games_per_pair, p=[p_win, p_draw, 1 - p_win - p_draw])
            results.extend((a, b, float(x)) for x in outcomes)
    return results


def test_recovers_the_generating_ratings_within_their_intervals():
    rng = np.random.default_rng(7)
    table = fit_ratings(_round_robin(TRUE, 300, rng, draw_rate=0.1), anchor="random")
    assert table.get("random").rating == 0.0
    z = []
    for name, true in TRUE.items():
        if name == "random":
            continue
        r = table.get(name)
        assert 0 < r.ci95 < 60, "300 games a pair should pin each rating to within a few dozen Elo"
        z.append((r.rating - true) / (r.ci95 / 1.96))
    # Each z is standard normal if the fit and its intervals are right.
    assert max(abs(v) for v in z) < 3.0
    order = [r.name for r in table.ratings]
    assert order == sorted(TRUE, key=lambda n: -TRUE[n])


def test_interval_coverage_over_repeated_experiments():
    rng = np.random.default_rng(11)
    truth = {"a": 0.0, "b": 80.0, "c": 200.0}
    inside = 0
    trials = 200
    for _ in range(trials):
        table = fit_ratings(_round_robin(truth, 60, rng), anchor="a", prior_draws=0.0)
        inside += abs(table.get("c").rating - 200.0) <= table.get("c").ci95
    assert 0.88 <= inside / trials <= 0.99  # nominal 95%


def test_anchor_shift_and_unconnected_players():
    rng = np.random.default_rng(3)
    results = _round_robin({"x": 0.0, "y": 100.0}, 50, rng)
    results += [("p", "q", 1.0), ("q", "p", 0.0), ("p", "p", 1.0)]
    table = fit_ratings(results, anchor="x", anchor_elo=1000.0)
    assert table.get("x").rating == 1000.0
    assert table.get("y").rating > 1000.0
    assert set(table.unconnected) == {"p", "q"}
    assert table.get("p").rating is None
    assert table.skipped == 1
    assert "not connected" in table.format()
    shifted = fit_ratings(results, anchor="y", anchor_elo=0.0)
    assert shifted.get("x").rating == pytest.approx(1000.0 - table.get("y").rating, abs=1e-6)


def test_a_player_who_won_everything_gets_a_finite_rating():
    table = fit_ratings([("strong", "weak", 1.0)] * 20, anchor="weak")
    r = table.get("strong")
    # With one virtual draw, 20.5 of 21 points: 400 log10(20.5 / 0.5).
    assert r.rating == pytest.approx(400 * np.log10(20.5 / 0.5), rel=1e-6)
    assert np.isfinite(r.ci95)


def test_ledger_records_become_results():
    records = [{"black": "a", "white": "b", "winner": "a", "visits": 100},
               {"black": "a", "white": "b", "winner": None, "visits": 100},
               {"black": "b", "white": "a", "winner": "a", "visits": 200}]
    assert results_from_ledger(records) == [("a", "b", 1.0), ("a", "b", 0.5), ("b", "a", 0.0)]
    assert results_from_ledger(records, visits=200) == [("b", "a", 0.0)]
    assert parse_anchor("gnugo level 10=0") == ("gnugo level 10", 0.0)
    with pytest.raises(ValueError):
        parse_anchor("gnugo")


def test_plot_and_command(tmp_path, capsys):
    rng = np.random.default_rng(5)
    ledger = tmp_path / "ledger.jsonl"
    with open(ledger, "w") as f:
        for a, b, pts in _round_robin(TRUE, 20, rng):
            winner = a if pts == 1.0 else b
            f.write(json.dumps({"black": a, "white": b, "winner": winner, "visits": 100}) + "\n")
        f.write('{"black": "random", "white": "gn')  # a crash mid-line
    png = tmp_path / "elo.png"
    assert main(["ratings", str(ledger), "--anchor", "gnugo=1500", "--plot", str(png)]) == 0
    out = capsys.readouterr()
    assert "gnugo" in out.out and "anchor" in out.out
    assert "skipped 1 malformed" in out.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = fit_ratings(_round_robin(TRUE, 20, np.random.default_rng(5)), anchor="gnugo", anchor_elo=1500)
    assert plot_ratings(table, tmp_path / "again.png").stat().st_size > 1000


def test_the_readme_ratings_example_reads_what_goengine_match_writes(tmp_path, monkeypatch, capsys):
    """The README rated `runs/quick/ledger.jsonl` (the gating games, none with `random`) while
    `goengine match` wrote the run's `matches.jsonl`: the example failed with "anchor 'random'
    played no game". Now a run has one ledger, which gating writes too. Here a run dir made by
    a trainer in the working directory plays a README-style match started from another
    directory (best.json's path once held the trainer's relative path, so `../runs/quick:best`
    "held no checkpoint"), then the README's line is run."""
    import shlex
    from pathlib import Path

    from goengine.nn import NetConfig, build_network, save_checkpoint
    from training.rundir import RunDir

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    line = next(l.strip() for l in readme.splitlines() if l.strip().startswith("goengine ratings runs/quick/"))
    monkeypatch.chdir(tmp_path)
    config = NetConfig.from_tag("b1c8", kind="policy_value", in_planes=18, board_sizes=(5,), head_channels=4,
                                value_hidden=8)
    run = RunDir("runs/quick")
    save_checkpoint(run.model_stem("000001-b1c8"), build_network(config), config, model_id="000001-b1c8")
    run.write_best("000001-b1c8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["match", "../runs/quick:best", "random", "--games", "2", "--size", "5", "--visits", "4",
                 "--openings", "0"]) == 0, capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    written = Path(capsys.readouterr().out.split("ledger: ")[-1].strip())
    assert written.resolve() == run.ledger.resolve()  # the ledger gating writes too
    assert main(shlex.split(line)[1:]) == 0, capsys.readouterr().err
    assert "random" in capsys.readouterr().out


def test_a_game_recorded_twice_is_rated_once(tmp_path, capsys):
    """19 ledger records for 12 real games were all rated: a game is its (match, game) pair."""
    ledger = tmp_path / "ledger.jsonl"
    games = [{"match": "gate000003-x", "game": i, "black": "a" if i % 2 == 0 else "b",
              "white": "b" if i % 2 == 0 else "a", "winner": "a", "visits": 8} for i in range(4)]
    ledger.write_text("".join(json.dumps(r) + "\n" for r in games + games[:3]))
    from selfplay.ratings import rate_ledgers

    table, skipped, repeated = rate_ledgers([ledger], anchor="b")
    assert (table.games, skipped, repeated) == (4, 0, 3)
    assert main(["ratings", str(ledger), "--anchor", "b=0"]) == 0
    assert "counted once: 3 ledger record(s)" in capsys.readouterr().err
