"""The rollout policy: its features on hand-made positions (as the docstring of
goengine/rollout/features.py defines them), their symmetry, the playout kernel's rules, the
trainer, checkpoints and the search's use of rollout weights."""

from __future__ import annotations

import numpy as np
import pytest

from goengine.ascii_board import parse
from goengine.board import BLACK, COLOR, EMPTY, WHITE, count_liberties, is_eyeish, new_board, play, set_stones
from goengine.coords import loc_of, loc_of_vertex, row_col_of
from goengine.game import GameState
from goengine.playout import playout_scratch, random_playout
from goengine.rng import new_rng
from goengine.rollout import features as F
from goengine.rollout import policy_playout
from goengine.rollout.model import RolloutModel, RolloutModelError, load_rollout_model, save_rollout_model
from goengine.search import kernels as K

# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def one_torch_thread():
    """Tiny batches: more threads only spin against each other on a shared machine."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def features_of(board, color, last=-1, prev=-1):
    """{loc: [feature names]} of every candidate."""
    n_locs = board.shape[1]
    locs = np.zeros(n_locs, np.int64)
    feats = np.zeros((n_locs, F.NUM_SLOTS), np.int64)
    k = F.candidate_features(board, color, last, prev, F.new_cache(n_locs), locs, feats)
    return {int(locs[i]): [int(f) for f in feats[i] if f >= 0] for i in range(k)}


def names(ids):
    return {F.feature_name(f).split("[")[0]: F.feature_name(f) for f in ids}


def v(vertex, size):
    return loc_of_vertex(vertex, size)


def random_position(size, moves, seed):
    b = new_board(size)
    owner, stack = playout_scratch(b)
    random_playout(b, BLACK, 0, moves, new_rng(seed), owner, stack)
    return b


# --- candidates ---------------------------------------------------------------------------------


def test_own_eye_suicide_and_ko_point_are_not_candidates():
    eye = parse("""
        . X . . .
        X . . . .
        . . . . .
        . . . . .
        . . . . .
    """)
    assert v("A5", 5) not in features_of(eye, BLACK)  # own eye
    assert v("A5", 5) not in features_of(eye, WHITE)  # suicide
    assert v("B4", 5) in features_of(eye, BLACK)
    ko = parse("""
        . X O . .
        X O . O .
        . X O . .
        . . . . .
        . . . . .
    """)
    play(ko, v("C4", 5), BLACK)  # takes the ko
    assert ko[COLOR, v("B4", 5)] == EMPTY
    assert v("B4", 5) not in features_of(ko, WHITE)
    assert v("B4", 5) in features_of(ko, BLACK)  # only the opponent of the capturer is barred


def test_candidates_are_exactly_the_legal_non_eye_points():
    for seed in range(5):
        b = random_position(7, 60, seed)
        game_board = b.copy()
        for color in (BLACK, WHITE):
            got = set(features_of(b, color))
            from goengine.board import is_legal
            want = {loc for loc in range(b.shape[1]) if b[COLOR, loc] == EMPTY
                    and is_legal(game_board, loc, color, False) and not is_eyeish(game_board, loc, color)}
            assert got == want


# --- tactical features --------------------------------------------------------------------------


def test_capture_feature_counts_the_stones_and_the_rescue():
    b = parse("""
        . . . . .
        . X O X .
        . . X . .
        . . . . .
        . . . . .
    """)
    f = names(features_of(b, BLACK)[v("C5", 5)])
    assert f["capture"] == "capture[0]"  # one stone, no own chain in atari beside it
    assert "self_atari" not in f
    rescue = parse("""
        X O X . .
        . O X . .
        O X . . .
        . . . . .
        . . . . .
    """)
    # White B5-B4 has one liberty, A4, which is also the last liberty of black A5.
    feats = features_of(rescue, BLACK)[v("A4", 5)]
    assert F.CAPTURE + 2 * 1 + 1 in feats  # two stones, and an own chain in atari touches them
    assert F.SAVE + 3 * 1 + 0 in feats  # two liberties after: the points of B5 and B4


def test_save_feature_reports_liberties_after_and_size():
    b = parse("""
        . . . . .
        . . O . .
        . O X O .
        . . . . .
        . . . . .
    """)
    feats = features_of(b, BLACK)[v("C2", 5)]
    assert F.SAVE + 3 * 2 + 0 in feats  # 3+ liberties after, a one-stone chain saved
    # White to move captures there instead.
    assert F.CAPTURE + 0 in features_of(b, WHITE)[v("C2", 5)]


def test_self_atari_and_atari_features():
    b = parse("""
        . O . . .
        O . O . .
        . . . . .
        . . . . .
        . . . . .
    """)
    feats = features_of(b, BLACK)[v("B4", 5)]
    assert F.SELF_ATARI + 0 in feats
    assert not any(F.ATARI <= f < F.ATARI + 3 for f in feats)
    a = parse("""
        . . . . .
        . . X . .
        . X O . .
        . . . . .
        . . . . .
    """)
    for vertex in ("D3", "C2"):
        feats = features_of(a, BLACK)[v(vertex, 5)]
        assert F.ATARI + 0 in feats
        assert not any(F.SELF_ATARI <= f < F.SELF_ATARI + 4 for f in feats)
    assert not any(F.ATARI <= f < F.ATARI + 3 for f in features_of(a, BLACK)[v("E1", 5)])


def test_distance_response_and_line_features():
    b = new_board(9)
    last = v("E5", 9)
    prev = v("G3", 9)
    play(b, prev, BLACK)
    play(b, last, WHITE)
    f = features_of(b, BLACK, last, prev)
    assert F.DIST_LAST + 0 in f[v("F5", 9)]        # adjacent: d = 2
    assert F.DIST_LAST + 1 in f[v("F6", 9)]        # diagonal: d = 3
    assert F.DIST_LAST + 2 in f[v("E7", 9)]        # two up: d = 4
    assert F.DIST_LAST + 10 in f[v("A1", 9)]       # 4 and 4: d = 12
    assert F.DIST_PREV + 0 in f[v("G4", 9)]
    in_diamond = {loc for loc, ids in f.items() if any(F.RESPONSE <= i < F.SAVE for i in ids)}
    r0, c0 = row_col_of(last, 9)
    assert in_diamond == {loc_of(r, c, 9) for r in range(9) for c in range(9)
                          if 1 <= abs(r - r0) + abs(c - c0) <= 2}
    assert F.LINE + 0 in f[v("A1", 9)] and F.LINE + 1 in f[v("B2", 9)] and F.LINE + 3 in f[v("E4", 9)]
    # No last move: no response and no distance.
    assert not any(F.RESPONSE <= i < F.SAVE or F.DIST_LAST <= i < F.LINE
                   for ids in features_of(b, BLACK).values() for i in ids)


def test_liberty_states_match_count_liberties():
    for seed in range(4):
        b = random_position(9, 70, seed)
        cache = F.new_cache(b.shape[1])
        F.fill_states(b, BLACK, cache)
        mark = np.zeros(b.shape[1], np.int32)
        for loc in range(b.shape[1]):
            c = b[COLOR, loc]
            if c in (BLACK, WHITE):
                libs = min(count_liberties(b, loc, mark), 3)
                assert cache[loc, F.STATE_COL] == (libs if c == BLACK else 3 + libs)


def _transformed(board, size, k):
    """The board under symmetry k (rotations and mirrors of (row, col))."""
    maps = [lambda r, c: (r, c), lambda r, c: (size - 1 - c, r), lambda r, c: (size - 1 - r, size - 1 - c),
            lambda r, c: (c, size - 1 - r), lambda r, c: (r, size - 1 - c), lambda r, c: (c, r),
            lambda r, c: (size - 1 - r, c), lambda r, c: (size - 1 - c, size - 1 - r)]
    out = new_board(size)
    stones = {}
    for r in range(size):
        for c in range(size):
            colour = int(board[COLOR, loc_of(r, c, size)])
            if colour:
                stones[loc_of(*maps[k](r, c), size)] = colour
    set_stones(out, stones)
    return out, lambda loc: loc_of(*maps[k](*row_col_of(loc, size)), size)


@pytest.mark.parametrize("k", range(8))
def test_features_are_the_same_under_every_symmetry(k):
    size = 9
    b = random_position(size, 40, 11)
    last = next(loc for loc in range(b.shape[1]) if b[COLOR, loc] == WHITE)
    prev = next(loc for loc in range(b.shape[1]) if b[COLOR, loc] == BLACK)
    t, move = _transformed(b, size, k)
    original = features_of(b, BLACK, last, prev)
    turned = features_of(t, BLACK, move(last), move(prev))
    assert {move(loc): sorted(ids) for loc, ids in original.items()} == {loc: sorted(ids) for loc, ids in turned.items()}


def test_pattern_tells_colours_and_liberties_apart():
    own = parse(". . .\n. . X\n. . .")
    other = parse(". . .\n. . O\n. . .")
    centre = v("B2", 3)
    assert features_of(own, BLACK)[centre][0] != features_of(other, BLACK)[centre][0]
    # The same colours around C3, but the black neighbour D3 has two liberties, then one.
    two = parse("""
        . . . . .
        . . . O .
        . . . X .
        . . . O .
        . . . . .
    """)
    one = two.copy()
    set_stones(one, {v("E3", 5): WHITE})
    assert features_of(two, BLACK)[v("C3", 5)][0] != features_of(one, BLACK)[v("C3", 5)][0]


# --- the playout kernel ---------------------------------------------------------------------------


def _random_weights(seed):
    rng = np.random.default_rng(seed)
    return RolloutModel(rng.normal(0, 2, F.NUM_FEATURES).astype(np.float32)).kernel_weights


@pytest.mark.parametrize("seed", [1, 2])
def test_policy_playout_plays_legal_moves_and_never_fills_its_eyes(seed):
    """Replays the kernel one move longer each time (same generator seed) and checks every new
    move against a GameState with simple ko."""
    size = 7
    weights = _random_weights(seed)
    start = new_board(size)
    owner, stack = playout_scratch(start)
    game = GameState(size, rules="chinese")
    previous = start.copy()
    passes_seen = 0
    for k in range(1, 3 * size * size):
        b = start.copy()
        _, moves = policy_playout(b, BLACK, 0, -1, -1, k, new_rng(seed), owner, stack, weights)
        if moves < k:
            break  # two passes ended the playout
        colour = game.to_play
        new = [loc for loc in range(b.shape[1]) if previous[COLOR, loc] == EMPTY and b[COLOR, loc] == colour]
        assert len(new) <= 1
        loc = new[0] if new else 0
        if loc:
            assert game.is_legal(loc), f"move {k} is illegal"
            assert not is_eyeish(game.board, loc, colour), f"move {k} fills an own eye"
        else:
            passes_seen += 1
            assert not features_of(game.board, colour), "passed with a candidate left"
        game.play(loc)
        assert np.array_equal(game.board[COLOR], b[COLOR])
        previous = b
    assert game.move_number > size * size // 2


def test_leaf_rollouts_follow_the_weights_or_play_at_random():
    from goengine.search import leaves as L

    size = 7
    b = random_position(size, 10, 3)
    owner, stack = playout_scratch(b)
    weights = _random_weights(4)
    params = np.zeros(K.NUM_PARAMS)
    params[K.P_ROLLOUT_MOVES] = 100
    info = np.zeros((1, K.SLOT_INFO_COLUMNS), np.int64)
    info[0, K.S_TO_PLAY] = BLACK
    info[0, K.S_LAST_MOVE] = info[0, K.S_PREV_MOVE] = -1
    for reference in ("policy", "random"):
        boards, out = b.copy()[None], np.zeros(1)
        rngs = np.asarray(new_rng(9))[None]
        if reference == "policy":
            L.policy_rollouts(boards, info, 1, np.array([7.5]), rngs, owner[None], stack[None], params, weights, out)
        else:
            L.random_rollouts(boards, info, 1, np.array([7.5]), rngs, owner[None], stack[None], params, out)
        ref = b.copy()
        if reference == "policy":
            score, _ = policy_playout(ref, BLACK, 0, -1, -1, 100, new_rng(9), owner, stack, weights)
        else:
            score, _ = random_playout(ref, BLACK, 0, 100, new_rng(9), owner, stack)
        assert out[0] == (1.0 if score - 7.5 > 0 else -1.0)


def test_capture_loving_weights_capture_at_once():
    b = parse("""
        . . . . .
        . X O X .
        . . X . .
        . . . . .
        . . . . .
    """)
    w = np.zeros(F.NUM_FEATURES, np.float32)
    w[F.CAPTURE:F.CAPTURE + 8] = 25.0
    owner, stack = playout_scratch(b)
    for seed in range(5):
        x = b.copy()
        policy_playout(x, BLACK, 0, -1, -1, 1, new_rng(seed), owner, stack, RolloutModel(w).kernel_weights)
        assert x[COLOR, v("C5", 5)] == BLACK and x[COLOR, v("C4", 5)] == EMPTY


def test_search_rollouts_are_policy_playouts():
    """With one simulation the root's value is one rollout from the root: it must be the
    outcome of policy_playout with the tree's generator, not of random_playout."""
    from goengine.search import BatchedSearch, SearchConfig
    weights = _random_weights(7)
    game = GameState(7, komi=0.5, rules="chinese")
    for vertex in ("D4", "C3", "E5"):
        game.play(v(vertex, 7))
    config = SearchConfig(num_simulations=1, rollout_lambda=1.0, leaves_per_tree=1)
    board = game.board
    owner, stack = playout_scratch(board)
    got, policy, uniform = [], [], []
    for seed in range(16):
        search = BatchedSearch(config, 7, 1, None, seed=seed, rollout_weights=weights)
        search.set_root(0, game)
        rng = search.rngs[0].copy()
        got.append(search.search()[0].root_value)
        last, prev = game.recent_moves[0], game.recent_moves[1]
        score, _ = policy_playout(board.copy(), WHITE, 0, last, prev, 3 * 49, rng.copy(),
                                  owner, stack, weights)
        policy.append(1.0 if (score - 0.5 > 0) == (game.to_play == BLACK) else -1.0)
        score, _ = random_playout(board.copy(), WHITE, 0, 3 * 49, rng.copy(), owner, stack)
        uniform.append(1.0 if (score - 0.5 > 0) == (game.to_play == BLACK) else -1.0)
    assert got == policy
    assert policy != uniform  # the check above could tell the two apart


# --- training and checkpoints ---------------------------------------------------------------------


def test_trainer_overfits_a_tiny_set(one_torch_thread):
    from training.rollout.data import PositionBuilder
    from training.rollout.train import RolloutTrainConfig, accuracy, train_rollout_policy
    builder = PositionBuilder(7)
    rng = np.random.default_rng(0)
    for i in range(12):
        b = random_position(7, 20 + i, i)
        cands = list(features_of(b, BLACK))
        builder.add(b, BLACK, -1, -1, int(rng.choice(cands)), i)
    positions = builder.build()
    before = accuracy(RolloutModel.uniform().kernel_weights, positions)["top1"]
    model, history = train_rollout_policy(positions, RolloutTrainConfig(steps=150, batch_size=12, learning_rate=0.2,
                                                                        log_every=50), log=None)
    after = accuracy(RolloutModel(model.weight_vector()).kernel_weights, positions)["top1"]
    assert before < 0.3 and after >= 0.9
    assert history[-1]["loss"] < history[0]["loss"]


def test_checkpoint_round_trip_and_corruption(tmp_path):
    w = np.random.default_rng(1).normal(size=F.NUM_FEATURES).astype(np.float32)
    save_rollout_model(tmp_path / "r", w, step=7, extra={"top1": 0.3})
    model = load_rollout_model(tmp_path / "r.json")
    assert np.array_equal(model.weights, w) and model.meta["step"] == 7
    assert np.allclose(model.kernel_weights, np.exp(w.astype(np.float64)))
    data = bytearray((tmp_path / "r.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "r.safetensors").write_bytes(bytes(data))
    with pytest.raises(RolloutModelError, match="corrupt"):
        load_rollout_model(tmp_path / "r")
    with pytest.raises(RolloutModelError, match="missing"):
        load_rollout_model(tmp_path / "absent")


def test_a_rollout_checkpoint_with_nan_weights_is_refused(tmp_path):
    w = np.zeros(F.NUM_FEATURES, np.float32)
    w[3] = np.nan
    save_rollout_model(tmp_path / "r", w)  # its checksum is right: the file was written so
    with pytest.raises(RolloutModelError, match="NaN"):
        load_rollout_model(tmp_path / "r")


def test_torch_module_scores_match_the_kernel(tmp_path, one_torch_thread):
    torch = pytest.importorskip("torch")
    from goengine.nn.rollout_policy import RolloutPolicy
    from goengine.rollout import best_candidate
    module = RolloutPolicy()
    w = np.random.default_rng(2).normal(size=F.NUM_FEATURES).astype(np.float32)
    module.load_weight_vector(w)
    b = random_position(9, 30, 5)
    n_locs = b.shape[1]
    locs = np.zeros(n_locs, np.int64)
    feats = np.full((n_locs, F.NUM_SLOTS), -1, np.int64)
    k = F.candidate_features(b, WHITE, -1, -1, F.new_cache(n_locs), locs, feats)
    logits = module(torch.from_numpy(feats[None]), torch.tensor([k]))[0].detach().numpy()
    expected = np.array([w[[f for f in feats[i] if f >= 0]].sum() for i in range(k)])
    assert np.allclose(logits[:k], expected, atol=1e-4) and np.all(np.isneginf(logits[k:]))
    assert int(np.argmax(logits)) == best_candidate(feats, k, RolloutModel(w).kernel_weights)
    module.save(tmp_path / "m")
    assert np.array_equal(RolloutPolicy.load(tmp_path / "m").weight_vector(), w)
