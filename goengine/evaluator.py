"""The interface between the search and a network: features in, policy logits and values out.

This module is pure numpy, so the board, search and GTP code can be tested without torch;
`goengine.nn.TorchEvaluator` is the network-backed implementation.

| name            | dtype   | shape        | meaning                                              |
|-----------------|---------|--------------|------------------------------------------------------|
| features_bchw   | uint8   | [B, C, N, N] | C feature planes of B positions, all of one size N   |
| policy_logits   | float32 | [B, N*N + 1] | unnormalised log-probabilities, action order         |
|                 |         |              | (row-major from the top-left, then pass at N*N)      |
| value           | float32 | [B]          | expected outcome in [-1, 1] for the side to move     |

Logits for illegal moves are not masked here: the caller masks them.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Evaluator(Protocol):
    """Anything that turns a batch of feature planes into policy logits and values.

    `feature_set` names the encoder the evaluator expects (e.g. "agz"); `board_size` is the one
    size it accepts, or None when it plays any size.
    """

    feature_set: str
    board_size: int | None

    def evaluate(self, features_bchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ...


def check_features(features_bchw: np.ndarray, board_size: int | None,
                   in_planes: int | None = None) -> int:
    """Validate a feature batch; return its board size N."""
    if not isinstance(features_bchw, np.ndarray):
        raise TypeError(f"features must be a numpy array, got {type(features_bchw).__name__}")
    if features_bchw.ndim != 4 or features_bchw.shape[2] != features_bchw.shape[3]:
        raise ValueError(f"features must be [B, C, N, N], got shape {features_bchw.shape}")
    size = int(features_bchw.shape[3])
    if board_size is not None and size != board_size:
        raise ValueError(f"features are for a {size}x{size} board, evaluator expects "
                         f"{board_size}x{board_size}")
    if in_planes is not None and features_bchw.shape[1] != in_planes:
        raise ValueError(f"features have {features_bchw.shape[1]} planes, evaluator expects "
                         f"{in_planes}")
    return size


def outputs_in_orientation(evaluator, features_bchw: np.ndarray, symmetry: str):
    """The evaluator's full outputs (`evaluate_outputs`) in symmetry mode `symmetry` for this
    call where it has modes (goengine.nn's evaluators), else as it answers: for what must not
    depend on an orientation drawn at random."""
    evaluate_as = getattr(evaluator, "evaluate_outputs_as", None)
    return evaluate_as(features_bchw, symmetry) if evaluate_as is not None else evaluator.evaluate_outputs(features_bchw)


class UniformEvaluator:
    """Zero logits (a uniform policy) and zero values, for tests and pure-search baselines."""

    def __init__(self, size: int | None, feature_set: str = "agz"):
        self.board_size = size
        self.feature_set = feature_set

    def evaluate(self, features_bchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = check_features(features_bchw, self.board_size)
        batch = features_bchw.shape[0]
        return (np.zeros((batch, size * size + 1), dtype=np.float32),
                np.zeros(batch, dtype=np.float32))


class RandomEvaluator:
    """Pseudo-random logits (standard normal) and values (uniform in [-1, 1]) that depend only on
    each position's features and the seed, so a position gets the same answer in any batch, in
    any order, on every run."""

    def __init__(self, size: int | None, feature_set: str = "agz", seed: int = 0):
        self.board_size = size
        self.feature_set = feature_set
        self.seed = int(seed)

    def _generator(self, position: np.ndarray) -> np.random.Generator:
        digest = hashlib.blake2b(np.ascontiguousarray(position).tobytes(), digest_size=16,
                                 key=self.seed.to_bytes(16, "little", signed=True)).digest()
        return np.random.default_rng(int.from_bytes(digest, "little"))

    def evaluate(self, features_bchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = check_features(features_bchw, self.board_size)
        batch = features_bchw.shape[0]
        logits = np.empty((batch, size * size + 1), dtype=np.float32)
        values = np.empty(batch, dtype=np.float32)
        for i in range(batch):
            rng = self._generator(features_bchw[i])
            logits[i] = rng.standard_normal(size * size + 1)
            values[i] = rng.uniform(-1.0, 1.0)
        return logits, values


class FixedTimeEvaluator(UniformEvaluator):
    """A stand-in for an accelerator: every batch takes `ms_per_batch` of wall time (sleeping,
    so the CPU stays free for search), whatever its size, and answers as UniformEvaluator.
    It shows whether search processes keep an inference server busy without a GPU."""

    def __init__(self, size: int | None, feature_set: str = "agz", ms_per_batch: float = 20.0):
        super().__init__(size, feature_set)
        self.seconds_per_batch = ms_per_batch / 1000.0

    def evaluate(self, features_bchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import time

        out = super().evaluate(features_bchw)
        time.sleep(self.seconds_per_batch)
        return out
