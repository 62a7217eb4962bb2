"""Time control: the per-move budget (against an independent referee clock, for many settings),
genmove under byo-yomi (never past the period) and a 9x9 game on absolute time (never out)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goengine.evaluator import RandomEvaluator
from goengine.gtp import Clock, Engine, EngineOptions, TimePolicy, TimeSettings
from goengine.gtp.timecontrol import gtp_time_settings
from selfplay.gtp_client import GtpClient

from gtp_helpers import engine_argv, engine_env, find_gnugo, gnugo_argv, play_game

POLICY = TimePolicy()


class Referee:
    """The controller's clock, written from the rules of each time system."""

    def __init__(self, s: TimeSettings):
        self.s = s
        self.main = s.main_time
        self.byo = s.has_byoyomi and s.main_time <= 0
        self.period = s.period_time
        self.count = s.period_stones if s.kind == "canadian" else s.periods
        self.lost = False

    def spend(self, seconds: float) -> None:
        if not self.byo:
            if seconds <= self.main:
                self.main -= seconds
                return
            if not self.s.has_byoyomi:
                self.lost = True
                return
            seconds -= self.main
            self.main, self.byo = 0.0, True
            self.period = self.s.period_time
            self.count = self.s.period_stones if self.s.kind == "canadian" else self.s.periods
        if self.s.kind == "canadian":
            if seconds > self.period:
                self.lost = True
            self.period -= seconds
            self.count -= 1
            if self.count == 0:
                self.period, self.count = self.s.period_time, self.s.period_stones
        else:
            while seconds > self.s.period_time and not self.lost:
                seconds -= self.s.period_time
                self.count -= 1
                self.lost = self.count <= 0

    def clock(self) -> Clock:
        """What the controller tells the engine with time_left."""
        clock = Clock(main_left=self.main, in_byoyomi=self.byo, period_left=self.period if self.byo else 0.0,
                      stones_left=self.count if self.byo else 0)
        return clock


time_systems = st.one_of(
    # Absolute time per point of the board (it is multiplied by N^2 below), from 5 s on 9x9.
    st.builds(lambda m: TimeSettings("absolute", m), st.floats(1.0 / 16.0, 40.0)),
    # Canadian: at least a second a stone.
    st.builds(lambda m, p, n: TimeSettings("canadian", m, max(p, float(n)), n, 1), st.floats(0.0, 3600.0),
              st.floats(2.0, 600.0), st.integers(1, 25)),
    st.builds(lambda m, p, n: TimeSettings("byoyomi", m, p, 1, n), st.floats(0.0, 3600.0), st.floats(2.0, 120.0),
              st.integers(1, 5)),
)


@settings(max_examples=300, deadline=None)
@given(s=time_systems, size=st.sampled_from([9, 13, 19]), overhead=st.floats(0.0, 1.0),
       overshoot=st.floats(0.0, 0.05), told=st.booleans())
def test_budget_never_loses_on_time(s, size, overhead, overshoot, told):
    """The engine overshoots its budget by up to 5% plus a fixed cost per move (up to
    `min_move_seconds` / 2, or up to `lag` in byo-yomi, where a move may take it) in a game of
    2 N^2 moves, told the clock by time_left (`told`) or keeping its own; the referee never
    flags it. (Absolute time starts at N^2 / 16 seconds: no policy saves a shorter clock from a
    fixed cost per move.)"""
    if s.kind == "absolute":
        s = TimeSettings("absolute", s.main_time * size * size)
    referee = Referee(s)
    own = Clock.start(s)
    for move_number in range(0, 2 * size * size, 2):
        clock = referee.clock() if told else own
        budget = POLICY.budget(s, clock, size, move_number)
        assert budget is not None and budget >= 0
        fixed = POLICY.lag if clock.in_byoyomi else POLICY.min_move_seconds / 2
        used = budget * (1.0 + overshoot) + overhead * fixed
        referee.spend(used)
        own.charge(s, used)
        assert not referee.lost, f"lost on time at move {move_number}: budget {budget}, clock {clock}"


def test_budget_spends_main_time_then_most_of_each_period():
    absolute = TimeSettings("absolute", 300.0)
    opening = POLICY.budget(absolute, Clock.start(absolute), 19, 0)
    assert 300.0 / 400 < opening < 300.0 / 50  # spread over the expected game, not all at once
    late = POLICY.budget(absolute, Clock(main_left=10.0), 19, 300)
    assert late < 10.0 / 5
    byo = TimeSettings("canadian", 0.0, 10.0, 1, 1)
    assert 0.7 * 10.0 - POLICY.lag <= POLICY.budget(byo, Clock.start(byo), 9, 0) < 10.0
    canadian = TimeSettings("canadian", 0.0, 300.0, 25, 1)
    assert POLICY.budget(canadian, Clock(in_byoyomi=True, period_left=30.0, stones_left=10), 19, 200) < 3.0
    assert POLICY.budget(TimeSettings(), Clock(), 19, 0) is None


def test_gtp_time_settings_meanings():
    assert gtp_time_settings(0, 0, 0).kind == "none"
    assert gtp_time_settings(10, 5, 0).kind == "none"  # byo-yomi time without stones: no limit
    assert gtp_time_settings(60, 0, 0) == TimeSettings("absolute", 60)
    assert gtp_time_settings(0, 10, 1) == TimeSettings("canadian", 0, 10, 1, 1)


class SlowEvaluator(RandomEvaluator):
    """A network that takes 20 ms a batch, so that the clock, not the tree, bounds a search."""

    def __init__(self):
        super().__init__(None, "agz", seed=1)

    def evaluate(self, features_bchw: np.ndarray):
        time.sleep(0.02)
        return super().evaluate(features_bchw)


def test_genmove_uses_most_of_a_short_byoyomi_period_and_never_more():
    engine = Engine(EngineOptions(model="slow", size=9, resign_threshold=0.0),
                    evaluator_loader=lambda options: SlowEvaluator())
    engine.wait_ready()
    assert engine.handle_line("time_settings 0 2 1") == "=\n\n"
    for colour in ("b", "w"):
        started = time.monotonic()
        reply = engine.handle_line(f"genmove {colour}")
        spent = time.monotonic() - started
        assert reply.startswith("= ")
        assert 0.6 < spent < 2.0, f"genmove took {spent:.2f} s of a 2 s period"


@pytest.mark.slow
def test_genmoves_use_most_of_a_ten_second_byoyomi_period_and_never_more():
    engine = Engine(EngineOptions(model="slow", size=19, resign_threshold=0.0),
                    evaluator_loader=lambda options: SlowEvaluator())
    engine.wait_ready()
    assert engine.handle_line("time_settings 0 10 1") == "=\n\n"
    for colour in ("b", "w", "b"):
        started = time.monotonic()
        assert engine.handle_line(f"genmove {colour}").startswith("= ")
        spent = time.monotonic() - started
        assert 6.0 < spent < 10.0, f"genmove took {spent:.2f} s of a 10 s period"


def test_genmove_within_a_ten_second_byoyomi_period():
    with GtpClient(engine_argv("--size", "19"), env=engine_env(), timeout=120) as engine:
        engine.command("final_score")  # waits for the warm-up, outside the timed moves
        engine.command("time_settings", 0, 10, 1)
        started = time.monotonic()
        move = engine.genmove("black", timeout=30)
        assert time.monotonic() - started < 10.0
        assert move not in ("resign",)


def test_nine_by_nine_game_on_five_seconds_absolute():
    gnugo = find_gnugo()
    ours = GtpClient(engine_argv("--size", "9", "--resign-threshold", "0"), env=engine_env(), timeout=120)
    other = GtpClient(gnugo_argv(gnugo) if gnugo else engine_argv("--size", "9", "--seed", "7"),
                      env=None if gnugo else engine_env(), timeout=120)
    with ours, other:
        for engine in (ours, other):
            engine.command("final_score") if engine is ours else engine.name()
        outcome = play_game(ours, other, size=9, max_moves=300, clocks={"black": 5.0})
    assert outcome.resigned is None
    assert len(outcome.moves) >= 20
    assert outcome.seconds["black"] < 5.0, f"used {outcome.seconds['black']:.2f} s of 5"


@pytest.mark.parametrize("command", ["time_settings 1e308 0 0", "time_settings 0 1e308 1",
                                     "kgs-time_settings absolute 1e308",
                                     "kgs-time_settings byoyomi 0 1e308 99999999999999999999999",
                                     "kgs-time_settings canadian 1e308 1e308 99999999999999999999999"])
def test_huge_clocks_are_clamped_and_genmove_still_plays(command):
    """A clock of 1e308 seconds once made every later genmove fail (int() of an infinite
    number of simulations); such values mean "no practical limit" and are clamped."""
    from goengine.gtp.timecontrol import MAX_COUNT, MAX_SECONDS

    engine = Engine(EngineOptions(size=9, visits=16, ownership_playouts=8, tree_edges=200_000, resign_threshold=0))
    assert engine.handle_line(command) == "=\n\n"
    assert engine.time_settings.main_time <= MAX_SECONDS and engine.time_settings.period_time <= MAX_SECONDS
    assert engine.time_settings.period_stones <= MAX_COUNT and engine.time_settings.periods <= MAX_COUNT
    for colour in ("b", "w", "b"):  # the first search measures the speed, the later ones use it
        assert engine.handle_line(f"genmove {colour}").startswith("= ")
    assert engine.handle_line("time_left b 1e308 0") == "=\n\n"
    assert engine.clocks[1].main_left <= MAX_SECONDS
    assert engine.handle_line("genmove b").startswith("= ")
