"""Replay window, sample stream and trainer: targets from the mover's view, symmetries that move
targets with the stones, exact features, a trainer that overfits, resumable optimizer state."""

from __future__ import annotations

import numpy as np
import pytest

from goengine.nn import NetConfig, build_network  # isort: skip  (before torch)
import torch

from goengine.board import BLACK, WHITE, new_board
from goengine.coords import action_of_loc, loc_of, loc_of_action
from goengine.features import encode_game_positions, get_feature_set
from goengine.game import GameState
from goengine.players import RandomPlayer
from selfplay.records import PlayedGame, write_chunk
from training.dataset import SampleStream
from training.replay import ReplayWindow
from training.trainer import TrainConfig, Trainer, load_trainer_state, save_trainer_state


def one_hot(size: int, action: int) -> np.ndarray:
    p = np.zeros(size * size + 1, np.float32)
    p[action] = 1.0
    return p


def record(size: int, actions: list[int], *, result: float = 1.0, score: float = 3.0, resigned: int = 0,
           setup: tuple = (), policies=None, ownership=None, handicap: int = 0) -> PlayedGame:
    """A PlayedGame of `actions`; each move's policy is one-hot on the move unless `policies`
    says otherwise (None entries: no full search)."""
    g = PlayedGame(board_size=size, komi=7.0, rules="tromp-taylor", model_id="test", result=result,
                   score=score, resigned=resigned, handicap=handicap, setup=list(setup),
                   ownership=None if ownership is None else np.asarray(ownership, np.int8))
    for i, a in enumerate(actions):
        policy = one_hot(size, a) if policies is None else policies[i]
        g.add_move(a, 0.0, policy)
    return g


def random_record(size: int, seed: int, max_moves: int) -> PlayedGame:
    """Random legal play (captures and ko happen on a small board), scored at the end."""
    game = GameState(size, komi=7.0, rules="tromp-taylor", max_moves=max_moves)
    player = RandomPlayer(seed)
    rng = np.random.default_rng(seed)
    g = PlayedGame(board_size=size, komi=7.0, rules="tromp-taylor", model_id="random", seed=seed)
    while not game.is_over:
        loc = player.decide(game).loc
        policy = rng.random(size * size + 1).astype(np.float32) if rng.random() < 0.5 else None
        g.add_move(action_of_loc(loc, size), 0.0, policy)
        game.play(loc)
    s = game.score()
    g.ownership, g.score, g.result = s.ownership.copy(), float(s.margin), float(np.sign(s.margin))
    return g


def stream(window, size_planes="agz", batch=16, **kw) -> SampleStream:
    fs = get_feature_set(size_planes)
    return SampleStream(window, NetConfig(in_planes=fs.num_planes, feature_set=fs.name), batch, **kw)


def all_positions(window, s: SampleStream, game: int, symmetry: int = 0):
    g = window.games
    n = int(g.playable[game])
    return s.make_batch(g, np.full(n, game), np.arange(n), np.full(n, symmetry))


# --- the replay window ---------------------------------------------------------------------------


def test_window_keeps_only_the_newest_games_and_refreshes(tmp_path):
    size = 5
    # Game lengths name the games: chunk c holds games of 1 + 3c .. 3 + 3c moves.
    for c in range(3):
        write_chunk(tmp_path / f"{c:06d}.npz", [record(size, list(range(1 + 3 * c + i))) for i in range(3)])
    window = ReplayWindow(tmp_path, 5)
    assert window.num_games == 5
    assert list(window.games.playable) == [5, 6, 7, 8, 9]
    assert window.num_positions == 35 and window.num_policy_positions == 35
    assert not window.refresh()
    write_chunk(tmp_path / "000003.npz", [record(size, [0, 1]), record(size, [2, 3, 4])])
    assert window.refresh()
    assert list(window.games.playable) == [7, 8, 9, 2, 3]


def test_window_counts_policy_positions_and_cuts_corrupt_games(tmp_path):
    size = 5
    cheap = [one_hot(size, 0), None, one_hot(size, 2), None]
    corrupt = record(size, [6, 7, 6, 8])  # the third move lands on a stone
    write_chunk(tmp_path / "000000.npz", [record(size, [0, 1, 2, 3], policies=cheap), corrupt])
    window = ReplayWindow(tmp_path, 10)
    assert list(window.games.playable) == [4, 2]
    assert window.num_positions == 6
    assert window.num_policy_positions == 4
    s = stream(window, batch=64, seed=1)
    batch = next(s)
    masks = {0: [1.0, 0.0, 1.0, 0.0], 1: [1.0, 1.0]}
    for game in (0, 1):
        b = all_positions(window, s, game)
        assert list(b.policy_mask) == masks[game]
        assert np.all(b.policy_target[b.policy_mask == 0] == 0)
    assert set(np.round(batch.policy_target.sum(axis=1), 5)) <= {0.0, 1.0}


# --- the samples -------------------------------------------------------------------------------------


@pytest.mark.parametrize("feature_set", ["agz", "alphago", "alphago-value"])
def test_features_equal_a_replay_of_the_whole_game(tmp_path, feature_set):
    size = 7
    games = [random_record(size, seed, max_moves=90) for seed in range(3)]
    write_chunk(tmp_path / "000000.npz", games)
    window = ReplayWindow(tmp_path, 10)
    fs = get_feature_set(feature_set)
    s = stream(window, feature_set)
    g = window.games
    for i, game in enumerate(games):
        m0, m1 = g.game_offsets[i], g.game_offsets[i + 1]
        expected = np.zeros((m1 - m0, fs.num_planes, size, size), np.uint8)
        locs = np.array([loc_of_action(a, size) for a in game.actions], np.int64)
        colors = np.array([BLACK, WHITE] * len(locs), np.int64)[:len(locs)]
        assert encode_game_positions(fs.code, fs.history, new_board(size), locs, colors, expected) == len(locs)
        np.testing.assert_array_equal(all_positions(window, s, i).features, expected)


# Where symmetry k sends (row, col) on an N x N board, stated independently of the code.
IMAGES = {
    0: lambda r, c, n: (r, c), 1: lambda r, c, n: (n - 1 - c, r), 2: lambda r, c, n: (n - 1 - r, n - 1 - c),
    3: lambda r, c, n: (c, n - 1 - r), 4: lambda r, c, n: (r, n - 1 - c), 5: lambda r, c, n: (c, r),
    6: lambda r, c, n: (n - 1 - r, c), 7: lambda r, c, n: (n - 1 - c, n - 1 - r),
}


@pytest.mark.parametrize("k", range(8))
def test_symmetry_moves_policy_and_ownership_with_the_stones(tmp_path, k):
    n = 5
    stone, target, owned = (1, 2), (1, 3), (3, 0)
    ownership = np.zeros(n * n, np.int8)
    ownership[owned[0] * n + owned[1]] = WHITE
    # Black plays `stone` (no search), then White's search points at `target`.
    g = record(n, [stone[0] * n + stone[1], target[0] * n + target[1]], result=-1.0, score=-2.0,
               policies=[None, one_hot(n, target[0] * n + target[1])], ownership=ownership)
    write_chunk(tmp_path / "000000.npz", [g])
    window = ReplayWindow(tmp_path, 1)
    s = stream(window)
    b = s.make_batch(window.games, np.array([0]), np.array([1]), np.array([k]))
    assert b.symmetry[0] == k
    opponent_now = b.features[0, 8]  # AGZ: the opponent's stones at t (White moves, Black's stone)
    assert list(zip(*np.nonzero(opponent_now))) == [IMAGES[k](*stone, n)]
    r, c = IMAGES[k](*target, n)
    assert int(np.argmax(b.policy_target[0])) == r * n + c
    assert b.policy_target[0, r * n + c] == pytest.approx(1.0)
    r, c = IMAGES[k](*owned, n)
    expected = np.zeros(n * n, np.float32)
    expected[r * n + c] = 1.0  # White to move owns it
    np.testing.assert_array_equal(b.ownership_target[0], expected)


def test_value_score_and_ownership_from_the_movers_view(tmp_path):
    n = 5
    ownership = np.array([BLACK] * 10 + [0] * 5 + [WHITE] * 10, np.int8)
    black_won = record(n, [0, 1, 2, 3], result=1.0, score=4.0, ownership=ownership)
    white_won = record(n, [0, 1, 2, 3], result=-1.0, score=-6.0, ownership=ownership)
    draw = record(n, [0, 1], result=0.0, score=0.0, ownership=ownership)
    white_resigned = record(n, [0, 1, 2], result=1.0, score=float("nan"), resigned=WHITE, ownership=ownership)
    write_chunk(tmp_path / "000000.npz", [black_won, white_won, draw, white_resigned])
    window = ReplayWindow(tmp_path, 4)
    s = stream(window)
    movers = np.array([1.0, -1.0, 1.0, -1.0])  # Black moves first, so even positions are Black's
    for game, (result, score) in enumerate([(1.0, 4.0), (-1.0, -6.0), (0.0, 0.0)]):
        b = all_positions(window, s, game)
        k = len(b)
        np.testing.assert_array_equal(b.value_target, result * movers[:k])
        np.testing.assert_array_equal(b.score_target, score * movers[:k])
        assert np.all(b.score_mask == 1) and np.all(b.ownership_mask == 1)
        black_view = np.where(ownership == BLACK, 1.0, np.where(ownership == WHITE, -1.0, 0.0))
        np.testing.assert_array_equal(b.ownership_target, movers[:k, None] * black_view[None, :])
    b = all_positions(window, s, 3)
    np.testing.assert_array_equal(b.value_target, [1.0, -1.0, 1.0])
    assert np.all(b.score_mask == 0) and np.all(b.score_target == 0)
    assert np.all(b.ownership_mask == 0)


def test_handicap_games_start_with_white(tmp_path):
    n = 5
    g = record(n, [0, 1], result=-1.0, handicap=1, setup=[(loc_of(2, 2, n), BLACK)])
    write_chunk(tmp_path / "000000.npz", [g])
    window = ReplayWindow(tmp_path, 1)
    b = all_positions(window, stream(window), 0)
    np.testing.assert_array_equal(b.value_target, [1.0, -1.0])  # White won; White moves first
    assert b.features[0, 8, 2, 2] == 1  # the handicap stone is the opponent's for White
    assert np.all(b.features[0, 16] == 0) and np.all(b.features[1, 16] == 1)  # black-to-play plane


def test_sampling_is_uniform_over_positions_or_capped_per_game(tmp_path):
    n = 7
    write_chunk(tmp_path / "000000.npz", [record(n, [0, 1]), record(n, list(range(40)))])
    window = ReplayWindow(tmp_path, 2)
    games, _ = stream(window, seed=3).sample_indices(window.games, 20000)
    assert np.mean(games == 0) == pytest.approx(2 / 42, abs=0.01)
    games, moves = stream(window, seed=3, max_samples_per_game=2).sample_indices(window.games, 20000)
    assert np.mean(games == 0) == pytest.approx(0.5, abs=0.02)
    assert moves[games == 1].max() >= 35  # still any position of the long game


def test_prefetch_thread_gives_the_same_kind_of_batches(tmp_path):
    write_chunk(tmp_path / "000000.npz", [random_record(5, 1, max_moves=30)])
    window = ReplayWindow(tmp_path, 1)
    with stream(window, batch=8, prefetch=2) as s:
        batches = [next(s) for _ in range(3)]
    assert all(b.features.shape == (8, 18, 5, 5) for b in batches)
    assert all(np.all(b.features[:, 17] == 1) for b in batches)


# --- the trainer ---------------------------------------------------------------------------------------


def tiny_window(tmp_path, n=5, games=4, moves=6):
    """Games whose positions all differ (a setup stone per game) with one-hot policy targets."""
    rng = np.random.default_rng(0)
    recs = []
    for i in range(games):
        setup_point = i  # top row, a different point per game
        free = [a for a in range(n * n) if a != setup_point]
        actions = list(rng.choice(free, size=moves, replace=False))
        ownership = rng.choice([0, BLACK, WHITE], size=n * n).astype(np.int8)
        recs.append(record(n, actions, result=1.0 if i % 2 else -1.0, score=float(2 * i - 3),
                           setup=[(loc_of(0, setup_point, n), BLACK)], ownership=ownership))
    write_chunk(tmp_path / "000000.npz", recs)
    return ReplayWindow(tmp_path, games)


@pytest.mark.parametrize("precision", ["fp32", "bf16"], ids=["fp32", "bf16-autocast"])
def test_trainer_overfits_a_tiny_window(tmp_path, precision):
    torch.manual_seed(0)
    window = tiny_window(tmp_path)
    net = NetConfig(blocks=1, channels=32, head_channels=16, value_hidden=32, board_sizes=(5,),
                    ownership=True, score=True)
    config = TrainConfig(batch_size=16, optimizer="adamw", learning_rate=1e-2, weight_decay=0.0,
                         device="cpu", log_every=50, score_loss_weight=0.1, precision=precision)
    trainer = Trainer(build_network(net), net, config)
    assert trainer.autocast == (precision == "bf16")
    with SampleStream(window, net, config.batch_size, seed=0, symmetries=False) as batches:
        first = trainer.train_steps(batches, 10)
        trainer.train_steps(batches, 100)
        last = trainer.train_steps(batches, 20)
    assert first["policy_loss"] > 1.0 and first["value_loss"] > 0.3
    assert last["policy_loss"] < 0.15  # one-hot targets: zero is reachable
    assert last["value_loss"] < 0.02
    assert last["value_sign_acc"] == 1.0
    assert last["ownership_loss"] < 0.5 * first["ownership_loss"]
    assert last["score_loss"] < 0.5 * first["score_loss"]
    assert trainer.step == 130


class FakeWriter:
    def __init__(self):
        self.scalars: list[tuple[str, float, int]] = []

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, float(value), int(step)))


def test_learning_rate_schedules():
    step = TrainConfig(learning_rate=0.1, lr_schedule="step", lr_milestones=(10, 20), lr_gamma=0.1)
    assert [round(step.learning_rate_at(s), 6) for s in (0, 9, 10, 19, 20, 500)] == [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    cosine = TrainConfig(learning_rate=0.2, lr_schedule="cosine", cosine_steps=100, min_learning_rate=0.0)
    assert cosine.learning_rate_at(0) == pytest.approx(0.2)
    assert cosine.learning_rate_at(50) == pytest.approx(0.1)
    assert cosine.learning_rate_at(100) == pytest.approx(0.0) and cosine.learning_rate_at(1000) == pytest.approx(0.0)
    warm = TrainConfig(learning_rate=0.1, warmup_steps=4)
    assert [warm.learning_rate_at(s) for s in (0, 3, 4)] == pytest.approx([0.025, 0.1, 0.1])
    with pytest.raises(ValueError):
        TrainConfig(optimizer="rmsprop")


def test_sgd_l2_matches_the_explicit_term_and_logs_scalars(tmp_path):
    window = tiny_window(tmp_path)
    net = NetConfig(blocks=1, channels=8, head_channels=4, value_hidden=8, board_sizes=(5,))
    torch.manual_seed(1)
    model = build_network(net)
    reference = build_network(net)
    reference.load_state_dict(model.state_dict())
    config = TrainConfig(batch_size=8, learning_rate=0.05, momentum=0.0, weight_decay=0.01, device="cpu", log_every=2,
                         precision="fp32")
    writer = FakeWriter()
    trainer = Trainer(model, net, config, tb_writer=writer)
    batch = next(stream(window, batch=8, seed=5))
    metrics = trainer.train_steps([batch, batch], 2)
    assert {"train/policy_loss", "train/value_loss", "train/l2", "train/learning_rate", "train/samples_per_s",
            "train/policy_entropy", "train/value_sign_acc"} <= {t for t, _, _ in writer.scalars}
    # The same two steps by hand: plain SGD on loss + c * sum of squared weights.
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.05)
    helper = Trainer(reference, net, config.with_(weight_decay=0.0))
    for _ in range(2):
        loss = helper.losses(helper.to_device(batch))["loss"]
        loss = loss + 0.01 * sum(p.pow(2).sum() for n, p in reference.named_parameters()
                                 if p.ndim > 1 and not n.endswith(".bias"))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)
    with torch.no_grad():
        l2 = 0.01 * sum(float(p.pow(2).sum()) for n, p in model.named_parameters()
                        if p.ndim > 1 and not n.endswith(".bias"))
    assert metrics["l2"] == pytest.approx(l2, rel=1e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_optimizer_state_round_trip(tmp_path, optimizer):
    window = tiny_window(tmp_path)
    net = NetConfig(blocks=1, channels=8, head_channels=4, value_hidden=8, board_sizes=(5,))
    config = TrainConfig(batch_size=8, optimizer=optimizer, learning_rate=0.01, device="cpu", precision="fp32",
                         lr_schedule="step", lr_milestones=(3,))
    torch.manual_seed(2)
    trainer = Trainer(build_network(net), net, config)
    batches = stream(window, batch=8, seed=7)
    trainer.train_steps(batches, 4)
    path = save_trainer_state(tmp_path / "state" / "trainer.pt", trainer)
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temporary left
    resumed_model = build_network(net)
    resumed_model.load_state_dict(trainer.model.state_dict())
    resumed = Trainer(resumed_model, net, config)
    load_trainer_state(path, resumed)
    assert resumed.step == 4
    batch = next(batches)
    trainer.train_steps([batch], 1)
    resumed.train_steps([batch], 1)
    for a, b in zip(trainer.model.state_dict().values(), resumed.model.state_dict().values()):
        torch.testing.assert_close(a, b)
    fresh = Trainer(build_network(net), net, config)
    fresh.model.load_state_dict(resumed_model.state_dict())
    with pytest.raises(ValueError):
        fresh.load_state_dict({"version": 99, "step": 0, "optimizer": {}})
