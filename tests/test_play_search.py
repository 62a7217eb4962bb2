"""How genmove searches and chooses: by LCB with a network (most visits with rollouts), the tree
kept from move to move (the opponent's reply included), an early stop once the budget left
cannot change the move, and more time than planned, within the clock, for an unclear choice."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goengine.coords import action_of_loc, loc_of_action, loc_of_vertex, vertex_of_loc
from goengine.evaluator import RandomEvaluator
from goengine.gtp import Clock, Engine, EngineOptions, TimePolicy, TimeSettings
from goengine.gtp.thinking import SearchSettings, Searcher
from goengine.search import SearchResult
from goengine.search.stopping import StopRule

from test_gtp_time import Referee, time_systems
from test_search_tactics import CAPTURE


def network_engine(**options) -> Engine:
    defaults = dict(model="random", size=9, visits=200, resign_threshold=0, opening_temperature=0,
                    ownership_playouts=16, tree_edges=400_000)
    defaults.update(options)
    engine = Engine(EngineOptions(**defaults), evaluator_loader=lambda o: RandomEvaluator(None, "agz", seed=5))
    engine.wait_ready()
    return engine


def rollout_engine(**options) -> Engine:
    defaults = dict(size=9, visits=2000, resign_threshold=0, opening_temperature=0, ownership_playouts=16,
                    tree_edges=400_000)
    defaults.update(options)
    engine = Engine(EngineOptions(**defaults))
    engine.wait_ready()
    return engine


def _disagreeing_result(size: int = 9) -> tuple[SearchResult, int, int]:
    """A root where the most visited move (C3) has a worse lower bound than a well-visited
    second (E5)."""
    actions = size * size + 1
    by_visits, by_lcb = action_of_loc(loc_of_vertex("C3", size), size), action_of_loc(loc_of_vertex("E5", size), size)
    visits = np.zeros(actions, np.int64)
    q = np.full(actions, np.nan)
    q_var = np.zeros(actions)
    visits[by_visits], q[by_visits], q_var[by_visits] = 300, 0.05, 0.04
    visits[by_lcb], q[by_lcb], q_var[by_lcb] = 200, 0.40, 0.04
    prior = np.full(actions, 1.0 / actions, np.float32)
    return SearchResult(visits, q, prior, q_var, 0.2, [by_visits], 500), by_visits, by_lcb


def test_genmove_with_a_network_plays_the_best_lower_bound_and_rollouts_the_most_visits():
    result, by_visits, by_lcb = _disagreeing_result()
    net = network_engine()
    assert net.searcher().config.use_lcb
    assert action_of_loc(net.searcher().player.after_search(0, net.game, result).loc, 9) == by_lcb
    rollouts = rollout_engine()
    assert not rollouts.searcher().config.use_lcb
    assert action_of_loc(rollouts.searcher().player.after_search(0, rollouts.game, result).loc, 9) == by_visits


def _kept_after(engine: Engine, first: str, reply_colour: str) -> tuple[int, int]:
    """Play genmove `first`, then the opponent's most visited reply; return the visits the
    tree held below that reply and the visits the next search found kept."""
    move = engine.handle_line(f"genmove {first}")[2:].strip()
    searcher = engine.searcher()
    action = action_of_loc(loc_of_vertex(move, 9), 9)
    pv = searcher.child_pv(action, max_len=2, min_visits=1)
    assert len(pv) == 2, "the search looked at no reply"
    expected = searcher.pv_visits(pv)[1]
    reply = vertex_of_loc(loc_of_action(pv[1], 9), 9)
    assert engine.handle_line(f"play {reply_colour} {reply}") == "=\n\n"
    engine.handle_line(f"genmove {first}")
    return expected, searcher.last.reused


@pytest.mark.parametrize("make", [network_engine, rollout_engine], ids=["network", "rollouts"])
def test_the_tree_is_kept_across_the_opponents_reply(make):
    engine = make()
    engine.handle_line("play b E5")
    expected, kept = _kept_after(engine, "w", "b")
    assert expected > 0 and kept == expected
    # An unexpected setup (the same colour twice) starts afresh.
    engine.handle_line("genmove w")
    engine.handle_line("genmove w")
    assert engine.searcher().last.reused == 0


def test_a_forced_move_stops_the_search_early_with_the_same_answer():
    game = CAPTURE.game()
    budget = CAPTURE.simulations
    full = Searcher(7, None, SearchSettings(visits=budget, seed=3)).search(game, visits=budget)
    searcher = Searcher(7, None, SearchSettings(visits=budget, seed=3))
    early = searcher.search(game, visits=budget, stop_rule=StopRule())
    answer = action_of_loc(loc_of_vertex(CAPTURE.answer, 7), 7)
    assert int(np.argmax(full.visit_counts)) == int(np.argmax(early.visit_counts)) == answer
    assert searcher.last.stop == "settled"
    assert early.num_simulations < 0.7 * budget, early.num_simulations
    # Without a rule the whole budget is spent.
    assert full.num_simulations >= budget


class _Always(StopRule):
    def unclear(self, result) -> bool:
        return True


class _Never(StopRule):
    def unclear(self, result) -> bool:
        return False


def test_an_unclear_choice_thinks_past_its_deadline_up_to_the_hard_one():
    game = CAPTURE.game()
    searcher = Searcher(7, None, SearchSettings(seed=1))
    searcher.search(game, visits=200)  # measures the speed
    searcher.reset()
    start = time.monotonic()
    searcher.search(game, deadline=start + 0.3, hard_deadline=start + 0.6, stop_rule=_Always(early_stop=False))
    assert searcher.last.stop == "extended" and 0.55 < searcher.last.seconds < 1.2
    searcher.reset()
    start = time.monotonic()
    searcher.search(game, deadline=start + 0.3, hard_deadline=start + 0.6, stop_rule=_Never(early_stop=False))
    assert searcher.last.stop == "deadline" and 0.25 < searcher.last.seconds < 0.55


def test_unclear_means_close_visits_or_a_better_lower_bound():
    result, _, _ = _disagreeing_result()
    assert StopRule(use_lcb=True).unclear(result)
    clear = SearchResult(result.visit_counts * np.where(np.arange(82) == 20, 3, 1), result.q, result.prior,
                         result.q_var, 0.2, [], 700)
    top = int(np.argmax(clear.visit_counts))
    q = clear.q.copy()
    q[top] = 0.9
    clear = SearchResult(clear.visit_counts, q, clear.prior, clear.q_var, 0.2, [], 700)
    assert not StopRule(use_lcb=True).unclear(clear)
    assert StopRule().settled(clear, remaining=clear.visit_counts[top] - 201 - 1)
    assert not StopRule().settled(clear, remaining=clear.visit_counts[top])


def test_most_is_between_the_budget_and_one_and_a_half_times_it():
    policy = TimePolicy()
    absolute = TimeSettings("absolute", 300.0)
    clock = Clock.start(absolute)
    planned, most = policy.budget(absolute, clock, 9, 10), policy.most(absolute, clock, 9, 10)
    assert most == pytest.approx(1.5 * planned)
    byo = TimeSettings("byoyomi", 0.0, 10.0, 1, 3)
    clock = Clock.start(byo)
    planned, most = policy.budget(byo, clock, 9, 10), policy.most(byo, clock, 9, 10)
    assert planned < most <= 10.0 - policy.lag
    assert policy.most(TimeSettings(), Clock(), 9, 0) is None


@settings(max_examples=300, deadline=None)
@given(s=time_systems, size=st.sampled_from([9, 13, 19]), overhead=st.floats(0.0, 1.0),
       unclear=st.lists(st.booleans(), min_size=1, max_size=7), told=st.booleans())
def test_thinking_to_the_most_on_unclear_moves_never_loses_on_time(s, size, overhead, unclear, told):
    """As test_budget_never_loses_on_time, with some moves (cycling through `unclear`) taking
    the longest time the policy allows instead of the budget."""
    policy = TimePolicy()
    if s.kind == "absolute":
        s = TimeSettings("absolute", s.main_time * size * size)
    referee = Referee(s)
    own = Clock.start(s)
    for i, move_number in enumerate(range(0, 2 * size * size, 2)):
        clock = referee.clock() if told else own
        budget, most = policy.budget(s, clock, size, move_number), policy.most(s, clock, size, move_number)
        assert budget <= most <= policy.extend_factor * budget + 1e-9
        fixed = policy.lag if clock.in_byoyomi else policy.min_move_seconds / 2
        used = (most if unclear[i % len(unclear)] else budget) + overhead * fixed
        referee.spend(used)
        own.charge(s, used)
        assert not referee.lost, f"lost on time at move {move_number}: most {most}, clock {clock}"


def test_genmove_under_a_clock_stops_early_on_a_forced_move():
    """The capture problem under byo-yomi: the search stops once the capture cannot be
    overtaken, long before its planned time."""
    engine = rollout_engine(size=7, visits=None, tree_edges=2_000_000)
    game = CAPTURE.game()
    engine.set_game(game)
    engine.game.komi = CAPTURE.komi
    assert engine.handle_line("time_settings 0 4 1") == "=\n\n"
    started = time.monotonic()
    assert engine.handle_line("genmove b") == f"= {CAPTURE.answer}\n\n"
    spent = time.monotonic() - started
    planned = TimePolicy().budget(engine.time_settings, Clock.start(engine.time_settings), 7, 0)
    assert engine.searcher().last.stop == "settled" and spent < 0.6 * planned, (spent, planned)


def test_a_few_visits_that_happen_to_agree_do_not_outrank_the_favourite():
    """A flat value (a network whose value barely moves) gives a 3-visit move a tiny empirical
    spread; its bound must still be the wider one, so the 28-visit favourite is played."""
    from goengine.search.choice import lcb_action
    size = 19
    actions = size * size + 1
    favourite, stray = 100, 200
    visits = np.zeros(actions, np.int64)
    q = np.full(actions, np.nan)
    q_var = np.full(actions, np.nan)
    visits[favourite], q[favourite], q_var[favourite] = 28, -0.017, 1e-4
    visits[stray], q[stray], q_var[stray] = 3, -0.007, 1e-5
    prior = np.full(actions, 1.0 / actions, np.float32)
    result = SearchResult(visits, q, prior, q_var, -0.01, [favourite], 31)
    assert lcb_action(result, 0.1) == favourite
    # With many visits the prior spread fades and a clearly better mean wins as before.
    visits[stray], q[stray] = 25, 0.2
    assert lcb_action(SearchResult(visits, q, prior, q_var, -0.01, [stray], 53), 0.1) == stray
