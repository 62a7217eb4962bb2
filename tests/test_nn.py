"""Networks, configs, the torch evaluator and the numpy evaluators."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from goengine import symmetry as sym
from goengine.evaluator import Evaluator, RandomEvaluator, UniformEvaluator
from goengine.nn import (KINDS, NetConfig, PolicyNet, PolicyValueNet, TorchEvaluator, ValueNet,
                         build_network)


@pytest.fixture(autouse=True)
def one_thread():
    """Torch's thread pool spins badly when other processes share the cores; tests use one."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def random_features(batch, planes, size, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((batch, planes, size, size)) < 0.3).astype(np.uint8)


def tiny(kind="policy_value", **fields):
    fields.setdefault("head_channels", 8)
    fields.setdefault("value_hidden", 16)
    return NetConfig.from_tag(fields.pop("tag", "b2c16"), kind=kind, **fields)


# --- config --------------------------------------------------------------------------------

def test_tag_round_trip_and_dict():
    config = NetConfig.from_tag("b6c64", kind="policy_value", in_planes=18, board_sizes=(9, 19))
    assert (config.blocks, config.channels, config.tag) == (6, 64, "b6c64")
    assert config.board_size is None
    assert NetConfig.from_dict(config.to_dict()) == config
    assert NetConfig.from_tag("b13c192", kind="policy", board_sizes=19).board_size == 19


@pytest.mark.parametrize("bad", ["6c64", "b6", "b6c", "c64b6", "b6c64x"])
def test_bad_tags_raise(bad):
    with pytest.raises(ValueError):
        NetConfig.from_tag(bad)


def test_invalid_configs_raise():
    with pytest.raises(ValueError):
        NetConfig(kind="policy-value")
    with pytest.raises(ValueError):
        NetConfig(kind="policy", ownership=True)
    with pytest.raises(ValueError):
        NetConfig(kind="value", blocks=1)
    with pytest.raises(ValueError):
        NetConfig.from_dict({"kind": "policy", "colour": 3})


# --- shapes --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_one_network_plays_several_sizes(kind):
    config = tiny(kind, in_planes=18)
    model = build_network(config).eval()
    assert type(model) is {"policy": PolicyNet, "value": ValueNet,
                           "policy_value": PolicyValueNet}[kind]
    for size in (5, 9, 19):
        out = model(torch.rand(3, 18, size, size))
        if kind == "value":
            assert out.policy_logits is None
        else:
            assert out.policy_logits.shape == (3, size * size + 1)
        if kind == "policy":
            assert out.value is None
        else:
            assert out.value.shape == (3,)
            assert torch.all(out.value.abs() <= 1)
        assert out.ownership is None and out.score is None


def test_optional_heads_and_global_pooling_shapes():
    config = tiny(tag="b3c16", global_pooling=2, ownership=True, score=True, in_planes=49)
    model = build_network(config).eval()
    assert sum(type(b).__name__ == "GlobalPoolingResidualBlock" for b in model.tower) == 1
    for size in (5, 9, 19):
        out = model(torch.rand(2, 49, size, size))
        assert out.policy_logits.shape == (2, size * size + 1)
        assert out.value.shape == (2,)
        assert out.ownership.shape == (2, size * size)
        assert torch.all(out.ownership.abs() <= 1)
        assert out.score.shape == (2,)


def test_alphago_policy_net_depth():
    model = build_network(NetConfig.from_tag("b13c8", kind="policy", in_planes=48))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    # 12 trunk layers plus the head: 1x1 conv block and 1x1 output conv
    assert [c.kernel_size[0] for c in model.trunk.modules() if isinstance(c, torch.nn.Conv2d)] \
        == [5] + [3] * 11
    assert len(convs) == 14
    assert not any("Residual" in type(m).__name__ for m in model.modules())


# --- learning ------------------------------------------------------------------------------

def loss_of(out, policy_target, value_target):
    loss = torch.zeros(())
    if out.policy_logits is not None:
        loss = loss + torch.nn.functional.cross_entropy(out.policy_logits, policy_target)
    if out.value is not None:
        loss = loss + torch.nn.functional.mse_loss(out.value, value_target)
    return loss


@pytest.mark.parametrize("kind, steps", [("policy_value", 200), ("policy", 100), ("value", 100)])
def test_overfits_one_small_batch(kind, steps):
    torch.manual_seed(0)
    size, batch = 5, 16
    config = tiny(kind, in_planes=18, board_sizes=(size,))
    model = build_network(config)
    x = torch.from_numpy(random_features(batch, 18, size, seed=1)).float()
    rng = np.random.default_rng(2)
    policy_target = torch.from_numpy(rng.integers(0, size * size + 1, batch))
    value_target = torch.from_numpy(rng.choice([-1.0, 1.0], batch).astype(np.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(steps):
        loss = loss_of(model(x), policy_target, value_target)
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        final = loss_of(model(x), policy_target, value_target).item()
    assert first > 0.9
    assert final < 0.05, (first, final)


# --- TorchEvaluator ------------------------------------------------------------------------

def evaluator(symmetry="none", **fields):
    torch.manual_seed(3)
    config = tiny(board_sizes=(7,), global_pooling=1, ownership=True, score=True, **fields)
    model = build_network(config)
    with torch.no_grad():  # give batch norm non-trivial statistics
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return TorchEvaluator(model, config, symmetry=symmetry, threads=1)


def test_evaluator_matches_model_and_protocol():
    ev = evaluator()
    assert isinstance(ev, Evaluator)
    x = random_features(5, 18, 7)
    policy, value = ev.evaluate(x)
    assert policy.dtype == np.float32 and policy.shape == (5, 50)
    assert value.dtype == np.float32 and value.shape == (5,)
    with torch.no_grad():
        out = ev.model(torch.from_numpy(x).float())
    np.testing.assert_allclose(policy, out.policy_logits.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(value, out.value.numpy(), rtol=1e-5, atol=1e-6)
    assert not ev.model.training


def test_evaluator_chunks_and_empty_batches():
    ev = evaluator()
    x = random_features(7, 18, 7, seed=4)
    whole = ev.evaluate_outputs(x)
    ev.batch_size = 3
    chunked = ev.evaluate_outputs(x)
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    policy, value = ev.evaluate(x[:0])
    assert policy.shape == (0, 50) and value.shape == (0,)


def test_evaluator_rejects_wrong_inputs():
    ev = evaluator()
    with pytest.raises(ValueError, match="planes"):
        ev.evaluate(random_features(2, 17, 7))
    with pytest.raises(ValueError, match="9x9"):
        ev.evaluate(random_features(2, 18, 9))
    with pytest.raises(ValueError):
        ev.evaluate(np.zeros((2, 18, 7, 6), np.uint8))
    with pytest.raises(ValueError):
        TorchEvaluator(ev.model, ev.config, symmetry="all")


def test_average_symmetry_is_invariant():
    ev = evaluator("average")
    size = 7
    x = random_features(3, 18, size, seed=5)
    base = ev.evaluate_outputs(x)
    for k in range(8):
        out = ev.evaluate_outputs(sym.apply_features(x, k))
        np.testing.assert_allclose(out.policy_logits, sym.apply_policy(base.policy_logits, k, size),
                                   rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(out.value, base.value, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(out.ownership, sym.apply_points(base.ownership, k, size),
                                   rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(out.score, base.score, rtol=1e-4, atol=1e-5)
    # the plain network is not invariant, so the test above could fail
    plain = TorchEvaluator(ev.model, ev.config, symmetry="none", threads=1)
    turned = plain.evaluate(sym.apply_features(x, 1))[1]
    assert not np.allclose(turned, plain.evaluate(x)[1], atol=1e-4)


def test_random_symmetry_maps_policy_back():
    ev = evaluator("random")
    size = 7
    x = random_features(6, 18, size, seed=6)
    plain = TorchEvaluator(ev.model, ev.config, symmetry="none", threads=1)
    candidates = []
    for k in range(8):
        policy, value = plain.evaluate(sym.apply_features(x, k))
        candidates.append((sym.invert_policy(policy, k, size), value))
    used = set()
    for _ in range(4):
        policy, value = ev.evaluate(x)
        for i in range(len(x)):
            ks = [k for k, (p, v) in enumerate(candidates)
                  if np.allclose(policy[i], p[i], atol=1e-5) and np.isclose(value[i], v[i], atol=1e-5)]
            assert ks, f"position {i} matches no back-mapped symmetry"
            used.update(ks)
    assert len(used) > 1


def test_a_random_orientation_evaluator_answers_steadily_when_asked():
    """final_status and final_score read the ownership head in all 8 orientations, so a search
    that draws its orientations still scores a position the same way every time."""
    from goengine.coords import loc_of_vertex
    from goengine.game import GameState
    from goengine.ownership import network_ownership

    ev = evaluator("random")
    x = random_features(3, 18, 7, seed=8)
    averaged = TorchEvaluator(ev.model, ev.config, symmetry="average", threads=1).evaluate_outputs(x)
    np.testing.assert_allclose(ev.evaluate_outputs_as(x, "average").ownership, averaged.ownership, rtol=1e-5)
    draws = {ev.evaluate_outputs(x).policy_logits.tobytes() for _ in range(6)}
    assert len(draws) > 1  # the plain call does draw
    game = GameState(7, komi=7.5)
    game.play(loc_of_vertex("C3", 7))
    first = network_ownership(game, ev)
    for _ in range(5):
        np.testing.assert_array_equal(network_ownership(game, ev), first)


def test_single_head_networks_fill_in_the_other_output():
    x = random_features(2, 18, 5)
    for kind in ("policy", "value"):
        config = tiny(kind, board_sizes=(5,))
        policy, value = TorchEvaluator(build_network(config), config, threads=1).evaluate(x)
        assert policy.shape == (2, 26) and value.shape == (2,)
        if kind == "policy":
            assert not np.all(policy == 0) and np.all(value == 0)
        else:
            assert np.all(policy == 0) and not np.all(value == 0)


# --- numpy evaluators ----------------------------------------------------------------------

def test_uniform_evaluator():
    ev = UniformEvaluator(9, "agz")
    assert isinstance(ev, Evaluator)
    policy, value = ev.evaluate(random_features(4, 18, 9))
    assert policy.shape == (4, 82) and np.all(policy == 0) and policy.dtype == np.float32
    assert value.shape == (4,) and np.all(value == 0)
    with pytest.raises(ValueError):
        ev.evaluate(random_features(4, 18, 5))


def test_random_evaluator_is_a_function_of_position_and_seed():
    ev = RandomEvaluator(5, "agz", seed=7)
    assert isinstance(ev, Evaluator)
    x = random_features(6, 18, 5, seed=8)
    policy, value = ev.evaluate(x)
    assert policy.shape == (6, 26) and value.shape == (6,)
    assert np.all(np.abs(value) <= 1)
    order = [5, 2, 0, 3, 1, 4]
    p2, v2 = ev.evaluate(x[order])
    np.testing.assert_array_equal(p2, policy[order])
    np.testing.assert_array_equal(v2, value[order])
    p3, v3 = RandomEvaluator(5, "agz", seed=7).evaluate(x[2:3])
    np.testing.assert_array_equal(p3[0], policy[2])
    assert len(set(value.tolist())) == 6
    p4, _ = RandomEvaluator(5, "agz", seed=8).evaluate(x)
    assert not np.allclose(p4, policy)


def test_cpu_bf16_is_opt_in_and_close_to_float32():
    exact = evaluator()
    x = random_features(8, 18, 7, seed=10)
    expected = exact.evaluate_outputs(x)
    fast = TorchEvaluator(exact.model, exact.config, threads=1, bf16=True).evaluate_outputs(x)
    assert fast.policy_logits.dtype == np.float32
    assert not np.array_equal(fast.policy_logits, expected.policy_logits)  # bf16 was used
    for a, b in zip(fast, expected):
        np.testing.assert_allclose(a, b, atol=0.1 * max(1.0, float(np.abs(b).max())))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_evaluator_matches_cpu_within_bf16_precision():
    cpu = evaluator()
    x = random_features(16, 18, 7, seed=9)
    expected = cpu.evaluate_outputs(x)
    for bf16, tolerance in ((False, 1e-3), (True, 0.1)):
        gpu = TorchEvaluator(cpu.model, cpu.config, device="cuda", bf16=bf16)
        out = gpu.evaluate_outputs(x)
        assert out.policy_logits.dtype == np.float32
        for name in ("policy_logits", "value", "ownership", "score"):
            a, b = getattr(out, name), getattr(expected, name)
            scale = max(1.0, float(np.abs(b).max()))
            np.testing.assert_allclose(a, b, atol=tolerance * scale, err_msg=f"{name} bf16={bf16}")
        cpu.model.to("cpu")


def test_openmp_spin_count_is_set_before_torch_loads():
    code = "import os, goengine.nn, torch; print(os.environ.get('GOMP_SPINCOUNT'))"
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1000"
