"""Progress that reads right: a bar on a terminal, a plain line every half minute (and one at
the end) in a log; self-play counts positions with the games done beside them, a match shows
its running score instead of a line per game, and train-sl names its fields in words."""

from __future__ import annotations

import io
import re

from goengine.progress import Progress

from test_sl import tiny_9x9  # noqa: F401  (a fixture)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_plain_line_every_period_and_one_at_the_end():
    out, clock = io.StringIO(), FakeClock()
    bar = Progress(total=400, desc="gen 3 self-play", unit="pos", every=30.0, stream=out, clock=clock)
    bar.set_fields("games 0/8")
    for _ in range(10):
        clock.now += 2.0
        bar.update(10)
    assert out.getvalue() == ""  # 20 s: not yet
    clock.now += 11.0
    bar.set_fields("games 2/8")
    bar.update(20)
    lines = out.getvalue().splitlines()
    assert lines == ["gen 3 self-play: 120/400 pos (30%), 3.87 pos/s, games 2/8, 31s, ~1m12s left"]
    clock.now += 5.0
    bar.update(10)
    assert len(out.getvalue().splitlines()) == 1  # 5 s after the last line
    bar.close()
    assert out.getvalue().splitlines()[-1].startswith("gen 3 self-play: 130/400 pos (32%)")
    assert "\r" not in out.getvalue()


def test_a_resumed_job_counts_its_rate_from_this_session():
    out, clock = io.StringIO(), FakeClock()
    bar = Progress(total=1000, desc="train-sl b6c64", unit="step", initial=600, every=60.0, stream=out, clock=clock)
    clock.now += 100.0
    bar.update(100)
    assert out.getvalue().startswith("train-sl b6c64: 700/1000 step (70%), 1.00 step/s, 1m40s, ~5m00s left")


def test_a_terminal_gets_a_bar_and_no_plain_lines():
    out, clock = Terminal(), FakeClock()
    bar = Progress(total=10, desc="a vs b", unit="game", stream=out, clock=clock, every=0.0, leave=True)
    bar.set_fields("a 1-0-0, Elo +inf")
    bar.update(1)
    bar.close()
    text = out.getvalue()
    assert "\r" in text and "a vs b" in text and "a 1-0-0" in text
    assert "a vs b: 1/10 game (10%)" not in text  # the plain line's form


def test_disabled_progress_writes_nothing_but_messages():
    out = io.StringIO()
    bar = Progress(total=10, desc="x", unit="game", enabled=False, stream=out, every=0.0)
    bar.update(5)
    bar.close()
    assert out.getvalue() == ""
    bar.write("a message")
    assert out.getvalue() == "a message\n"


def test_match_shows_the_running_score_not_a_line_per_game(capsys):
    from goengine.cli import main

    argv = ["match", "random", "rollout-mcts", "--games", "2", "--size", "5", "--komi", "0.5", "--visits", "16",
            "--no-ledger", "--openings", "1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "game    1/2" not in captured.out and "Elo random - rollout-mcts" in captured.out
    final = captured.err.strip().splitlines()[-1]
    assert final.startswith("random vs rollout-mcts: 2/2 game (100%)")
    assert re.search(r"random \d-\d-\d, Elo [-+]\S+ \[", final), final
    assert main(argv + ["--verbose"]) == 0
    assert capsys.readouterr().out.count("game ") >= 2


def test_the_selfplay_bar_moves_with_positions_before_any_game_ends(tmp_path, monkeypatch, capsys):
    """Four games in lockstep, 20 moves each, finishing together at the end: the bar counts
    their positions as they are played, not the games."""
    import selfplay.workers
    import training.loop
    from selfplay.workers import SelfPlayStats
    from test_loop import tiny_config

    seen = []

    class Recording(Progress):
        def update(self, n=1):
            super().update(n)
            seen.append((self.n, self.total, self._fields))

        def close(self):
            seen.append((self.n, self.total, self._fields))
            super().close()

    def fake_run_selfplay(*, num_games, progress, on_moves, **kwargs):
        stats = SelfPlayStats()
        for _ in range(20):
            stats.moves_played += num_games
            on_moves(stats)
        for _ in range(num_games):
            stats.games += 1
            stats.positions += 20
            progress(stats)
        return stats

    monkeypatch.setattr(selfplay.workers, "run_selfplay", fake_run_selfplay)
    monkeypatch.setattr(training.loop, "Progress", Recording)
    loop = training.loop.TrainingLoop(tmp_path, tiny_config(), workers=1, progress=True, in_process_selfplay=True,
                                      log=lambda line: None)
    loop._selfplay(1, "000000-b2c16")
    before_any_game = [row for row in seen if row[2].startswith("games 0/")]
    assert before_any_game[-1][0] == 80 and before_any_game[-1][0] / before_any_game[-1][1] > 0.9
    assert seen[-1] == (80, 80, "games 4/4")
    final = capsys.readouterr().err.strip().splitlines()[-1]
    assert final.startswith("gen 1 self-play: 80/80 pos (100%)") and "pos/s, games 4/4" in final
    assert "games/s" not in final  # one rate, not two



def test_train_sl_names_its_fields(tiny_9x9, tmp_path, capsys):
    from test_sl import tiny_config
    from training.sl.trainer import SLRun

    _, paths, _ = tiny_9x9
    run = SLRun(tmp_path / "run", tiny_config(steps=20, log_every=5), paths, None, log=lambda m: None)
    run.train()
    final = [line for line in capsys.readouterr().err.splitlines() if line.startswith("train-sl b3c48: ")][-1]
    assert final.startswith("train-sl b3c48: 20/20 step (100%)")
    assert re.search(r"loss \d\.\d+, top-1 \d+\.\d%, \d+ samples/s, lr [\d.]+, waiting for data \d+%, "
                     r"trained \d+ min", final), final
