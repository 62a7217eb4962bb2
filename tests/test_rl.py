"""Policy-gradient training: the lockstep games, the REINFORCE step (its sign and its fit of a
tiny set), and the resumable run directory."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from goengine.board import BLACK, COLOR, WHITE, is_eyeish  # noqa: E402
from goengine.coords import loc_of_action  # noqa: E402
from goengine.game import GameState  # noqa: E402
from goengine.nn import NetConfig, build_network, save_checkpoint  # noqa: E402
from training.rl.games import LockstepGames, sample_actions, uniform_actions  # noqa: E402
from training.rl.loop import RLConfig, RLRun  # noqa: E402
from training.rl.policy import TorchPolicy  # noqa: E402
from training.rl.reinforce import Episodes, play_episodes, reinforce_step  # noqa: E402

SIZE = 5


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny batches: more threads only spin against each other on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_policy(seed=0, size=SIZE):
    torch.manual_seed(seed)
    config = NetConfig(kind="policy", blocks=2, channels=8, in_planes=48, feature_set="alphago", board_sizes=(size,))
    return TorchPolicy(build_network(config), config)


def log_probs(policy, features, masks, actions):
    logits = policy.logits(features).astype(np.float64)
    z = np.where(masks, logits, -np.inf)
    z -= z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return logp[np.arange(len(actions)), actions]


def one_game(policy, outcome, seed):
    """Episodes of one game of three learner moves on random positions."""
    rng = np.random.default_rng(seed)
    features = rng.integers(0, 2, size=(3, 48, SIZE, SIZE), dtype=np.uint8)
    masks = np.ones((3, SIZE * SIZE + 1), np.bool_)
    actions = rng.integers(0, SIZE * SIZE, size=3)
    return Episodes(features, masks, actions, np.zeros(3, np.int64), np.array([outcome], np.float32),
                    np.array([BLACK]), np.array([6]))


@pytest.mark.parametrize("outcome, direction", [(1.0, 1), (-1.0, -1)])
def test_one_step_moves_the_played_moves_with_the_outcome(outcome, direction):
    policy = tiny_policy()
    episodes = one_game(policy, outcome, seed=3)
    before = log_probs(policy, episodes.features, episodes.masks, episodes.actions).sum()
    reinforce_step(policy, torch.optim.SGD(policy.model.parameters(), lr=0.01), episodes, baseline=0.0)
    after = log_probs(policy, episodes.features, episodes.masks, episodes.actions).sum()
    assert direction * (after - before) > 1e-4


def test_a_game_at_the_baseline_changes_nothing():
    policy = tiny_policy()
    episodes = one_game(policy, 1.0, seed=4)
    state = {k: v.clone() for k, v in policy.model.state_dict().items()}
    reinforce_step(policy, torch.optim.SGD(policy.model.parameters(), lr=0.1), episodes, baseline=1.0)
    assert all(torch.equal(state[k], v) for k, v in policy.model.state_dict().items())


def test_repeated_steps_fit_the_won_moves():
    policy = tiny_policy(1)
    episodes = one_game(policy, 1.0, seed=5)
    optimiser = torch.optim.SGD(policy.model.parameters(), lr=0.5)
    start = np.exp(log_probs(policy, episodes.features, episodes.masks, episodes.actions))
    for _ in range(60):
        reinforce_step(policy, optimiser, episodes, baseline=0.0)
    end = np.exp(log_probs(policy, episodes.features, episodes.masks, episodes.actions))
    assert start.max() < 0.2 and end.min() > 0.8


@pytest.mark.parametrize("rules", ["chinese", "tromp-taylor", "japanese", "aga"])
def test_lockstep_games_follow_the_rules(rules):
    """Uniform random games in lockstep under a Rules value (ko rule, suicide, scoring), replayed
    move by move in a GameState under the same rules: the same legal moves, boards and winners."""
    games = LockstepGames(SIZE, 6, komi=0.5, rules=rules)
    mirrors = [GameState(SIZE, komi=0.5, rules=rules) for _ in range(6)]
    rng = np.random.default_rng(0)
    while len(active := games.active()):
        _, masks = games.encode(active, None)
        actions = uniform_actions(masks, rng)
        for g, a, m in zip(active, actions, masks):
            game = mirrors[g]
            sensible = [game.is_legal(loc_of_action(b, SIZE)) and not is_eyeish(game.board, loc_of_action(b, SIZE),
                                                                                 game.to_play)
                        for b in range(SIZE * SIZE)]
            assert list(m[:-1]) == sensible and m[-1] == (not any(sensible))  # a pass only when nothing else is
            game.play(loc_of_action(int(a), SIZE))
        games.play(active, actions)
        for g in active:
            assert np.array_equal(games.boards[g, COLOR], mirrors[g].board[COLOR])
    winners = games.winners()
    for g, game in enumerate(mirrors):
        assert game.consecutive_passes == 2 or game.move_number == games.max_moves
        assert winners[g] == game.winner()


def test_sampling_respects_masks_and_temperature():
    rng = np.random.default_rng(0)
    logits = np.array([[5.0, 0.0, 9.0, 0.0]] * 2000, np.float32)
    masks = np.array([[True, True, False, True]] * 2000)
    a = sample_actions(logits, masks, rng)
    assert not np.any(a == 2)
    share = np.mean(a == 0)
    assert abs(share - np.exp(5) / (np.exp(5) + 2)) < 0.02
    assert np.all(sample_actions(logits, masks, rng, temperature=0) == 0)


def test_episodes_record_the_learner_side():
    learner, opponent = tiny_policy(0), tiny_policy(1)
    episodes = play_episodes(learner, opponent, 4, SIZE, np.random.default_rng(0), komi=0.5)
    assert list(episodes.learner_colour) == [BLACK, BLACK, WHITE, WHITE]
    assert np.all(episodes.masks[np.arange(len(episodes.actions)), episodes.actions])
    for g in range(4):
        moves = int(episodes.moves[g])
        mine = int((episodes.game == g).sum())
        assert mine == ((moves + 1) // 2 if g < 2 else moves // 2)
    # Black's stones are planes 0 (own) at the learner's first move in a Black game: none yet.
    first = np.flatnonzero(episodes.game == 0)[0]
    assert episodes.features[first, :2].sum() == 0
    assert set(episodes.outcome.tolist()) <= {-1.0, 0.0, 1.0}


def _sl_checkpoint(path, seed=0):
    policy = tiny_policy(seed)
    save_checkpoint(path, policy.model, policy.config, model_id="tiny-sl")
    return path


def test_run_directory_resumes_exactly(tmp_path):
    sl = _sl_checkpoint(tmp_path / "sl")
    config = RLConfig(size=SIZE, komi=0.5, games_per_iter=4, iterations=3, pool_every=2, learning_rate=0.05)
    straight = RLRun(tmp_path / "a", sl, config, log=None)
    straight.train()
    first = RLRun(tmp_path / "b", sl, replace(config, iterations=2), log=None)
    first.train()
    resumed = RLRun(tmp_path / "b", sl, config, log=None)
    assert resumed.iteration == 2 and resumed.pool == ["pool/000000", "pool/000002"]
    resumed.train()
    for k, v in straight.learner.model.state_dict().items():
        assert torch.equal(v, resumed.learner.model.state_dict()[k]), k
    state = json.loads((tmp_path / "b" / "state.json").read_text())
    assert state["iteration"] == 3
    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [e["iteration"] for e in log] == [1, 2, 3]
    with pytest.raises(ValueError, match="differs"):
        RLRun(tmp_path / "b", sl, replace(config, learning_rate=0.5), log=None)


def test_cli_runs_and_reports_the_win_rate(tmp_path, capsys):
    from goengine.cli import main
    sl = _sl_checkpoint(tmp_path / "sl")
    code = main(["train-rl", "--sl-model", str(sl), "--run-dir", str(tmp_path / "run"), "--size", str(SIZE),
                 "--games-per-iter", "4", "--iterations", "1", "--eval-games", "4"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["games"] == 4 and 0.0 <= result["win_rate"] <= 1.0
    assert (tmp_path / "run" / "current.json").is_file()


def test_checkpoints_record_the_board_size_played(tmp_path):
    from goengine.nn import load_checkpoint
    torch.manual_seed(0)
    config = NetConfig(kind="policy", blocks=2, channels=8, in_planes=48, feature_set="alphago", board_sizes=(9,))
    save_checkpoint(tmp_path / "sl", build_network(config), config)
    RLRun(tmp_path / "run", tmp_path / "sl", RLConfig(size=SIZE, games_per_iter=2, iterations=0), log=None)
    for stem in ("current", "pool/000000"):
        _, saved, _ = load_checkpoint(tmp_path / "run" / stem)
        assert saved.board_sizes == (9, SIZE)
