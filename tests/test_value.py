"""The value network's data (one position per game, after a random move at U), its trainer and
metrics, the combined policy + value evaluator, and the AlphaGo player built from all parts."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from goengine.combined_evaluator import CombinedEvaluator  # noqa: E402
from goengine.coords import PASS_LOC  # noqa: E402
from goengine.game import GameState  # noqa: E402
from goengine.nn import NetConfig, build_network, save_checkpoint  # noqa: E402
from goengine.rollout import NUM_FEATURES  # noqa: E402
from goengine.rollout.model import save_rollout_model  # noqa: E402
from training.rl.policy import TorchPolicy  # noqa: E402
from training.value.generate import ValuePositions, value_games  # noqa: E402
from training.value.train import ValueTrainConfig, train_value_net, value_metrics, value_net_config  # noqa: E402

SIZE = 5


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_policy(seed=0):
    torch.manual_seed(seed)
    config = NetConfig(kind="policy", blocks=2, channels=8, in_planes=48, feature_set="alphago", board_sizes=(SIZE,))
    return TorchPolicy(build_network(config), config)


class CountingPolicy:
    """Uniform logits; remembers how many stones were on each board it was asked about."""

    def __init__(self):
        self.feature_set = "alphago"
        self.stones_seen: list[int] = []

    def logits(self, features):
        self.stones_seen += [int(x[:2].sum()) for x in features]
        return np.zeros((len(features), SIZE * SIZE + 1), np.float32)


# --- data -------------------------------------------------------------------------------------


def test_first_move_random_then_rl_policy_only():
    sl, rl = CountingPolicy(), CountingPolicy()
    positions, dropped = value_games(sl, rl, 6, SIZE, seed=1, komi=0.5, u_max=1)
    assert dropped == 0 and len(positions) == 6
    assert sl.stones_seen == []  # U = 1: the first move is the random one
    assert min(rl.stones_seen) == 1  # the RL policy starts after it
    assert np.all(positions.move == 2)
    # The position after one move: one stone, the opponent's (plane 1), White to play (plane 48 zero).
    assert np.all(positions.features[:, 0].sum(axis=(1, 2)) == 0)
    assert np.all(positions.features[:, 1].sum(axis=(1, 2)) == 1)
    assert np.all(positions.features[:, 48] == 0)


def test_positions_are_after_move_u_with_the_mover_to_play():
    sl, rl = CountingPolicy(), CountingPolicy()
    positions, dropped = value_games(sl, rl, 12, SIZE, seed=2, komi=0.5, u_max=3)
    assert len(positions) + dropped == 12 and len(positions) > 0
    u = positions.move - 1
    stones = positions.features[:, :2].sum(axis=(1, 2, 3))
    assert np.all(stones == u)  # no capture is possible in three moves
    black_to_play = positions.features[:, 48, 0, 0] == 1
    assert np.array_equal(black_to_play, u % 2 == 0)
    assert max(sl.stones_seen) <= 1  # the SL policy plays moves 1..U-1 only: at most 1 stone before
    assert set(np.unique(positions.outcome)) <= {-1.0, 0.0, 1.0}


def test_outcome_is_for_the_player_to_move():
    """With komi above the whole board's area White wins every game, so the outcome is +1
    exactly where White is to move."""
    positions, _ = value_games(tiny_policy(0), tiny_policy(1), 8, SIZE, seed=3, komi=100.5, u_max=10)
    white_to_play = positions.features[:, 48, 0, 0] == 0
    assert np.array_equal(positions.outcome == 1.0, white_to_play)


def test_positions_save_and_load(tmp_path):
    positions, _ = value_games(CountingPolicy(), CountingPolicy(), 4, SIZE, seed=4, komi=0.5, u_max=5)
    positions.save(tmp_path / "p.npz")
    back = ValuePositions.load(tmp_path / "p.npz")
    assert np.array_equal(back.features, positions.features) and np.array_equal(back.outcome, positions.outcome)


# --- training -----------------------------------------------------------------------------------


def test_metrics_by_hand():
    m = value_metrics(np.array([0.5, -0.5, 0.2, 0.3]), np.array([1.0, 1.0, -1.0, 0.0]))
    assert m["mse"] == pytest.approx((0.25 + 2.25 + 1.44 + 0.09) / 4)
    assert m["sign_accuracy"] == pytest.approx(1 / 3)  # draws are left out


def test_trainer_overfits_a_tiny_set():
    rng = np.random.default_rng(0)
    data = ValuePositions(rng.integers(0, 2, size=(12, 49, SIZE, SIZE), dtype=np.uint8),
                          rng.choice([-1.0, 1.0], size=12).astype(np.float32), np.zeros(12, np.int64),
                          np.zeros(12, np.int64))
    config = ValueTrainConfig(steps=250, batch_size=12, learning_rate=3e-3, weight_decay=0.0, blocks=3,
                              channels=16, log_every=50)
    net_config = value_net_config(config, "alphago-value", 49, SIZE)
    model, history = train_value_net(data, config, net_config, log=None)
    from training.value.train import predict
    metrics = value_metrics(predict(model, data.features), data.outcome)
    assert metrics["mse"] < 0.1 and metrics["sign_accuracy"] == 1.0
    assert history[-1]["mse"] < history[0]["mse"]


# --- the combined evaluator -----------------------------------------------------------------------


class StubEvaluator:
    def __init__(self, feature_set, planes, logit, value):
        self.feature_set, self.board_size = feature_set, None
        self.planes, self.logit, self.value = planes, logit, value
        self.seen = []

    def evaluate(self, x):
        assert x.shape[1] == self.planes
        self.seen.append(x.copy())
        b = x.shape[0]
        return np.full((b, x.shape[2] ** 2 + 1), self.logit, np.float32), np.full(b, self.value, np.float32)


def test_combined_evaluator_takes_policy_and_value_from_each_net():
    policy = StubEvaluator("alphago", 48, 2.0, 0.0)
    value = StubEvaluator("alphago-value", 49, 0.0, -0.25)
    combined = CombinedEvaluator(policy, value)
    assert combined.feature_set == "alphago-value"
    x = np.random.default_rng(0).integers(0, 2, size=(3, 49, SIZE, SIZE), dtype=np.uint8)
    logits, values = combined.evaluate(x)
    assert np.all(logits == 2.0) and np.all(values == -0.25)
    assert np.array_equal(policy.seen[0], x[:, :48]) and np.array_equal(value.seen[0], x)


def test_combined_evaluator_refuses_feature_sets_it_cannot_serve():
    with pytest.raises(ValueError, match="cannot be served"):
        CombinedEvaluator(StubEvaluator("agz", 18, 0, 0), StubEvaluator("alphago-value", 49, 0, 0))
    same = CombinedEvaluator(StubEvaluator("agz", 18, 0, 0), StubEvaluator("agz", 18, 0, 0.5))
    assert same.feature_set == "agz"


# --- the AlphaGo player --------------------------------------------------------------------------


def _checkpoints(tmp_path):
    torch.manual_seed(0)
    p_config = NetConfig(kind="policy", blocks=2, channels=8, in_planes=48, feature_set="alphago", board_sizes=(SIZE,))
    v_config = NetConfig(kind="value", blocks=2, channels=8, in_planes=49, feature_set="alphago-value",
                         board_sizes=(SIZE,))
    save_checkpoint(tmp_path / "sl", build_network(p_config), p_config)
    save_checkpoint(tmp_path / "value", build_network(v_config), v_config)
    save_rollout_model(tmp_path / "rollout", np.zeros(NUM_FEATURES, np.float32))
    return tmp_path / "sl", tmp_path / "value", tmp_path / "rollout"


def test_alphago_player_mixes_value_net_and_rollouts(tmp_path):
    from goengine.alphago_player import build_alphago_player
    sl, value, rollout = _checkpoints(tmp_path)
    player = build_alphago_player(sl, value, rollout, lam=0.5, size=SIZE, visits=24, threads=1)
    assert player.config.rollout_lambda == 0.5
    assert player.search.rollout_weights.shape == (NUM_FEATURES,)
    assert isinstance(player.evaluator, CombinedEvaluator)
    game = GameState(SIZE, komi=0.5)
    decision = player.decide(game)
    assert decision.loc == PASS_LOC or game.is_legal(decision.loc)
    assert decision.result.num_simulations >= 24
    rollouts_only = build_alphago_player(sl, None, None, lam=0.5, size=SIZE, visits=8, threads=1)
    assert rollouts_only.config.rollout_lambda == 1.0 and rollouts_only.search.rollout_weights.shape == (0,)


def test_value_cli_writes_network_and_report(tmp_path, capsys):
    from goengine.cli import main
    sl, _, _ = _checkpoints(tmp_path)
    code = main(["train-value", "--rl-model", str(sl), "--sl-model", str(sl), "--run-dir", str(tmp_path / "run"),
                 "--games", "12", "--batch-games", "6", "--size", str(SIZE), "--steps", "5", "--blocks", "2",
                 "--channels", "8", "--u-max", "6"])
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["test"]["positions"] >= 1
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    total = sum(len(ValuePositions.load(p)) for p in (tmp_path / "run" / "data").glob("batch-*.npz"))
    assert report["train"]["positions"] + report["validation"]["positions"] + report["test"]["positions"] == total
    from goengine.nn import load_checkpoint
    _, config, _ = load_checkpoint(tmp_path / "run" / "value")
    assert config.kind == "value" and config.feature_set == "alphago-value"


def test_gtp_engine_plays_with_all_three_models(tmp_path):
    from goengine.gtp.cli import add_arguments, default_lambda
    from goengine.gtp.engine import Engine, EngineOptions
    import argparse
    sl, value, rollout = _checkpoints(tmp_path)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--model", str(sl), "--value-model", str(value), "--rollout-model", str(rollout)])
    assert default_lambda(args) == 0.5
    assert default_lambda(parser.parse_args(["--rollout-model", str(rollout)])) == 1.0
    engine = Engine(EngineOptions(model=str(sl), value_model=str(value), rollout_model=str(rollout),
                                  rollout_lambda=0.5, size=SIZE, visits=16, threads=1, tree_edges=100_000,
                                  resign_threshold=0.0, ownership_playouts=8))
    assert engine.handle_line("boardsize 5").startswith("=")
    reply = engine.handle_line("genmove b")
    assert reply.startswith("= ") and reply.split()[1].lower() != "resign"
    searcher = engine.searcher()
    assert isinstance(searcher.evaluator, CombinedEvaluator)
    assert searcher.config.rollout_lambda == 0.5 and searcher.player.search.rollout_weights.shape == (NUM_FEATURES,)


def test_validation_keeps_the_best_step():
    from training.value.train import predict
    rng = np.random.default_rng(1)

    def random_positions(n):
        return ValuePositions(rng.integers(0, 2, size=(n, 49, SIZE, SIZE), dtype=np.uint8),
                              rng.choice([-1.0, 1.0], size=n).astype(np.float32), np.zeros(n, np.int64),
                              np.zeros(n, np.int64))

    train, validation = random_positions(16), random_positions(16)
    config = ValueTrainConfig(steps=120, batch_size=16, learning_rate=3e-3, weight_decay=0.0, blocks=2,
                              channels=8, log_every=20)
    model, history = train_value_net(train, config, value_net_config(config, "alphago-value", 49, SIZE),
                                     log=None, validation=validation)
    scores = [h["validation_mse"] for h in history]
    final = value_metrics(predict(model, validation.features), validation.outcome)["mse"]
    assert final == pytest.approx(min(scores), abs=1e-5)
    assert len(set(np.round(scores, 6))) > 1
