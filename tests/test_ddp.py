"""DistributedDataParallel: two CPU processes (gloo) on the same data give the loss curve and
weights of one process, because the global batch's gradient is what both compute."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from goengine.features import get_feature_set
from goengine.nn import NetConfig, build_network
from training.dataset import TrainingBatch
from training.distributed import DistributedTrainer, spawn
from training.trainer import TrainConfig, Trainer

SIZE, STEPS, BATCH = 5, 8, 16
# Measured: the losses differ by at most 1.1e-7 relative (float32 summation order). Per-rank
# batch norm statistics made them differ by 0.13, per-rank mask normalisers by 0.04.
RTOL = 1e-4


PLANES = get_feature_set("agz").num_planes


def _net_config() -> NetConfig:
    return NetConfig.from_tag("b2c16", kind="policy_value", in_planes=PLANES, feature_set="agz", feature_version=1,
                              board_sizes=(SIZE,), ownership=True)


def _batches() -> list[TrainingBatch]:
    """Two batches of random samples, in turn, whose masks are partly zero, so a rank's share of
    the masks differs from the other's (a per-rank normaliser would show)."""
    rng = np.random.default_rng(7)
    actions = SIZE * SIZE + 1
    out = []
    for _ in range(2):
        policy = rng.random((BATCH, actions)).astype(np.float32)
        policy /= policy.sum(axis=1, keepdims=True)
        out.append(TrainingBatch(
            features=rng.integers(0, 2, (BATCH, PLANES, SIZE, SIZE), dtype=np.uint8),
            policy_target=policy, policy_mask=(rng.random(BATCH) < 0.6).astype(np.float32),
            value_target=rng.choice([-1.0, 1.0], BATCH).astype(np.float32),
            ownership_target=rng.choice([-1.0, 0.0, 1.0], (BATCH, SIZE * SIZE)).astype(np.float32),
            ownership_mask=(rng.random(BATCH) < 0.5).astype(np.float32),
            score_target=np.zeros(BATCH, np.float32), score_mask=np.zeros(BATCH, np.float32),
            symmetry=np.zeros(BATCH, np.int64)))
    return out * (STEPS // 2)


def _train_config() -> TrainConfig:
    return TrainConfig(batch_size=BATCH, learning_rate=0.05, device="cpu", precision="fp32",
                       ownership_loss_weight=0.5)


def _model():
    torch.manual_seed(0)
    return build_network(_net_config())


def _two_process_rank(ctx, out_path: str) -> None:
    trainer = DistributedTrainer(_model(), _net_config(), _train_config(), ctx)
    trainer.model.train()
    curve = []
    for batch in _batches():
        curve.append(trainer.global_terms(trainer.train_step(trainer.to_device(batch))))
    if ctx.rank == 0:
        weights = {k: v.tolist() for k, v in trainer.model.state_dict().items()}
        with open(out_path, "w") as f:
            json.dump({"curve": curve, "weights": weights}, f)


def test_two_gloo_processes_give_the_loss_curve_of_one(tmp_path):
    trainer = Trainer(_model(), _net_config(), _train_config())
    trainer.model.train()
    single = [{k: float(v) for k, v in trainer.train_step(trainer.to_device(b)).items()} for b in _batches()]

    out = tmp_path / "ddp.json"
    spawn(_two_process_rank, 2, (str(out),))
    ddp = json.loads(out.read_text())

    for name in ("loss", "policy_loss", "value_loss", "ownership_loss"):
        one = np.array([step[name] for step in single])
        two = np.array([step[name] for step in ddp["curve"]])
        assert np.allclose(two, one, rtol=RTOL, atol=1e-6), (name, one, two)
    assert single[-2]["loss"] < single[0]["loss"]  # it learns batch 0: the curve is worth comparing
    for name, tensor in trainer.model.state_dict().items():
        assert np.allclose(np.array(ddp["weights"][name]), tensor.numpy(), rtol=RTOL, atol=1e-5), name


def test_a_generation_trains_on_two_processes_and_only_rank_0_writes(tmp_path):
    from test_loop import run_loop, tiny_config
    from training import rundir

    state = run_loop(tmp_path, tiny_config(**{"training.processes": 2, "gating.mode": "always"}), 1)
    d = rundir.RunDir(tmp_path)
    assert state["phase"] == "done" and state["best"] == "000001-b2c16"
    history = state["history"][-1]
    assert history["train_steps"] == 4 and np.isfinite(history["loss"])
    assert sorted(p.name for p in d.models.glob("*.json")) == ["000000-b2c16.json", "000001-b2c16.json"]
    assert not list(d.models.glob(".*.tmp")) and not list(d.train_state.parent.glob(".*.tmp"))


@pytest.mark.parametrize("batch,world", [(16, 3)])
def test_a_batch_that_does_not_split_is_refused(batch, world):
    from training.config import load_preset

    with pytest.raises(ValueError, match="divide"):
        load_preset("5x5-smoke").override([f"training.batch_size={batch}", f"training.processes={world}"])
