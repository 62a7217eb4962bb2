"""`goengine train --executor/--address/--async/--threads`: the local executor needs no Ray, asking
for Ray without it says how to install it, weights shipped to actors arrive intact, and the
trainer's thread count is the user's to set."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gtp_helpers import engine_env


def test_the_local_executor_never_imports_ray():
    code = ("import sys, training.cli, training.loop, selfplay.workers\n"
            "from training.config import load_preset\n"
            "assert load_preset('5x5-smoke').run.executor == 'local'\n"
            "assert 'ray' not in sys.modules, 'ray imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=engine_env(), timeout=120)


def test_asking_for_ray_without_it_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    from goengine.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where it is not installed
    run_dir = tmp_path / "run"
    assert main(["train", "--preset", "5x5-smoke", "--run-dir", str(run_dir), "--executor", "ray",
                 "--address", "auto", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install -e '.[ray]'" in err, err
    assert not run_dir.exists()


def test_async_needs_the_ray_executor(tmp_path, capsys):
    from goengine.cli import main

    assert main(["train", "--preset", "5x5-smoke", "--run-dir", str(tmp_path / "run"), "--async"]) == 2
    assert "--executor ray" in capsys.readouterr().err


def test_the_cluster_settings_may_change_between_restarts():
    import argparse

    from training.cli import resolve_config
    from training.config import load_preset

    saved = load_preset("5x5-smoke")
    args = argparse.Namespace(preset=None, set=[], generations=None, device=None, workers=None, reconfigure=False,
                              executor="ray", address="auto", asynchronous=False)
    config = resolve_config(args, saved)
    assert (config.run.executor, config.run.ray_address, config.run.mode) == ("ray", "auto", "generational")
    args.asynchronous = True
    with pytest.raises(ValueError, match="run.mode"):  # a generational run dir stays generational
        resolve_config(args, saved)


def test_shipped_weights_arrive_intact_and_a_damaged_checkpoint_is_not_shipped(tmp_path):
    from goengine.nn import load_evaluator
    from selfplay.shipped_weights import ShippedWeights
    from training.config import load_preset
    from training.models import create_initial_model
    from training.rundir import RunDir

    d = RunDir(tmp_path / "run")
    d.create()
    model_id = create_initial_model(d, load_preset("5x5-smoke"))
    shipped = ShippedWeights.from_checkpoint(d.model_stem(model_id))
    stem = shipped.materialize(tmp_path / "cache")
    assert stem == str(tmp_path / "cache" / shipped.sha256 / model_id)
    assert load_evaluator(stem, backend="torch").board_size in (None, 5)
    assert shipped.materialize(tmp_path / "cache") == stem  # found in the cache the second time

    weights = d.model_stem(model_id).with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ValueError, match="sha256"):
        ShippedWeights.from_checkpoint(d.model_stem(model_id))


def test_node_actors_serve_where_the_cluster_has_gpus_and_actors_evaluate_themselves_elsewhere():
    from selfplay.ray_node import plan_nodes

    def plan(mode, device, cpus, gpus, per_node=0):
        planned = plan_nodes(mode, device, cpus, gpus, per_node, 17, "agz")
        return None if planned is None else (planned[0].device, planned[0].gpus, planned[0].workers, planned[1])

    # Two nodes of 32 CPUs and 4 GPUs: one node actor per GPU with its 8 CPUs' search processes.
    assert plan("auto", "auto", 64, 8) == ("cuda", 1, 8, 8)
    assert plan("auto", "cuda", 64, 8, per_node=16) == ("cuda", 1, 16, 4)  # CPUs for 4 GPUs' worth only
    assert plan("auto", "cpu", 64, 8) is None
    assert plan("auto", "auto", 64, 0) is None
    assert plan("actor", "auto", 64, 8) is None
    assert plan("node", "auto", 6, 0, per_node=2) == ("cpu", 0, 2, 3)


@pytest.mark.parametrize("change, message", [
    ("run.ray_inference='gpu'", "run.ray_inference must be auto, node or actor"),
    ("run.ray_workers_per_node=-1", "run.ray_workers_per_node must be >= 0"),
])
def test_the_node_inference_settings_are_checked(change, message):
    from training.config import load_preset

    with pytest.raises(ValueError, match=message):
        load_preset("5x5-smoke").override([change])


def test_the_asynchronous_loop_does_not_take_node_actors():
    from training.config import load_preset

    with pytest.raises(ValueError, match="generational self-play only"):
        load_preset("5x5-smoke").override(["run.executor='ray'", "run.mode='async'", "run.ray_inference='node'"])


def test_threads_caps_the_trainer_and_may_change_between_restarts(tmp_path):
    import argparse

    from training.cli import resolve_config
    from training.config import load_preset

    saved = load_preset("5x5-smoke")
    args = argparse.Namespace(preset=None, set=[], generations=None, device=None, workers=None, reconfigure=False,
                              threads=1)
    config = resolve_config(args, saved)
    assert config.run.threads == 1 and saved.run.threads == 0
    args.set, args.threads = ["run.threads=-1"], None
    with pytest.raises(ValueError, match="run.threads"):
        resolve_config(args, saved)
    # torch's thread count is process-wide: look at it in a process of its own
    code = ("import torch\n"
            "from training.config import load_preset\n"
            "from training.loop import TrainingLoop\n"
            "torch.set_num_threads(2)\n"
            "for threads, expect in ((0, 2), (1, 1)):\n"
            "    config = load_preset('5x5-smoke').override([f'run.threads={threads}', \"run.device='cpu'\"])\n"
            f"    loop = TrainingLoop({str(tmp_path / 'run')!r}, config, log=lambda m: None)\n"
            "    loop._use_trainer_threads()\n"
            "    assert torch.get_num_threads() == expect, (threads, torch.get_num_threads())\n"
            "    assert ('trainer 1 thread' in loop._runtime_line()) == (threads == 1)\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=engine_env(), timeout=120)
