"""Checkpoints: `<stem>.safetensors` (weights) plus `<stem>.json` (everything else).

The weights are a flat safetensors file of the model's state dict (batch-norm running stats
included), so loading never unpickles anything. The JSON holds:

| key               | meaning                                                           |
|-------------------|-------------------------------------------------------------------|
| format_version    | FORMAT_VERSION of this layout                                     |
| network_class     | "PolicyNet", "ValueNet" or "PolicyValueNet"                        |
| config            | NetConfig.to_dict()                                               |
| feature_set       | feature encoder name (copied from the config for quick reading)   |
| feature_version   | its version                                                       |
| board_sizes       | sizes trained on                                                  |
| step              | training steps taken                                              |
| model_id          | e.g. "000013-b6c64" (generation + tag), or null                    |
| parent_model_id   | the model this one was trained from, or null                      |
| train_config      | the trainer's settings (any JSON object), or null                 |
| extra             | anything else the caller wants kept (any JSON object), or null    |
| weights_file      | file name of the weights, next to the JSON                        |
| weights_sha256    | hex sha256 of the weights file                                    |
| created_utc       | ISO 8601 time of writing                                          |

Both files are written atomically (a temporary file in the same folder, then os.replace),
weights first and JSON last: a JSON file present means a complete checkpoint.

Loading trusts neither file. Before anything is allocated, the config must lie within
`CONFIG_BOUNDS` and the network it describes (built on torch's "meta" device, which holds
shapes only) must have exactly the tensors the weights file's header lists, with the same
shapes: a JSON claiming 400 blocks of 2048 channels fails here, not after asking for 120 GB.
Weights that are NaN or infinite are refused.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..atomic import atomic_write_path
from .config import NetConfig
from .networks import NETWORK_CLASSES, build_network

FORMAT_VERSION = 1
WEIGHTS_SUFFIX = ".safetensors"
META_SUFFIX = ".json"


# The largest networks a checkpoint may describe; well above any published Go network
# (KataGo's largest: 60 blocks, 320 channels (b28c512 in its nested form); AlphaGo Zero: 40 x 256).
CONFIG_BOUNDS = {"blocks": 128, "channels": 1024, "in_planes": 512, "head_channels": 1024,
                 "value_hidden": 4096}
MAX_BOARD_SIZE = 25


class CheckpointError(Exception):
    """A checkpoint that is missing, incomplete, corrupt, or not what the caller expects."""


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(weights, json) paths for a stem, a .json path or a .safetensors path."""
    path = Path(path)
    if path.suffix in (WEIGHTS_SUFFIX, META_SUFFIX):
        path = path.with_suffix("")
    return path.with_name(path.name + WEIGHTS_SUFFIX), path.with_name(path.name + META_SUFFIX)


def make_model_id(generation: int, config: NetConfig) -> str:
    """The model id convention: zero-padded generation and architecture tag, "000013-b6c64"."""
    return f"{generation:06d}-{config.tag}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(target: Path, write: Callable[[str], None]) -> str:
    """write(tmp_path) into a temporary file that then replaces target; returns the sha256 of
    what was written (taken before the rename, so it is what the reader will find)."""
    digest = []

    def write_and_hash(tmp: str) -> None:
        write(tmp)
        digest.append(file_sha256(Path(tmp)))

    atomic_write_path(target, write_and_hash)
    return digest[0]


def save_checkpoint(path: str | os.PathLike, model: nn.Module, config: NetConfig, *,
                    step: int = 0, parent_model_id: str | None = None,
                    model_id: str | None = None, train_config: dict | None = None,
                    extra: dict | None = None) -> Path:
    """Write `<stem>.safetensors` then `<stem>.json`; returns the JSON path."""
    weights_path, meta_path = checkpoint_paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    expected_class = NETWORK_CLASSES[config.kind]
    if type(model) is not expected_class:
        raise ValueError(f"config kind {config.kind!r} needs a {expected_class.__name__}, "
                         f"got {type(model).__name__}")
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in model.state_dict().items()}
    weights_sha256 = _write_atomically(weights_path, lambda tmp: save_file(
        tensors, tmp, metadata={"model_id": model_id or "", "tag": config.tag}))
    meta = {
        "format_version": FORMAT_VERSION,
        "network_class": expected_class.__name__,
        "config": config.to_dict(),
        "feature_set": config.feature_set,
        "feature_version": config.feature_version,
        "board_sizes": list(config.board_sizes),
        "step": int(step),
        "model_id": model_id,
        "parent_model_id": parent_model_id,
        "train_config": train_config,
        "extra": extra,
        "weights_file": weights_path.name,
        "weights_sha256": weights_sha256,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    text = json.dumps(meta, indent=2, sort_keys=True) + "\n"

    def write_meta(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    _write_atomically(meta_path, write_meta)
    return meta_path


def read_checkpoint_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON half of a checkpoint, checked for format only (the weights are not read)."""
    _, meta_path = checkpoint_paths(path)
    if not meta_path.is_file():
        raise CheckpointError(f"checkpoint metadata {meta_path} is missing (no .json: the "
                              f"checkpoint was never completed or the path is wrong)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"checkpoint metadata {meta_path} is unreadable: {e}") from e
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint metadata {meta_path} is not a JSON object")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {meta_path} has format_version {version!r}; this "
                              f"code reads version {FORMAT_VERSION}")
    for key in ("network_class", "config", "weights_sha256"):
        if key not in meta:
            raise CheckpointError(f"checkpoint metadata {meta_path} lacks {key!r}")
    return meta


def _config_of(meta: dict[str, Any], meta_path: Path) -> NetConfig:
    try:
        config = NetConfig.from_dict(meta["config"])
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"checkpoint {meta_path} has an invalid network config: {e}") from e
    expected_class = NETWORK_CLASSES[config.kind].__name__
    if meta["network_class"] != expected_class:
        raise CheckpointError(f"checkpoint {meta_path} says network_class "
                              f"{meta['network_class']!r} but its config kind {config.kind!r} "
                              f"builds a {expected_class}")
    return config


def _check_expectations(config: NetConfig, meta_path: Path, expect_feature_set: str | None,
                        expect_in_planes: int | None) -> None:
    if expect_feature_set is not None and config.feature_set != expect_feature_set:
        raise CheckpointError(f"checkpoint {meta_path} was trained on feature set "
                              f"{config.feature_set!r}, expected {expect_feature_set!r}")
    if expect_in_planes is not None and config.in_planes != expect_in_planes:
        raise CheckpointError(f"checkpoint {meta_path} takes {config.in_planes} input planes, "
                              f"expected {expect_in_planes}")


def _check_bounds(config: NetConfig, meta_path: Path) -> None:
    too_big = [f"{name} {getattr(config, name)} > {limit}" for name, limit in CONFIG_BOUNDS.items()
               if getattr(config, name) > limit]
    if max(config.board_sizes) > MAX_BOARD_SIZE:
        too_big.append(f"board size {max(config.board_sizes)} > {MAX_BOARD_SIZE}")
    if too_big:
        raise CheckpointError(f"checkpoint {meta_path} describes a network beyond the sane bounds "
                              f"({', '.join(too_big)}); the file is corrupt or not ours")


def _header_shapes(weights_path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from the weights file's header, no tensor read."""
    try:
        with safe_open(str(weights_path), framework="pt", device="cpu") as f:
            return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"checkpoint weights {weights_path} are unreadable: {e}") from e


def _check_finite(tensors: dict[str, torch.Tensor], weights_path: Path) -> None:
    bad = [name for name, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise CheckpointError(f"checkpoint weights {weights_path} hold NaN or infinite values in "
                              f"{bad[:5]}{' ...' if len(bad) > 5 else ''}")


def _check_tensors(model: nn.Module, found: dict[str, tuple[int, ...]], weights_path: Path) -> None:
    wanted = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    problems = []
    missing = sorted(set(wanted) - set(found))
    unexpected = sorted(set(found) - set(wanted))
    if missing:
        problems.append(f"missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(f"unexpected tensors {unexpected[:5]}"
                        f"{' ...' if len(unexpected) > 5 else ''}")
    wrong = [f"{name}: file {found[name]} vs config {wanted[name]}"
             for name in sorted(set(wanted) & set(found)) if found[name] != wanted[name]]
    if wrong:
        problems.append(f"shape mismatches {wrong[:5]}{' ...' if len(wrong) > 5 else ''}")
    if problems:
        raise CheckpointError(f"weights {weights_path} do not match the network config: "
                              + "; ".join(problems))


def load_checkpoint(path: str | os.PathLike, *, expect_feature_set: str | None = None,
                    expect_in_planes: int | None = None,
                    device: str | torch.device = "cpu") -> tuple[nn.Module, NetConfig, dict]:
    """Load `<stem>` (or its .json / .safetensors path) into a network in eval mode on `device`.

    Returns (model, config, meta). Raises CheckpointError when a file is missing, the weights'
    sha256 differs from the one recorded (truncated or corrupt), the feature set or plane count
    differs from the expected one, the config is beyond CONFIG_BOUNDS, the tensors do not fit
    the config, or a weight is NaN or infinite."""
    weights_path, meta_path = checkpoint_paths(path)
    meta = read_checkpoint_meta(meta_path)
    config = _config_of(meta, meta_path)
    _check_bounds(config, meta_path)
    _check_expectations(config, meta_path, expect_feature_set, expect_in_planes)
    if not weights_path.is_file():
        raise CheckpointError(f"checkpoint weights {weights_path} are missing")
    actual = file_sha256(weights_path)
    if actual != meta["weights_sha256"]:
        raise CheckpointError(f"checkpoint weights {weights_path} are corrupt or truncated: "
                              f"sha256 {actual} differs from {meta['weights_sha256']} recorded "
                              f"in {meta_path.name}")
    with torch.device("meta"):  # shapes only: nothing is allocated before they are checked
        _check_tensors(build_network(config), _header_shapes(weights_path), weights_path)
    try:
        tensors = load_file(weights_path, device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"checkpoint weights {weights_path} are unreadable: {e}") from e
    _check_finite(tensors, weights_path)
    model = build_network(config)
    model.load_state_dict(tensors, strict=True)
    model.to(device)
    model.eval()
    return model, config, meta
