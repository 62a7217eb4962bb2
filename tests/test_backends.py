"""Every inference backend answers what torch answers, and the conversion cache notices a
replaced checkpoint and a damaged cache file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from goengine.nn import (BackendError, NetConfig, build_network, load_evaluator, resolve_backend,
                         save_checkpoint)
from goengine.nn.backends import installed
from goengine.nn.conversion_cache import SUBDIR

RUNTIMES = [pytest.param(b, marks=pytest.mark.skipif(not installed(b), reason=f"{b} is not installed"))
            for b in ("openvino", "onnxruntime")]
FAMILIES = {
    "policy": dict(kind="policy", blocks=4, channels=16, in_planes=48, feature_set="alphago"),
    "value": dict(kind="value", blocks=4, channels=16, in_planes=49, feature_set="alphago"),
    "policy_value": dict(kind="policy_value", blocks=3, channels=16, in_planes=18,
                         global_pooling=2, ownership=True, score=True),
}
TOLERANCE = 1e-4


def _trained(config: NetConfig, seed: int) -> torch.nn.Module:
    """A network whose weights and batch-norm statistics are far from their initial values:
    a few optimizer steps on random data in train mode (which also moves the running stats)."""
    torch.manual_seed(seed)
    model = build_network(config).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(20):
        x = (torch.rand(16, config.in_planes, 9, 9) < 0.3).float()
        out = model(x)
        loss = torch.zeros(())
        if out.policy_logits is not None:
            loss = loss + torch.nn.functional.cross_entropy(out.policy_logits, torch.randint(0, 82, (16,)))
        for t in out[1:]:
            if t is not None:
                loss = loss + (t - torch.rand_like(t)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def _features(config: NetConfig, size: int, batch: int = 6, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((batch, config.in_planes, size, size)) < 0.3).astype(np.uint8)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """{(family, trained): stem} for networks that accept every board size."""
    root = tmp_path_factory.mktemp("backends")
    stems = {}
    for family, fields in FAMILIES.items():
        config = NetConfig(board_sizes=(9, 19), **fields)
        for trained in (False, True):
            model = _trained(config, seed=3) if trained else build_network(config)
            stem = root / f"{family}-{'trained' if trained else 'random'}"
            save_checkpoint(stem, model, config)
            stems[family, trained] = stem
    return stems


@pytest.mark.parametrize("backend", RUNTIMES)
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("trained", [False, True], ids=["random", "trained"])
def test_every_backend_answers_what_torch_answers(checkpoints, backend, family, trained):
    stem = checkpoints[family, trained]
    reference = load_evaluator(stem, backend="torch", device="cpu", any_size=True)
    fast = load_evaluator(stem, backend=backend, any_size=True)
    for size in (9, 13, 19):
        x = _features(reference.config, size)
        want, got = reference.evaluate_outputs(x), fast.evaluate_outputs(x)
        assert all(np.isfinite(a).all() for a in want if a is not None)
        for field, a, b in zip(want._fields, want, got):
            assert (a is None) == (b is None), field
            if a is None:
                continue
            assert a.shape == b.shape and b.dtype == np.float32, field
            assert np.abs(a - b).max() < TOLERANCE, (field, size, float(np.abs(a - b).max()))
        if family == "policy_value":
            # the heads really differ between positions, so equality is not a constant answer
            assert np.ptp(want.value) > 1e-3 and np.ptp(want.policy_logits[:, 0]) > 1e-3


@pytest.mark.parametrize("backend", RUNTIMES)
def test_batches_of_any_length_and_symmetry_modes(checkpoints, backend):
    stem = checkpoints["policy_value", True]
    reference = load_evaluator(stem, backend="torch", device="cpu", symmetry="average", any_size=True)
    fast = load_evaluator(stem, backend=backend, symmetry="average", any_size=True, batch_size=5)
    for batch in (1, 7, 33):
        x = _features(reference.config, 9, batch=batch, seed=batch)
        a, b = reference.evaluate(x), fast.evaluate(x)
        assert np.abs(a[0] - b[0]).max() < TOLERANCE and np.abs(a[1] - b[1]).max() < TOLERANCE
    empty = fast.evaluate(np.zeros((0, 18, 9, 9), np.uint8))
    assert empty[0].shape == (0, 82) and empty[1].shape == (0,)


def _cache_files(stem, backend):
    folder = stem.parent / SUBDIR
    return sorted(p for p in folder.glob(f"{stem.name}.*.{backend}.*") if p.is_file())


@pytest.mark.parametrize("backend", RUNTIMES)
def test_a_replaced_checkpoint_is_converted_again(tmp_path, backend):
    config = NetConfig(kind="policy_value", blocks=1, channels=8, board_sizes=(9,))
    stem = tmp_path / "net"
    torch.manual_seed(0)
    save_checkpoint(stem, build_network(config), config)
    first = load_evaluator(stem, backend=backend)
    assert first.conversions == 1
    assert load_evaluator(stem, backend=backend).conversions == 0  # cached
    old_files = _cache_files(stem, backend)

    torch.manual_seed(1)
    replacement = build_network(config)
    save_checkpoint(stem, replacement, config)
    second = load_evaluator(stem, backend=backend)
    assert second.conversions == 1
    x = _features(config, 9)
    want = load_evaluator(stem, backend="torch", device="cpu").evaluate(x)
    got = second.evaluate(x)
    assert np.abs(want[0] - got[0]).max() < TOLERANCE
    assert np.abs(first.evaluate(x)[0] - got[0]).max() > 1e-3  # the old network really differed
    assert not set(old_files) & set(_cache_files(stem, backend)), "stale conversion left behind"


@pytest.mark.parametrize("backend", RUNTIMES)
@pytest.mark.parametrize("damage", ["truncate", "garbage", "manifest", "delete_one"])
def test_a_damaged_cache_is_ignored_and_rebuilt(tmp_path, backend, damage):
    config = NetConfig(kind="policy_value", blocks=1, channels=8, board_sizes=(9,))
    stem = tmp_path / "net"
    save_checkpoint(stem, build_network(config), config)
    x = _features(config, 9)
    want = load_evaluator(stem, backend=backend).evaluate(x)
    files = [p for p in _cache_files(stem, backend) if p.suffix != ".json"]
    manifest = next(p for p in _cache_files(stem, backend) if p.suffix == ".json")
    target = max(files, key=lambda p: p.stat().st_size)
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    elif damage == "garbage":
        data = bytearray(target.read_bytes())
        data[len(data) // 2: len(data) // 2 + 64] = os.urandom(64)
        target.write_bytes(bytes(data))
    elif damage == "manifest":
        manifest.write_text("{not json")
    else:
        target.unlink()
    again = load_evaluator(stem, backend=backend)
    assert again.conversions == 1
    got = again.evaluate(x)
    assert np.abs(want[0] - got[0]).max() < TOLERANCE and np.abs(want[1] - got[1]).max() < TOLERANCE
    assert json.loads(manifest.read_text())["weights_sha256"]


@pytest.mark.parametrize("backend", RUNTIMES)
def test_an_unwritable_checkpoint_folder_caches_in_the_user_cache(tmp_path, backend, monkeypatch):
    config = NetConfig(kind="policy_value", blocks=1, channels=8, board_sizes=(9,))
    folder = tmp_path / "installed"
    save_checkpoint(folder / "net", build_network(config), config)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    # Root may write anywhere, so the folder is made unwritable in the cache's own eyes.
    from goengine.nn import conversion_cache
    writable = conversion_cache._writable
    monkeypatch.setattr(conversion_cache, "_writable",
                        lambda f: not str(f).startswith(str(folder)) and writable(f))
    x = _features(config, 9)
    first = load_evaluator(folder / "net", backend=backend)
    second = load_evaluator(folder / "net", backend=backend)
    assert (first.conversions, second.conversions) == (1, 0)
    assert np.array_equal(first.evaluate(x)[0], second.evaluate(x)[0])
    assert not (folder / SUBDIR).exists()
    assert list((tmp_path / "user-cache").rglob(f"net.*.{backend}.json"))


def test_auto_resolves_to_a_runtime_that_exists():
    backend, device = resolve_backend("auto", "cpu")
    assert backend == ("openvino" if installed("openvino") else "torch") and device == "cpu"
    assert resolve_backend("torch", "cpu") == ("torch", "cpu")
    with pytest.raises(BackendError, match="unknown backend"):
        resolve_backend("tensorrt", "cpu")
    with pytest.raises(BackendError, match="CPU only"):
        resolve_backend("openvino", "cuda")


@pytest.mark.parametrize("native", [True, False], ids=["native-bf16", "no-bf16"])
def test_auto_precision_is_bf16_only_where_the_cpu_computes_it(monkeypatch, native):
    import goengine.nn.runtime as runtime
    from goengine.nn.backends import resolve_precision

    monkeypatch.setattr(runtime, "native_bf16", lambda: native)
    for backend in ("torch", "openvino"):
        assert resolve_precision("auto", backend, "cpu") == ("bf16" if native else None)
    # ONNX Runtime has no bf16 path here, and on CUDA the exact default already autocasts.
    assert resolve_precision("auto", "onnxruntime", "cpu") is None
    assert resolve_precision("auto", "torch", "cuda") is None
    for explicit in (None, "fp32", "bf16"):
        assert resolve_precision(explicit, "torch", "cpu") == explicit


def test_load_evaluator_runs_auto_precision_and_refuses_unknown_ones(checkpoints, monkeypatch):
    import goengine.nn.runtime as runtime

    monkeypatch.setattr(runtime, "native_bf16", lambda: True)
    evaluator = load_evaluator(checkpoints["policy_value", False], backend="torch", precision="auto")
    assert evaluator.description.endswith("bf16)")
    monkeypatch.setattr(runtime, "native_bf16", lambda: False)
    assert load_evaluator(checkpoints["policy_value", False], backend="torch",
                          precision="auto").description.endswith("fp32)")
    with pytest.raises(BackendError, match="precision must be auto, fp32 or bf16"):
        load_evaluator(checkpoints["policy_value", False], backend="torch", precision="fp16")


def test_play_commands_default_to_auto_precision_and_training_to_its_preset():
    import argparse

    from goengine.runtime_options import add_runtime_arguments

    play = argparse.ArgumentParser()
    add_runtime_arguments(play)
    assert play.parse_args([]).precision == "auto"
    assert play.parse_args(["--precision", "fp32"]).precision == "fp32"
    train = argparse.ArgumentParser()
    add_runtime_arguments(train, backend_default=None, precision_default=None)
    assert train.parse_args([]).precision is None
    with pytest.raises(SystemExit):
        play.parse_args(["--precision", "fp16"])
