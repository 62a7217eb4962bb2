"""`goengine train --init-from`: a new run's generation 0 is the named network (a checkpoint or
a bundled one), with that network as its parent; a network of another architecture is
refused before the run dir exists."""

from __future__ import annotations

import numpy as np
import torch

from goengine.cli import main
from goengine.nn import build_network, load_checkpoint, save_checkpoint
from training.config import load_preset
from training.models import create_initial_model, net_config_of
from training.rundir import RunDir


def _weights(stem) -> dict[str, np.ndarray]:
    model, _, _ = load_checkpoint(stem)
    return {k: v.float().numpy() for k, v in model.state_dict().items()}


def test_generation_zero_is_the_named_network(tmp_path):
    preset = load_preset("5x5-smoke")
    net = net_config_of(preset)
    torch.manual_seed(123)
    source = build_network(net)
    for p in source.parameters():
        p.data.normal_(0, 0.05)
    save_checkpoint(tmp_path / "parent" / "000009-x", source, net, model_id="000009-x")

    plain = RunDir(tmp_path / "plain")
    plain.create()
    seeded = RunDir(tmp_path / "seeded")
    seeded.create()
    random_id = create_initial_model(plain, preset)
    init_id = create_initial_model(seeded, preset.override([f"run.init_from={str(tmp_path / 'parent' / '000009-x')!r}"]))

    wanted, got, random = _weights(tmp_path / "parent" / "000009-x"), _weights(seeded.model_stem(init_id)), \
        _weights(plain.model_stem(random_id))
    assert all(np.array_equal(wanted[k], got[k]) for k in wanted)
    assert not all(np.array_equal(wanted[k], random[k]) for k in wanted if wanted[k].size > 1)
    _, _, meta = load_checkpoint(seeded.model_stem(init_id))
    assert meta["parent_model_id"] == "000009-x"


def test_a_network_of_another_architecture_is_refused_before_the_run_dir_exists(tmp_path, capsys):
    preset = load_preset("5x5-smoke")
    other = net_config_of(preset.override(["network.tag='b3c24'"]))
    save_checkpoint(tmp_path / "other", build_network(other), other)
    run_dir = tmp_path / "run"
    code = main(["train", "--preset", "5x5-smoke", "--run-dir", str(run_dir), "--init-from", str(tmp_path / "other"),
                 "--no-progress"])
    assert code == 2
    assert "not the run's network" in capsys.readouterr().err
    assert not run_dir.exists()
