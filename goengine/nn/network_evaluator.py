"""`NetworkEvaluator`: what every network backend (torch, OpenVINO, ONNX Runtime) shares behind
the numpy `Evaluator` interface (`goengine.evaluator`): input checks, symmetry modes, chunking
and the shape of the answer. A backend implements only `_forward(features) -> EvalOutput` on
one chunk of uint8 features [b, C, N, N].

Outputs are float32 numpy arrays: policy_logits [B, N*N + 1] and value [B] (tanh, side to
move), plus ownership [B, N*N] and score [B] from `evaluate_outputs` when the network has those
heads. A policy-only network answers value 0; a value-only network answers zero logits (a
uniform policy).

Symmetry modes:
- "none": the position as given.
- "random": each position is evaluated under one of the 8 board symmetries, drawn from the
  evaluator's own seeded generator, and the policy (and ownership) is mapped back.
- "average": all 8 symmetries are evaluated (8x the work) and averaged. Policy logits are
  averaged after mapping back, which is a geometric mean of the 8 policies (renormalised by
  the softmax), not the arithmetic mean of probabilities; value, ownership and score are
  plain means. The result is invariant under symmetries of the input position.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from ..evaluator import check_features
from ..symmetry import NUM_SYMMETRIES, apply_features, invert_points, invert_policy
from .config import NetConfig

SYMMETRY_MODES = ("none", "random", "average")


class EvalOutput(NamedTuple):
    policy_logits: np.ndarray  # float32 [B, N*N + 1]
    value: np.ndarray  # float32 [B]
    ownership: Optional[np.ndarray] = None  # float32 [B, N*N]
    score: Optional[np.ndarray] = None  # float32 [B]


def complete_output(policy: Optional[np.ndarray], value: Optional[np.ndarray],
                    ownership: Optional[np.ndarray], score: Optional[np.ndarray],
                    size: int) -> EvalOutput:
    """Fill what a policy-only or value-only network does not produce (zero logits: uniform;
    value 0) so every backend answers the same shapes."""
    batch = (policy if policy is not None else value).shape[0]
    if policy is None:
        policy = np.zeros((batch, size * size + 1), dtype=np.float32)
    if value is None:
        value = np.zeros(batch, dtype=np.float32)
    return EvalOutput(policy, value, ownership, score)


class NetworkEvaluator:
    """The Evaluator protocol over a network of `config`; subclasses run the network.

    `board_size` is the size the network was trained on (None for a multi-size network), so a
    mismatched position raises; any_size=True accepts every size. `backend` names the runtime
    ("torch", "openvino", "onnxruntime") and `description` says what runs, for the log line."""

    backend = "none"

    def __init__(self, config: NetConfig, *, symmetry: str = "none", batch_size: int | None = None,
                 seed: int = 0, any_size: bool = False):
        if symmetry not in SYMMETRY_MODES:
            raise ValueError(f"symmetry must be one of {SYMMETRY_MODES}, got {symmetry!r}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.config = config
        self.feature_set = config.feature_set
        self.board_size = None if any_size else config.board_size
        self.symmetry = symmetry
        self.batch_size = batch_size
        self._rng = np.random.default_rng(seed)

    @property
    def description(self) -> str:
        return self.backend

    def _forward(self, features: np.ndarray, size: int) -> EvalOutput:
        raise NotImplementedError

    def evaluate(self, features_bchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.evaluate_outputs(features_bchw)
        return out.policy_logits, out.value

    def evaluate_outputs(self, features_bchw: np.ndarray) -> EvalOutput:
        return self.evaluate_outputs_as(features_bchw, self.symmetry)

    def evaluate_outputs_as(self, features_bchw: np.ndarray, symmetry: str) -> EvalOutput:
        """evaluate_outputs in symmetry mode `symmetry` for this call: answers that must not
        depend on a draw (final status, kata-raw-nn) ask for "average" or "none"."""
        if symmetry not in SYMMETRY_MODES:
            raise ValueError(f"symmetry must be one of {SYMMETRY_MODES}, got {symmetry!r}")
        size = check_features(features_bchw, self.board_size, self.config.in_planes)
        if features_bchw.shape[0] == 0:
            return self._empty(size)
        if symmetry == "none":
            return self._run(features_bchw, size)
        if symmetry == "random":
            return self._run_random(features_bchw, size)
        return self._run_average(features_bchw, size)

    def _run_random(self, features: np.ndarray, size: int) -> EvalOutput:
        ks = self._rng.integers(0, NUM_SYMMETRIES, size=features.shape[0])
        transformed = np.empty_like(features)
        for k in np.unique(ks):
            transformed[ks == k] = apply_features(features[ks == k], int(k))
        out = self._run(transformed, size)
        policy, ownership = out.policy_logits, out.ownership
        for k in np.unique(ks):
            rows = ks == k
            policy[rows] = invert_policy(policy[rows], int(k), size)
            if ownership is not None:
                ownership[rows] = invert_points(ownership[rows], int(k), size)
        return out

    def _run_average(self, features: np.ndarray, size: int) -> EvalOutput:
        batch = features.shape[0]
        stacked = np.concatenate([apply_features(features, k) for k in range(NUM_SYMMETRIES)])
        out = self._run(stacked, size)
        policy = out.policy_logits.reshape(NUM_SYMMETRIES, batch, -1)
        policy = np.mean([invert_policy(policy[k], k, size) for k in range(NUM_SYMMETRIES)],
                         axis=0, dtype=np.float32)
        ownership = None
        if out.ownership is not None:
            owned = out.ownership.reshape(NUM_SYMMETRIES, batch, -1)
            ownership = np.mean([invert_points(owned[k], k, size) for k in range(NUM_SYMMETRIES)],
                                axis=0, dtype=np.float32)
        score = None
        if out.score is not None:
            score = out.score.reshape(NUM_SYMMETRIES, batch).mean(axis=0, dtype=np.float32)
        value = out.value.reshape(NUM_SYMMETRIES, batch).mean(axis=0, dtype=np.float32)
        return EvalOutput(policy, value, ownership, score)

    def _run(self, features: np.ndarray, size: int) -> EvalOutput:
        """The network on every position as given, in chunks of batch_size."""
        batch = features.shape[0]
        chunk = self.batch_size or batch
        parts = [self._forward(np.ascontiguousarray(features[start:start + chunk]), size)
                 for start in range(0, batch, chunk)]
        if len(parts) == 1:
            return parts[0]
        return EvalOutput(*[None if parts[0][i] is None else np.concatenate([p[i] for p in parts])
                            for i in range(len(EvalOutput._fields))])

    def _empty(self, size: int) -> EvalOutput:
        return EvalOutput(np.zeros((0, size * size + 1), np.float32), np.zeros(0, np.float32),
                          np.zeros((0, size * size), np.float32) if self.config.ownership else None,
                          np.zeros(0, np.float32) if self.config.score else None)
