"""Checkpoints: exact round trips, atomic layout, and clear errors for every broken case."""

import json

import numpy as np
import pytest
import torch

from goengine.nn import (CheckpointError, NetConfig, TorchEvaluator, build_network,
                         checkpoint_paths, load_checkpoint, make_model_id, read_checkpoint_meta,
                         save_checkpoint)


@pytest.fixture(autouse=True)
def one_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def trained_model(config, seed=0):
    """A network whose weights and batch-norm statistics all differ from a fresh one's."""
    torch.manual_seed(seed)
    model = build_network(config)
    size = config.board_sizes[0]
    model(torch.rand(8, config.in_planes, size, size))  # train mode: updates the running stats
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


CONFIG = NetConfig.from_tag("b2c16", kind="policy_value", in_planes=18, board_sizes=(7, 9),
                            global_pooling=2, ownership=True, score=True, head_channels=8,
                            value_hidden=16)


@pytest.fixture
def saved(tmp_path):
    model = trained_model(CONFIG)
    stem = tmp_path / "models" / make_model_id(13, CONFIG)
    save_checkpoint(stem, model, CONFIG, step=1234, parent_model_id="000012-b2c16",
                    model_id=make_model_id(13, CONFIG), train_config={"lr": 0.01, "batch": 256},
                    extra={"note": "unit test"})
    return stem, model


def test_round_trip_is_bitwise_exact(saved):
    stem, model = saved
    assert stem.name == "000013-b2c16"
    loaded, config, meta = load_checkpoint(stem, expect_feature_set="agz", expect_in_planes=18)
    assert config == CONFIG
    assert not loaded.training
    x = torch.rand(4, 18, 9, 9)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    for name, t in a._asdict().items():
        assert torch.equal(t, getattr(b, name)), name
    for name, t in model.state_dict().items():
        assert torch.equal(t, loaded.state_dict()[name]), name
    assert meta["step"] == 1234
    assert meta["model_id"] == "000013-b2c16"
    assert meta["parent_model_id"] == "000012-b2c16"
    assert meta["train_config"] == {"lr": 0.01, "batch": 256}
    assert meta["extra"] == {"note": "unit test"}
    assert meta["feature_set"] == "agz" and meta["board_sizes"] == [7, 9]
    assert meta["network_class"] == "PolicyValueNet"


def test_any_of_the_three_paths_loads(saved):
    stem, _ = saved
    weights, meta = checkpoint_paths(stem)
    assert weights.name == "000013-b2c16.safetensors" and meta.name == "000013-b2c16.json"
    for path in (stem, weights, meta, str(meta)):
        assert load_checkpoint(path)[1] == CONFIG


def test_only_the_two_files_are_left(saved):
    stem, _ = saved
    names = sorted(p.name for p in stem.parent.iterdir())
    assert names == ["000013-b2c16.json", "000013-b2c16.safetensors"]


def test_loading_never_unpickles(saved, monkeypatch):
    stem, _ = saved

    def refuse(*args, **kwargs):
        raise AssertionError("torch.load must not be used")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr("pickle.loads", refuse)
    monkeypatch.setattr("pickle.load", refuse)
    load_checkpoint(stem)


def test_overwrite_replaces_both_files(saved):
    stem, _ = saved
    other = trained_model(CONFIG, seed=5)
    save_checkpoint(stem, other, CONFIG, step=99)
    loaded, _, meta = load_checkpoint(stem)
    assert meta["step"] == 99
    x = torch.rand(2, 18, 7, 7)
    with torch.no_grad():
        assert torch.equal(loaded(x).policy_logits, other(x).policy_logits)


def test_evaluator_from_checkpoint(saved):
    stem, model = saved
    ev = TorchEvaluator.from_checkpoint(stem, expect_feature_set="agz", threads=1)
    assert ev.board_size is None and ev.feature_set == "agz"
    x = (np.random.default_rng(0).random((3, 18, 9, 9)) < 0.3).astype(np.uint8)
    policy, value = ev.evaluate(x)
    with torch.no_grad():
        out = model(torch.from_numpy(x).float())
    np.testing.assert_array_equal(policy, out.policy_logits.numpy())
    np.testing.assert_array_equal(value, out.value.numpy())


def test_missing_files(saved):
    stem, _ = saved
    weights, meta = checkpoint_paths(stem)
    weights.unlink()
    with pytest.raises(CheckpointError, match="weights .* missing"):
        load_checkpoint(stem)
    meta.unlink()
    with pytest.raises(CheckpointError, match=r"\.json.*missing"):
        load_checkpoint(stem)


def test_weights_without_json_are_incomplete(tmp_path):
    model = build_network(CONFIG)
    weights, meta = checkpoint_paths(tmp_path / "m")
    save_checkpoint(tmp_path / "m", model, CONFIG)
    meta.unlink()
    with pytest.raises(CheckpointError, match="never completed"):
        load_checkpoint(weights)


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_corrupt_weights(saved, damage):
    stem, _ = saved
    weights, _ = checkpoint_paths(stem)
    data = bytearray(weights.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[len(data) - 10] ^= 0x01
    else:
        data = b""
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(stem)


def test_feature_set_and_plane_expectations(saved):
    stem, _ = saved
    with pytest.raises(CheckpointError, match="feature set 'agz', expected 'alphago'"):
        load_checkpoint(stem, expect_feature_set="alphago")
    with pytest.raises(CheckpointError, match="18 input planes, expected 48"):
        load_checkpoint(stem, expect_in_planes=48)


def edit_meta(stem, change):
    _, meta_path = checkpoint_paths(stem)
    meta = json.loads(meta_path.read_text())
    change(meta)
    meta_path.write_text(json.dumps(meta))


def test_config_that_does_not_fit_the_weights(saved):
    stem, _ = saved
    edit_meta(stem, lambda m: m["config"].update(channels=24))
    with pytest.raises(CheckpointError, match="shape mismatches"):
        load_checkpoint(stem)
    edit_meta(stem, lambda m: m["config"].update(channels=16, blocks=3))
    with pytest.raises(CheckpointError, match="missing tensors"):
        load_checkpoint(stem)
    edit_meta(stem, lambda m: m["config"].update(blocks=2, ownership=False))
    with pytest.raises(CheckpointError, match="unexpected tensors"):
        load_checkpoint(stem)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_weights_that_are_not_finite_are_refused(tmp_path, value):
    """NaN weights used to load without complaint (their checksum is right: they were saved so)."""
    model = trained_model(CONFIG)
    with torch.no_grad():
        next(model.parameters())[0].view(-1)[0] = value
    stem = tmp_path / "nan"
    save_checkpoint(stem, model, CONFIG)
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        load_checkpoint(stem)


def test_a_config_is_checked_before_anything_is_allocated(saved, monkeypatch):
    """A JSON claiming 400 blocks x 2048 channels, checksum intact, made the loader allocate
    about 120 GB before looking at a shape. Bounds come first; within them, the network is laid
    out on the meta device (shapes only) and compared with the weights file's header."""
    from goengine.nn import checkpoint

    stem, _ = saved
    edit_meta(stem, lambda m: m["config"].update(blocks=400, channels=2048))
    with pytest.raises(CheckpointError, match="sane bounds.*blocks 400 > 128.*channels 2048 > 1024"):
        load_checkpoint(stem)
    built_on = []
    real_build = checkpoint.build_network

    def recording_build(config):
        model = real_build(config)
        built_on.append(next(model.parameters()).device.type)
        return model

    monkeypatch.setattr(checkpoint, "build_network", recording_build)
    edit_meta(stem, lambda m: m["config"].update(blocks=100, channels=1024))  # about 8 GB, within bounds
    with pytest.raises(CheckpointError, match="do not match the network config"):
        load_checkpoint(stem)
    assert built_on == ["meta"]
    edit_meta(stem, lambda m: m["config"].update(blocks=2, channels=16))
    load_checkpoint(stem)
    assert built_on == ["meta", "meta", "cpu"]


def test_bad_metadata(saved):
    stem, _ = saved
    edit_meta(stem, lambda m: m.update(network_class="ValueNet"))
    with pytest.raises(CheckpointError, match="network_class"):
        load_checkpoint(stem)
    edit_meta(stem, lambda m: m.update(network_class="PolicyValueNet", format_version=99))
    with pytest.raises(CheckpointError, match="format_version 99"):
        read_checkpoint_meta(stem)
    edit_meta(stem, lambda m: m.update(format_version=1, config={"kind": "policy", "wings": 2}))
    with pytest.raises(CheckpointError, match="invalid network config"):
        load_checkpoint(stem)
    _, meta_path = checkpoint_paths(stem)
    meta_path.write_text('{"format_version": 1, "config": ')
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(stem)


def test_saving_with_the_wrong_class_raises(tmp_path):
    policy_config = NetConfig.from_tag("b2c8", kind="policy")
    with pytest.raises(ValueError):
        save_checkpoint(tmp_path / "x", build_network(CONFIG), policy_config)
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_model_saves_and_loads_onto_the_device(saved, tmp_path):
    stem, model = saved
    loaded, _, _ = load_checkpoint(stem, device="cuda")
    assert next(loaded.parameters()).device.type == "cuda"
    save_checkpoint(tmp_path / "again", loaded, CONFIG, step=1)
    again, _, _ = load_checkpoint(tmp_path / "again")
    for name, t in model.state_dict().items():
        assert torch.equal(t, again.state_dict()[name]), name
