"""Supervised policy pipeline: game filters and their counts, shards that rebuild exactly the
features of the replayed games, a resumable sample stream, accuracy arithmetic, and a trainer
that overfits a few games and resumes to the same weights."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from goengine.nn import load_checkpoint  # isort: skip  (before torch)
import torch

from goengine.board import COLOR, INFO, KO_LOC
from goengine.coords import PASS_LOC, loc_of, loc_of_action
from goengine.features import encode_game, get_feature_set
from goengine.game import GameState
from goengine.handicap import fixed_handicap_locs
from goengine.sgf import ILLEGAL_MOVE, PARSE_ERROR, read_sgf, replay, write_sgf
from goengine.sgf_archive import WRONG_SIZE
from goengine.symmetry import apply_features, apply_policy
from training.sl.accuracy import AccuracyCounter
from training.sl.build import MANIFEST, ShardSpec, ensure_shards, read_games
from training.sl.filters import HANDICAP, LOW_RANK, RANK_UNKNOWN, TOO_SHORT, UNKNOWN_RANK, GameFilter, rank_value
from training.sl.samples import ShardStream, encode_positions
from training.sl.shards import (colors_of, iter_shard_samples, load_shard, load_shards, position_board,
                                position_history)
from training.sl.trainer import SLConfig, SLRun


# Black takes a ko at move 9 (row 7, col 7 captures the white stone at row 7, col 6).
KO_OPENING = ((6, 6), (6, 7), (7, 5), (7, 6), (8, 6), (8, 7), (15, 15), (7, 8), (7, 7))


def random_game(size: int, moves: int, seed: int, region: int = 0, handicap: int = 0,
                opening=()) -> GameState:
    """The opening's points, then random legal moves, confined to the top-left region x region
    corner when region > 0 so that captures are frequent; a pass now and then."""
    rng = np.random.default_rng(seed)
    game = GameState(size, rules="chinese")
    if handicap:
        game.place_handicap(fixed_handicap_locs(size, handicap))
    for row, col in opening:
        game.play(loc_of(row, col, size))
    span = region or size
    while game.move_number < moves:
        mask = game.legal_mask()
        legal = [loc_of(r, c, size) for r in range(span) for c in range(span) if mask[r * size + c]]
        if not legal or rng.random() < 0.03:
            game.play(PASS_LOC)
        else:
            game.play(int(rng.choice(legal)))
    return game


def write_game(folder, name: str, game: GameState, black_rank="7d", white_rank="6d", result="B+R") -> None:
    props = {}
    if black_rank:
        props["BR"] = black_rank
    if white_rank:
        props["WR"] = white_rank
    write_sgf(game, folder / name, result=result, **props)


@pytest.fixture(scope="module")
def games_19(tmp_path_factory):
    """Three kept 19x19 games (one full of corner fights) and one of every skip reason."""
    folder = tmp_path_factory.mktemp("sgf19")
    write_game(folder, "a-kept.sgf", random_game(19, 90, seed=1, region=5, opening=KO_OPENING))
    write_game(folder, "b-kept.sgf", random_game(19, 60, seed=2))
    write_game(folder, "c-kept.sgf", random_game(19, 70, seed=3, region=6), "9d", "1p")
    write_game(folder, "d-handicap.sgf", random_game(19, 60, seed=4, handicap=3))
    write_game(folder, "e-lowrank.sgf", random_game(19, 60, seed=5), "5d", "7d")
    write_game(folder, "f-norank.sgf", random_game(19, 60, seed=6), "7d", None)
    write_game(folder, "g-short.sgf", random_game(19, 20, seed=7))
    write_game(folder, "h-9x9.sgf", random_game(9, 60, seed=8))
    (folder / "i-broken.sgf").write_bytes(b"(;GM[1]SZ[19];B[dd];W[pp")
    moves = "".join(f";{'BW'[i % 2]}[{'abcdefghijklmnopqrs'[i % 19]}{'abcdefghijklmnopqrs'[i // 19]}]" for i in range(60))
    (folder / "j-illegal.sgf").write_text(f"(;GM[1]SZ[19]BR[7d]WR[7d]{moves};B[aa])")
    (folder / "notes.txt").write_text("not a game")
    return folder


EXPECTED_SKIPS = {HANDICAP: 1, LOW_RANK: 1, UNKNOWN_RANK: 1, TOO_SHORT: 1, WRONG_SIZE: 1, PARSE_ERROR: 1,
                  ILLEGAL_MOVE: 1}


def test_rank_values_order_kyu_dan_pro():
    assert rank_value("30k") < rank_value("1k") < rank_value("1d") < rank_value("6d") < rank_value("9d") < rank_value("1p")
    assert rank_value("6d?") == rank_value("6d") == rank_value("6 dan") == rank_value("6D*")
    for unreadable in (None, "", "?", "-", "0d", "40k", "dan"):
        assert rank_value(unreadable) == RANK_UNKNOWN
    with pytest.raises(ValueError):
        GameFilter(min_rank="strong")


def test_filters_count_every_game_once(games_19):
    shard, counts = read_games([games_19], GameFilter(), workers=1, log=lambda m: None)
    assert sorted(n.rsplit("/", 1)[-1] for n in shard.game_names) == ["a-kept.sgf", "b-kept.sgf", "c-kept.sgf"]
    assert counts["games_kept"] == 3
    skipped = dict(counts["skipped"])
    assert skipped.pop("not an .sgf file") == 1
    assert skipped == EXPECTED_SKIPS
    assert counts["positions"] == 90 + 60 + 70 == shard.num_positions
    assert counts["passes"] == int(np.count_nonzero(shard.move == 361)) > 0

    relaxed, counts = read_games([games_19], GameFilter(min_rank=None, min_moves=10, allow_handicap=True),
                                 workers=1, log=lambda m: None)
    assert relaxed.num_games == 7  # all but the 9x9, broken and illegal games
    assert HANDICAP not in counts["skipped"]


def test_archive_and_worker_count_give_the_same_shards(games_19, tmp_path):
    archive = tmp_path / "games.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(games_19, arcname="games")
    spec = ShardSpec(GameFilter(), shuffle=True, seed=3, shard_positions=100)
    one = ensure_shards([archive], tmp_path / "one", spec, workers=1, log=lambda m: None)
    two = ensure_shards([archive], tmp_path / "two", spec, workers=2, log=lambda m: None)
    assert one["counts"]["skipped"] == two["counts"]["skipped"]
    assert [e["positions"] for e in one["shards"]] == [e["positions"] for e in two["shards"]]
    assert len(one["shards"]) == 2  # cut after the game reaching 100 positions
    a, b = load_shards(tmp_path / "one"), load_shards(tmp_path / "two")
    for field in a._fields:
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


def test_manifest_makes_building_idempotent(games_19, tmp_path):
    messages = []
    spec = ShardSpec(GameFilter(), shard_positions=100)
    first = ensure_shards([games_19], tmp_path, spec, log=messages.append)
    mtimes = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.npz")}
    again = ensure_shards([games_19], tmp_path, spec, log=messages.append)
    assert again == first and "up to date" in messages[-1]
    assert mtimes == {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.npz")}

    (tmp_path / first["shards"][0]["file"]).unlink()  # a lost shard: rebuilt
    ensure_shards([games_19], tmp_path, spec, log=messages.append)
    assert "building" in messages[-1]
    other = ensure_shards([games_19], tmp_path, ShardSpec(GameFilter(min_moves=65), shard_positions=100),
                          log=messages.append)  # other settings: rebuilt, stale shards removed
    assert "building" in messages[-1] and other["key"] != first["key"]
    assert other["counts"]["games_kept"] == 2
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == sorted(e["file"] for e in other["shards"])
    assert json.loads((tmp_path / MANIFEST).read_text())["key"] == other["key"]


@pytest.mark.parametrize("feature_set", ["alphago", "agz"])
def test_shard_features_equal_the_replayed_game(games_19, tmp_path, feature_set):
    flt = GameFilter(allow_handicap=True)
    ensure_shards([games_19], tmp_path, ShardSpec(flt, shard_positions=120), log=lambda m: None)
    shard = load_shards(tmp_path)
    fs = get_feature_set(feature_set)
    assert shard.num_games == 4 and np.count_nonzero(shard.ko == 7 * 19 + 6) >= 1  # the ko, and a handicap game
    for g in range(shard.num_games):
        record = read_sgf(shard.game_names[g].rsplit(":", 1)[-1])
        start = replay(record, max_moves=0)
        moves = record.moves
        expected = encode_game(fs, start.board, [m.loc for m in moves], [m.color for m in moves])
        first, end = shard.game_offsets[g], shard.game_offsets[g + 1]
        features, targets = encode_positions(shard, np.arange(first, end), fs)
        assert np.array_equal(features, expected)
        assert [loc_of_action(int(a), 19) if a != 361 else PASS_LOC for a in targets] == [m.loc for m in moves]
        assert shard.game_handicap[g] == record.handicap


def test_position_readers_match_the_game(games_19, tmp_path):
    ensure_shards([games_19], tmp_path, ShardSpec(GameFilter(), shard_positions=10_000), log=lambda m: None)
    samples = list(iter_shard_samples(tmp_path))
    shard = samples[0].shard
    assert len(samples) == shard.num_positions
    by_game: dict[str, list] = {}
    for s in samples:
        by_game.setdefault(s.game_name, []).append(s)
    for name, game_samples in by_game.items():
        record = read_sgf(name)
        game = replay(record, max_moves=0)
        for s, move in zip(game_samples, record.moves):
            board = s.board()
            assert np.array_equal(board[COLOR], game.board[COLOR])
            assert board[INFO, KO_LOC] == game.board[INFO, KO_LOC]
            assert s.to_play == move.color and s.winner == 1 and s.komi == record.komi
            n = 19
            assert np.array_equal(s.colors.reshape(-1), game.board[COLOR].reshape(n + 2, n + 2)[1:-1, 1:-1].reshape(-1))
            color_hist, hist_len, move_hist, moves_len = s.history()
            assert hist_len == min(len(game.color_history), 8)
            for j in range(hist_len):
                assert np.array_equal(color_hist[j], game.color_history[j])
            assert list(move_hist[:moves_len]) == game.recent_moves[:moves_len]
            assert s.recent_moves == [int(a) for a in shard.move[s.index - moves_len:s.index][::-1]]
            game.play(move.loc, move.color)
    assert np.array_equal(colors_of(shard, 0), samples[0].colors)
    assert position_history(shard, 0)[1] == 1 and position_board(shard, 0)[INFO, KO_LOC] == 0


def test_symmetries_move_features_and_target_together(games_19, tmp_path):
    ensure_shards([games_19], tmp_path, ShardSpec(GameFilter()), log=lambda m: None)
    shard = load_shards(tmp_path)
    indices = np.arange(40, 48)
    plain, plain_targets = encode_positions(shard, indices, "alphago")
    turned, turned_targets = encode_positions(shard, indices, "alphago", np.arange(8))
    for i in range(8):
        assert np.array_equal(turned[i], apply_features(plain[i], i))
        one_hot = np.zeros(362)
        one_hot[plain_targets[i]] = 1
        assert apply_policy(one_hot, i, 19)[turned_targets[i]] == 1


def test_stream_resumes_at_its_cursor_and_covers_each_epoch(games_19, tmp_path):
    ensure_shards([games_19], tmp_path, ShardSpec(GameFilter(), shard_positions=50), log=lambda m: None)
    paths = sorted(tmp_path.glob("*.npz"))
    total = sum(load_shard(p).num_positions for p in paths)
    assert len(paths) == 3
    stream = ShardStream(paths, "agz", batch_size=1, shards_in_memory=2, symmetries=False)
    drawn = sorted((int(b.move_number[0]), int(b.targets[0])) for b in (next(stream) for _ in range(total)))
    shard = load_shards(paths)
    assert drawn == sorted(zip(shard.move_number.tolist(), shard.move.tolist()))  # each position once
    assert stream.cursor[0] == 0
    next(stream)
    assert stream.cursor[0] == 1

    stream = ShardStream(paths, "alphago", batch_size=16, seed=5, shards_in_memory=2)
    batches = [next(stream) for _ in range(20)]  # crosses groups and an epoch
    resumed = ShardStream(paths, "alphago", batch_size=16, seed=5, shards_in_memory=2, cursor=(0, 0, 3))
    for expected in batches[3:]:
        got = next(resumed)
        assert np.array_equal(got.features, expected.features) and np.array_equal(got.targets, expected.targets)


def test_accuracy_on_hand_made_predictions():
    counter = AccuracyCounter(10)  # a 3x3 board: actions 0..8, pass 9
    logits = np.array([
        [9, 1, 2, 3, 4, 5, 6, 7, 8, 0],  # target 0: the best
        [9, 1, 2, 3, 4, 5, 6, 7, 8, 0],  # target 7: third best (top-5, not top-1)
        [9, 1, 2, 3, 4, 5, 6, 7, 8, 0],  # target 2: seventh best
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 5],  # target pass: the best
    ], np.float32)
    counter.add(logits, np.array([0, 7, 2, 9]), np.array([0, 30, 149, 150]))
    report = counter.report()
    assert (report["positions"], report["top1"], report["top5"]) == (4, 0.5, 0.75)
    buckets = report["by_move_number"]
    assert (buckets["1-30"]["positions"], buckets["1-30"]["top1"]) == (1, 1.0)
    assert (buckets["31-150"]["positions"], buckets["31-150"]["top1"], buckets["31-150"]["top5"]) == (2, 0.0, 0.5)
    assert (buckets["151+"]["positions"], buckets["151+"]["top1"]) == (1, 1.0)
    assert (report["passes"]["positions"], report["passes"]["top1"]) == (1, 1.0)
    row0 = np.exp(logits[0].astype(np.float64))
    row3 = np.exp(logits[3].astype(np.float64))
    expected_nll = -np.mean([np.log(row0[0] / row0.sum()), np.log(row0[7] / row0.sum()),
                             np.log(row0[2] / row0.sum()), np.log(row3[9] / row3.sum())])
    assert report["nll"] == pytest.approx(expected_nll)
    with pytest.raises(ValueError):
        counter.add(logits[:, :9], np.array([0, 1, 2, 3]), np.zeros(4))


@pytest.fixture(scope="module")
def tiny_9x9(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sgf9")
    for i in range(3):
        write_game(folder, f"g{i}.sgf", random_game(9, 40, seed=10 + i))
    shards = tmp_path_factory.mktemp("shards9")
    flt = GameFilter(board_size=9, min_moves=10)
    ensure_shards([folder], shards, ShardSpec(flt, shard_positions=60), log=lambda m: None)
    return folder, sorted(shards.glob("*.npz")), flt


def tiny_config(**changes) -> SLConfig:
    base = dict(feature_set="agz", tag="b3c48", board_size=9, head_channels=16, batch_size=32, optimizer="adamw",
                learning_rate=0.01, weight_decay=0.0, warmup_steps=10, steps=300, checkpoint_minutes=1e6,
                eval_games=0, final_eval_games=0, device="cpu", threads=1, shards_in_memory=2,
                symmetries=False, precision="fp32")
    base.update(changes)
    return SLConfig(**base)


def test_trainer_overfits_a_few_games_and_eval_policy_agrees(tiny_9x9, tmp_path, capsys):
    folder, paths, flt = tiny_9x9
    heldout = load_shards(paths)  # the training games themselves: this measures memorising
    run = SLRun(tmp_path / "run", tiny_config(steps=200), paths, heldout, log=lambda m: None, progress_bar=False)
    report = run.train()
    assert report["positions"] == 120 and report["top1"] >= 0.95

    from goengine.cli import main
    assert main(["eval-policy", "--model", run.last_checkpoint, "--data", str(folder), "--board-size", "9",
                 "--min-moves", "10", "--device", "cpu", "--threads", "1", "--workers", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["positions"] == 120 and printed["top1"] == pytest.approx(report["top1"])
    assert printed["passes"]["positions"] == int(np.count_nonzero(heldout.move == 81))
    assert printed["data_counts"]["games_kept"] == 3


class _StopAfter:
    """Wraps a stream and raises KeyboardInterrupt before batch `limit`, like a Ctrl-C."""

    def __init__(self, stream, limit):
        self.stream, self.limit, self.count = stream, limit, 0

    def __next__(self):
        if self.count == self.limit:
            raise KeyboardInterrupt
        self.count += 1
        return next(self.stream)

    @property
    def cursor(self):
        return self.stream.cursor


def test_an_interrupted_run_resumes_to_the_same_weights(tiny_9x9, tmp_path):
    _, paths, _ = tiny_9x9
    config = tiny_config(steps=40, optimizer="sgd", learning_rate=0.05)
    straight = SLRun(tmp_path / "straight", config, paths, None, log=lambda m: None, progress_bar=False)
    straight.train()

    broken = SLRun(tmp_path / "broken", config, paths, None, log=lambda m: None, progress_bar=False)
    broken.stream = _StopAfter(broken.stream, 17)
    with pytest.raises(KeyboardInterrupt):
        broken.train()
    messages = []
    resumed = SLRun(tmp_path / "broken", config, paths, None, log=messages.append, progress_bar=False)
    assert resumed.step == 17 and "resuming" in messages[0]
    resumed.train()
    assert resumed.step == 40
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    model, net_config, meta = load_checkpoint(resumed.last_checkpoint)
    assert meta["step"] == 40 and net_config.tag == "b3c48"

    with pytest.raises(ValueError, match="other settings"):
        SLRun(tmp_path / "broken", tiny_config(steps=40, tag="b4c48"), paths, None, log=lambda m: None)


def tiny_policy_value_checkpoint(path, seed: int):
    """A 1-block 9x9 policy-value net with `seed`'s random weights, saved at `path`: (model, config)."""
    from goengine.nn import NetConfig, build_network, save_checkpoint

    config = NetConfig(kind="policy_value", blocks=1, channels=8, head_channels=8, value_hidden=8, in_planes=18,
                       feature_set="agz", board_sizes=(9,))
    torch.manual_seed(seed)
    model = build_network(config).eval()
    save_checkpoint(path, model, config)
    return model, config


def game_positions_9x9(folder):
    """(agz features uint8[M, 18, 9, 9], played actions int[M]) of each game in `folder`."""
    for path in sorted(folder.glob("*.sgf")):
        moves = read_sgf(path).moves
        features = encode_game("agz", replay(read_sgf(path), max_moves=0).board, [m.loc for m in moves],
                               [m.color for m in moves])
        yield features, np.array([81 if m.loc == PASS_LOC else (m.loc // 11 - 1) * 9 + m.loc % 11 - 1
                                  for m in moves])


def policy_logits(model, features: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(features)).float()).policy_logits.numpy()


def test_eval_policy_scores_a_policy_value_net_like_a_direct_count(tiny_9x9, tmp_path, capsys):
    from goengine.cli import main

    folder, _, _ = tiny_9x9
    model, _ = tiny_policy_value_checkpoint(tmp_path / "pv", seed=1)
    top1 = top5 = total = 0
    for features, targets in game_positions_9x9(folder):
        order = np.argsort(-policy_logits(model, features), axis=1)
        top1 += int(np.sum(order[:, 0] == targets))
        top5 += int(np.sum((order[:, :5] == targets[:, None]).any(axis=1)))
        total += len(targets)
    assert main(["eval-policy", "--model", str(tmp_path / "pv"), "--data", str(folder), "--board-size", "9",
                 "--min-moves", "10", "--device", "cpu", "--threads", "1", "--workers", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["network"] == "PolicyValueNet" and report["positions"] == total == 120
    assert report["top1"] == pytest.approx(top1 / total) and report["top5"] == pytest.approx(top5 / total)


@pytest.fixture(scope="module")
def outcomes_9x9(tmp_path_factory):
    """Four 9x9 games: black wins two, white one, and one whose komi of 0.5 teaches no value."""
    folder = tmp_path_factory.mktemp("sgf9v")
    for i, (result, komi) in enumerate([("B+R", 7.5), ("W+3.5", 6.5), ("B+R", 7.5), ("W+R", 0.5)]):
        game = random_game(9, 30 + 2 * i, seed=20 + i)
        game.komi = komi
        write_game(folder, f"v{i}.sgf", game, result=result)
    shards = tmp_path_factory.mktemp("shards9v")
    flt = GameFilter(board_size=9, min_moves=10)
    ensure_shards([folder], shards, ShardSpec(flt, shard_positions=1000), log=lambda m: None)
    return sorted(shards.glob("*.npz"))


def test_position_values_are_the_outcome_for_the_player_to_move(outcomes_9x9):
    from training.sl.samples import position_values

    shard = load_shards(outcomes_9x9)
    values = position_values(shard)
    assert values.shape == (shard.num_positions,)
    for g in range(shard.num_games):
        lo, hi = shard.game_offsets[g], shard.game_offsets[g + 1]
        winner, komi = int(shard.game_winner[g]), float(shard.game_komi[g])
        if komi < 5:
            assert np.isnan(values[lo:hi]).all()
            continue
        expected = np.where(shard.to_play[lo:hi] == winner, 1.0, -1.0)
        assert np.array_equal(values[lo:hi], expected)
    assert np.isnan(values).sum() == 36 and (values == 1).any() and (values == -1).any()


def test_a_policy_value_run_learns_the_outcomes_and_plays_in_a_search(outcomes_9x9, tmp_path):
    from goengine.game import GameState
    from goengine.nn import load_evaluator
    from goengine.search import BatchedSearch, SearchConfig

    with pytest.raises(ValueError, match="colour to play"):
        tiny_config(kind="policy_value", feature_set="alphago")
    config = tiny_config(kind="policy_value", tag="b2c32", global_pooling=2, value_weight=1.0, steps=250)
    heldout = load_shards(outcomes_9x9)  # the training games: this measures memorising
    run = SLRun(tmp_path / "run", config, outcomes_9x9, heldout, log=lambda m: None, progress_bar=False)
    report = run.train()
    assert report["value_positions"] == heldout.num_positions - 36
    assert report["value_mse"] < 0.15 and report["value_sign_acc"] > 0.95
    model, net_config, _ = load_checkpoint(run.last_checkpoint)
    assert net_config.kind == "policy_value" and net_config.global_pooling == 2
    # The checkpoint is a network the search plays like any self-play one.
    evaluator = load_evaluator(run.last_checkpoint, backend="torch", threads=1)
    search = BatchedSearch(SearchConfig(num_simulations=16), 9, 1, evaluator, seed=0)
    game = GameState(9)
    search.set_root(0, game)
    result = search.search(trees=[0], num_simulations=[16])[0]
    assert result.num_simulations == 16


def test_a_run_can_start_from_a_checkpoint_with_a_head_drawn_afresh(outcomes_9x9, tmp_path):
    config = tiny_config(kind="policy_value", tag="b2c32", steps=5)
    first = SLRun(tmp_path / "first", config, outcomes_9x9, None, log=lambda m: None, progress_bar=False)
    first.train()
    messages = []
    second = SLRun(tmp_path / "second", tiny_config(kind="policy_value", tag="b2c32", steps=5,
                                                    init_from=first.last_checkpoint, reset_heads=("value",)),
                   outcomes_9x9, None, log=messages.append, progress_bar=False)
    assert "value head(s) drawn afresh" in messages[0]
    before, after = first.model.state_dict(), second.model.state_dict()
    for name in before:
        same = torch.equal(before[name], after[name])
        # The trunk and the policy head carry over; the value head's weights are new.
        assert same == (not name.startswith("value.")), name
    second.train()
    _, _, meta = load_checkpoint(second.last_checkpoint)
    assert meta["parent_model_id"] == Path(first.last_checkpoint).name
    with pytest.raises(ValueError, match="is not the one this run trains"):
        SLRun(tmp_path / "third", tiny_config(kind="policy_value", tag="b3c32", steps=5,
                                              init_from=first.last_checkpoint), outcomes_9x9, None,
              log=lambda m: None)


def symmetry_averaged_logits(model, features: np.ndarray) -> np.ndarray:
    """The mean policy logits over the 8 rotations and reflections of 9x9 `features`, each mapped
    back to the position's own frame, by plain numpy transforms (the pass logit is unmoved)."""
    total = np.zeros((features.shape[0], 82), np.float64)
    for turns in range(4):
        for flip in (False, True):
            view = np.rot90(features, turns, axes=(2, 3))
            view = view[:, :, :, ::-1] if flip else view
            logits = policy_logits(model, view)
            board = logits[:, :81].reshape(-1, 9, 9)
            board = board[:, :, ::-1] if flip else board
            total[:, :81] += np.rot90(board, -turns, axes=(1, 2)).reshape(-1, 81)
            total[:, 81] += logits[:, 81]
    return total / 8


def test_eval_policy_with_symmetries_scores_the_averaged_moves(tiny_9x9, tmp_path, capsys):
    """--symmetries counts the argmax of the mean logits over the 8 board symmetries (what a
    policy:NET player plays), checked against a plain numpy rotate-and-flip average."""
    from goengine.cli import main

    folder, _, _ = tiny_9x9
    model, _ = tiny_policy_value_checkpoint(tmp_path / "pv", seed=2)
    plain_hits = averaged_hits = total = 0
    for features, targets in game_positions_9x9(folder):
        plain_hits += int(np.sum(policy_logits(model, features).argmax(axis=1) == targets))
        averaged_hits += int(np.sum(symmetry_averaged_logits(model, features).argmax(axis=1) == targets))
        total += len(targets)
    assert averaged_hits != plain_hits  # the option changes what is counted
    assert main(["eval-policy", "--model", str(tmp_path / "pv"), "--data", str(folder), "--board-size", "9",
                 "--min-moves", "10", "--device", "cpu", "--threads", "1", "--workers", "1", "--symmetries"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["symmetries"] == 8 and report["positions"] == total
    assert report["top1"] == pytest.approx(averaged_hits / total)
