"""Self-play: record chunks, the lockstep runner, resignation bookkeeping, worker restarts."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time

import numpy as np
import pytest

from goengine.board import BLACK, WHITE
from goengine.evaluator import RandomEvaluator, check_features
from goengine.playout import moves_before_the_end
from goengine.search import SearchConfig
from selfplay.record_replay import game_of_record
from selfplay.records import PlayedGame, RecordError, read_chunk, write_chunk
from selfplay.runner import SelfPlayConfig, SelfPlayRunner
from selfplay.workers import SelfPlayStats, _count_game, run_selfplay


def _record(size=5, moves=(0, 6, 12, 25, 25), full=(True, False, True, True, False), **kw):
    rec = PlayedGame(board_size=size, komi=0.5, rules="tromp-taylor", model_id="000003-b2c16", seed=99, **kw)
    for i, a in enumerate(moves):
        policy = None
        if full[i]:
            policy = np.zeros(size * size + 1, np.float32)
            policy[a] = 5
            policy[(a + 1) % (size * size + 1)] = 2
        rec.add_move(a, 0.1 * i - 0.2, policy)
    rec.result, rec.score = 1.0, 3.5
    rec.ownership = np.arange(size * size, dtype=np.int8) % 3
    return rec


def test_record_chunk_round_trip(tmp_path):
    games = [_record(), _record(size=7, moves=(24, 8, 49, 49), full=(False, True, True, False), handicap=2,
                                setup=[(10, BLACK), (30, BLACK)])]
    games[1].resigned, games[1].result, games[1].score = WHITE, 1.0, float("nan")
    games[1].playthrough, games[1].would_resign = True, BLACK
    path = write_chunk(tmp_path / "chunk.npz", games)
    back = read_chunk(path)
    assert len(back) == 2
    for a, b in zip(games, back):
        assert (a.board_size, a.komi, a.rules, a.model_id, a.seed, a.handicap) == \
               (b.board_size, b.komi, b.rules, b.model_id, b.seed, b.handicap)
        assert a.actions == b.actions and a.full_search == b.full_search and a.setup == b.setup
        np.testing.assert_allclose(a.root_values, b.root_values, rtol=1e-6)
        for (pa, wa), (pb, wb) in zip(a.policies, b.policies):
            np.testing.assert_array_equal(pa, pb)
            np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(a.ownership, b.ownership)
        assert (a.result, a.resigned, a.playthrough, a.would_resign) == (b.result, b.resigned, b.playthrough, b.would_resign)
    assert np.isnan(back[1].score) and back[0].score == 3.5
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed


def test_both_views_of_a_chunk_replay_the_same_games(tmp_path):
    """read_chunk (PlayedGames, replayed by game_of_record) and training.replay (flat arrays)
    read one format: the same points and colours, White first after handicap stones."""
    from training.replay import load_chunk_games

    games = [_record(size=7, moves=(24, 8, 49, 3), full=(False, True, True, False), handicap=2,
                     setup=[(10, BLACK), (30, BLACK)]), _record(size=7, moves=(0, 48, 49), full=(True,) * 3)]
    path = write_chunk(tmp_path / "chunk.npz", games)
    flat = load_chunk_games(path, 7)
    for g, record in enumerate(read_chunk(path)):
        moves = game_of_record(record).moves
        m0, m1 = flat.game_offsets[g], flat.game_offsets[g + 1]
        assert [m.loc for m in moves] == list(flat.locs[m0:m1])
        assert [m.color for m in moves] == list(flat.colors[m0:m1])
    assert flat.colors[0] == WHITE and flat.colors[4] == BLACK


def test_games_are_counted_without_decoding_their_chunks(tmp_path, monkeypatch):
    from selfplay import records

    paths = [write_chunk(tmp_path / f"{i}.npz", [_record(), _record()]) for i in range(3)]

    def decode(path):
        raise AssertionError("decoded a whole chunk to count its games")

    monkeypatch.setattr(records, "load_chunk_arrays", decode)
    assert records.count_games(paths) == 6
    np.savez(tmp_path / "old.npz", format_version=np.array(99), game_offsets=np.array([0, 3]))
    assert records.count_games([tmp_path / "old.npz"], report=lambda m: None) == 0  # quarantined


def test_corrupt_or_foreign_chunks_raise_a_clear_error(tmp_path):
    path = write_chunk(tmp_path / "good.npz", [_record()])
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordError, match="cut.npz"):
        read_chunk(tmp_path / "cut.npz")
    np.savez(tmp_path / "old.npz", format_version=np.array(99))
    with pytest.raises(RecordError, match="version 99"):
        read_chunk(tmp_path / "old.npz")


def test_lockstep_games_are_legal_and_pass_only_at_the_end():
    config = SelfPlayConfig(board_size=5, komi=0.5, parallel_games=4, pass_rule="end",
                            search=SearchConfig(num_simulations=8, leaves_per_tree=2, dirichlet_noise=True),
                            full_search_prob=0.5, cheap_simulations=4, temperature_moves=3, allow_resign=False)
    runner = SelfPlayRunner(config, RandomEvaluator(5, "agz", 1), "000000-test", seed=3)
    games = runner.play(6)
    assert len(games) == 6
    for rec in games:
        game = game_of_record(rec)  # raises on any illegal move
        assert game.is_over
        # Replay again, checking each pass was the only choice left.
        from goengine.game import GameState
        replay = GameState(5, komi=0.5, rules="tromp-taylor")
        for action in rec.actions:
            if action == 25:
                assert not moves_before_the_end(replay)[:-1].any()
            replay.play_action(action)
        assert rec.num_moves == len(rec.policies) == len(rec.root_values)
        assert sum(rec.full_search) > 0
        for (acts, weights), full in zip(rec.policies, rec.full_search):
            assert (len(acts) > 0) == full
        assert rec.result == np.sign(game.score().margin)


class _BlackDespairs:
    """Black always believes it is lost, White always that it is winning."""

    feature_set = "agz"

    def __init__(self, size):
        self.board_size = size

    def evaluate(self, features):
        size = check_features(features, self.board_size)
        black_to_play = features[:, 16, 0, 0] == 1
        values = np.where(black_to_play, -0.99, 0.99).astype(np.float32)
        return np.zeros((len(features), size * size + 1), np.float32), values


def test_resignation_and_playthrough_bookkeeping():
    config = SelfPlayConfig(board_size=5, komi=0.5, parallel_games=8, search=SearchConfig(num_simulations=4, leaves_per_tree=1),
                            resign_threshold=-0.9, resign_consecutive=2, resign_min_move=2, playthrough_fraction=0.5,
                            pass_rule="end")
    games = SelfPlayRunner(config, _BlackDespairs(5), "m", seed=5).play(16)
    resigned = [g for g in games if g.resigned]
    played_through = [g for g in games if g.playthrough]
    assert resigned and played_through
    for g in resigned:
        assert not g.playthrough and g.resigned == BLACK and g.result == -1.0 and np.isnan(g.score)
        assert g.num_moves <= 2 * 2 + 2  # black's second low value at move >= 2 ends it
    for g in played_through:
        assert g.resigned == 0 and g.would_resign == BLACK and not np.isnan(g.score)
    # The parent's statistics: a would-be resigner that wins is a false positive.
    stats = SelfPlayStats()
    for g in games:
        _count_game(stats, {"moves": g.num_moves, "result": g.result, "resigned": g.resigned,
                            "playthrough": g.playthrough, "would_resign": g.would_resign})
    black_won = sum(1 for g in played_through if g.result > 0)
    assert stats.would_resign == len(played_through)
    assert stats.false_resignations == black_won
    assert stats.false_positive_rate == pytest.approx(black_won / len(played_through))


def test_a_worker_that_dies_is_restarted_and_the_games_are_finished(tmp_path):
    # The kill comes from a watcher thread as soon as the first chunk is on disk, not from the
    # parent's progress callback: the parent may hear of the first game only after a fast worker
    # has already finished its whole share, and killing a finished worker tests nothing.
    num_games = 40
    config = SelfPlayConfig(board_size=5, komi=0.5, parallel_games=2, search=SearchConfig(num_simulations=4, leaves_per_tree=1),
                            allow_resign=False, pass_rule="end")
    records = tmp_path / "r"
    on_disk_at_kill = []
    finished = threading.Event()

    def kill_after_first_chunk():
        while not finished.is_set():
            children = mp.active_children()
            if children and any(records.glob("gen000001-*.npz")):
                for child in children:
                    os.kill(child.pid, signal.SIGKILL)
                # Counted after the kill: chunks are renamed into place whole, so this is final.
                on_disk_at_kill.append(sum(1 for _ in records.glob("gen000001-*.npz")))
                return
            time.sleep(0.001)

    watcher = threading.Thread(target=kill_after_first_chunk, daemon=True)
    watcher.start()
    try:
        stats = run_selfplay(config=config, num_games=num_games, model_path=None, model_id="uniform",
                             records_dir=records, sgf_dir=None, chunk_prefix="gen000001", seed=1, workers=1,
                             games_per_chunk=1)
    finally:
        finished.set()
        watcher.join()
    assert on_disk_at_kill and on_disk_at_kill[0] < num_games, "the worker finished before it could be killed"
    assert stats.restarts >= 1
    chunks = sorted(records.glob("gen000001-*.npz"))
    games = [g for p in chunks for g in read_chunk(p)]
    # Exactly the games asked for are on disk: the replacement plays only what was not written,
    # and a game finished but not yet written when the worker died is played again (so the
    # finished count may be higher).
    assert len(games) == num_games and stats.games >= num_games - on_disk_at_kill[0]


def test_a_restarted_selfplay_never_replays_a_game(tmp_path):
    """A restart calls run_selfplay again with the generation's seed; its workers used to start
    from attempt 0 again and so replay, move for move, the games already recorded."""
    config = SelfPlayConfig(board_size=5, komi=0.5, parallel_games=2, search=SearchConfig(num_simulations=4, leaves_per_tree=1),
                            allow_resign=False, pass_rule="end", temperature_moves=4)
    records, sgf = tmp_path / "r", tmp_path / "sgf"
    for _ in range(3):  # the first run and two restarts, each owing two more games
        run_selfplay(config=config, num_games=2, model_path=None, model_id="uniform", records_dir=records,
                     sgf_dir=sgf, chunk_prefix="gen000001", seed=1, workers=1, games_per_chunk=1, in_process=True)
    games = [g for p in sorted(records.glob("gen000001-*.npz")) for g in read_chunk(p)]
    assert len(games) == 6
    assert len({g.seed for g in games}) == 6
    assert len({tuple(g.actions) for g in games}) == 6, "a restart replayed a recorded game"
    assert len(list(sgf.glob("*.sgf"))) == 6


def test_sgf_files_of_games_never_recorded_are_removed(tmp_path):
    from selfplay.resume import prune_unrecorded_sgf

    records, sgf = tmp_path / "r", tmp_path / "sgf"
    records.mkdir()
    sgf.mkdir()
    write_chunk(records / "gen000001-1-w00a0c0000.npz", [_record()])  # seed 99
    kept = sgf / f"gen000001-w00a0-{99:019d}.sgf"
    lost = sgf / f"gen000001-w00a0-{12345:019d}.sgf"  # its worker died before the chunk
    other = sgf / f"gen000002-w00a0-{12345:019d}.sgf"  # another generation's
    for p in (kept, lost, other):
        p.write_text("(;)")
    assert prune_unrecorded_sgf(records, sgf, "gen000001") == 1
    assert kept.exists() and not lost.exists() and other.exists()


def test_the_attempt_book_survives_its_own_loss(tmp_path):
    from selfplay.resume import AttemptBook

    book = AttemptBook(tmp_path, "gen000003")
    assert [book.next(0), book.next(0), book.next(1)] == [0, 1, 0]
    book.path.write_text("{not json")
    write_chunk(tmp_path / "gen000003-5-w00a7c0000.npz", [_record()])
    assert book.next(0) == 8  # past every attempt a chunk name shows
    assert book.next(1) == 0


PARENT_SCRIPT = """
import sys
from goengine.search import SearchConfig
from selfplay.runner import SelfPlayConfig
from selfplay.workers import run_selfplay
config = SelfPlayConfig(board_size=5, komi=0.5, parallel_games=1, allow_resign=False, pass_rule="end",
                        search=SearchConfig(num_simulations=4, leaves_per_tree=1))
run_selfplay(config=config, num_games=100000, model_path=None, model_id="uniform", records_dir=sys.argv[1],
             sgf_dir=None, chunk_prefix="gen000001", seed=1, workers=1, games_per_chunk=1)
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the worker processes")
def test_workers_die_when_their_parent_is_killed_alone(tmp_path):
    """What the out-of-memory killer does: SIGKILL to the parent only. Its workers used to run
    on, writing records that the restarted loop then counted a second time."""
    import subprocess
    import sys

    from gtp_helpers import engine_env

    records = tmp_path / "r"
    parent = subprocess.Popen([sys.executable, "-c", PARENT_SCRIPT, str(records)], env=engine_env(),
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not any(records.glob("gen000001-*.npz")):  # a worker is playing
            assert parent.poll() is None and time.monotonic() < deadline, "self-play did not start"
            time.sleep(0.05)
        workers = _children(parent.pid)  # the worker (and multiprocessing's resource tracker)
        assert workers
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [pid for pid in workers if _alive(pid)]
        count = len(list(records.glob("gen000001-*.npz")))
        time.sleep(1.0)
        assert not survivors, f"processes {survivors} outlived their parent"
        assert len(list(records.glob("gen000001-*.npz"))) == count  # nobody writes any more
    finally:
        try:
            os.killpg(parent.pid, signal.SIGKILL)  # whatever is left of the session
        except ProcessLookupError:
            pass
        parent.wait()


def _tampered(tmp_path, name, **changes):
    """A chunk of one good game with some of its arrays replaced."""
    good = write_chunk(tmp_path / "good.npz", [_record(setup=[(8, BLACK)])])
    with np.load(good) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update({k: np.asarray(v, arrays[k].dtype) for k, v in changes.items()})
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("name, changes, message", [
    ("colour.npz", {"setup_colors": [7]}, "colour"),
    ("nan.npz", {"policy_weights": [np.nan, 1, 1, 1, 1, 1]}, "NaN"),
    ("negative.npz", {"policy_weights": [-1, 1, 1, 1, 1, 1]}, "negative"),
    ("offsets.npz", {"game_offsets": [0, 500]}, "offsets"),
    ("policy_offsets.npz", {"policy_offsets": [0, 2, 2, 4, 900, 6]}, "policy offsets"),
    ("action.npz", {"actions": [0, 6, 12, 26, 25]}, "off the board"),
    ("setup.npz", {"setup_locs": [999]}, "off the board"),
    ("result.npz", {"result": [7.0]}, "result"),
    ("size.npz", {"board_size": [60]}, "board size"),
])
def test_inconsistent_chunks_are_refused_before_use(tmp_path, name, changes, message):
    """Out-of-range setup colours used to be read past the end of an array, and NaN policy
    targets were accepted; every reader checks the arrays first."""
    from training.replay import load_chunk_games

    path = _tampered(tmp_path, name, **changes)
    with pytest.raises(RecordError, match=message):
        read_chunk(path)
    with pytest.raises(RecordError, match=message):
        load_chunk_games(path)


class _PoolWithAZombie:
    """A pool whose first worker is reported dead at once but plays on, unheard (an actor that
    Ray reports lost while its process still runs, a node cut off from the cluster)."""

    def __init__(self):
        import queue

        self.messages, self.unheard = queue.Queue(), queue.Queue()
        self.started, self.all_threads, self.first = {}, [], True

    def threads(self, workers):
        return 1

    def launch(self, job):
        from selfplay.workers import worker_main

        zombie, self.first = self.first, False

        def play():
            if zombie:
                time.sleep(0.5)  # it writes only after it was given up (the parent checks every 50 ms)
                worker_main(job, self.unheard)
            else:
                worker_main(job, self.messages)

        thread = threading.Thread(target=play, daemon=True)
        thread.start()
        self.started[job.worker_id] = (thread, zombie)
        self.all_threads.append(thread)

    def poll(self, wait_s):
        out = []
        while not self.messages.empty():
            out.append(self.messages.get_nowait())
        if not out:
            time.sleep(wait_s)
        return out

    def alive(self, worker_id):
        thread, zombie = self.started[worker_id]
        return thread.is_alive() and not zombie

    def stop(self, worker_id):
        return [], "reported lost"

    def stop_all(self):
        for thread in self.all_threads:
            thread.join(timeout=60)  # the zombie too: its late chunks are on disk before the end


def test_chunks_written_after_a_worker_was_given_up_do_not_count(tmp_path):
    config = SelfPlayConfig(board_size=5, komi=0.5, parallel_games=1, search=SearchConfig(num_simulations=4, leaves_per_tree=1),
                            allow_resign=False, pass_rule="end")
    pool = _PoolWithAZombie()
    records, sgf = tmp_path / "r", tmp_path / "sgf"
    stats = run_selfplay(config=config, num_games=4, model_path=None, model_id="uniform", records_dir=records,
                         sgf_dir=sgf, chunk_prefix="gen000001", seed=1, workers=1, games_per_chunk=1, pool=pool)
    assert stats.restarts == 1
    games = [g for p in sorted(records.glob("gen000001-*.npz")) for g in read_chunk(p)]
    assert len(games) == 4 and all("a1c" in p.name for p in records.glob("gen000001-*.npz"))
    late = list((records / "quarantine").glob("gen000001-*-w00a0c*.npz"))
    said = []
    while not pool.unheard.empty():
        said.append(pool.unheard.get_nowait())
    assert late, f"the zombie wrote nothing, the test tested nothing; it said {said}"
    assert len(list(sgf.glob("*.sgf"))) == 4  # only the recorded games'
