"""AlphaGo's search with all its parts: priors from the SL policy network, leaf values
V = (1 - lambda) * value network + lambda * rollout outcome, rollouts played by the fast
rollout policy (Silver et al. 2016 used lambda = 0.5).

Without a value network the leaf value is the rollout alone (lambda is forced to 1); without a
rollout model the rollouts are uniformly random. Networks are loaded with torch
(`goengine.nn`), the rollout weights with numpy alone (`goengine.rollout.model`).
"""

from __future__ import annotations

import os
from typing import Optional

import numpy as np

from .combined_evaluator import CombinedEvaluator
from .players import PlayerConfig, SearchPlayer
from .search import SearchConfig

DEFAULT_LAMBDA = 0.5


def load_alphago_evaluator(sl_model: str | os.PathLike, value_model: Optional[str | os.PathLike] = None,
                           threads: Optional[int] = None, device: str = "cpu", backend: str = "auto",
                           precision: Optional[str] = None, log=None):
    """The SL policy network alone, or combined with the value network, on the runtime
    `backend` names (goengine.nn.backends)."""
    from .nn import load_evaluator

    options = dict(any_size=True, threads=threads, device=device, backend=backend, precision=precision,
                   log=log)
    policy = load_evaluator(sl_model, **options)
    if value_model is None:
        return policy
    return CombinedEvaluator(policy, load_evaluator(value_model, **options))


def load_rollout_weights(rollout_model: Optional[str | os.PathLike]) -> Optional[np.ndarray]:
    """The kernel weights of a rollout checkpoint, or None (uniform random rollouts)."""
    if rollout_model is None:
        return None
    from .rollout.model import load_rollout_model

    return load_rollout_model(rollout_model).kernel_weights


def alphago_config(base: SearchConfig, lam: float, has_value_network: bool) -> SearchConfig:
    """`base` with the leaf mixing weight: lambda as given with a value network, else 1."""
    return base.with_(rollout_lambda=float(lam) if has_value_network else 1.0)


def build_alphago_player(sl_model: str | os.PathLike, value_model: Optional[str | os.PathLike] = None,
                         rollout_model: Optional[str | os.PathLike] = None, lam: float = DEFAULT_LAMBDA,
                         size: int = 19, visits: int = 800, seed: int = 0, threads: Optional[int] = None,
                         device: str = "cpu", config: Optional[SearchConfig] = None,
                         max_moves: Optional[int] = None, name: str = "alphago",
                         play: PlayerConfig = PlayerConfig()) -> SearchPlayer:
    """A search player searching `visits` simulations a move with the SL policy's priors and
    leaf values mixed from the value network and rollouts by `lam`. `config` overrides the
    other search settings (its num_simulations is replaced by `visits`)."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must be in [0, 1], got {lam}")
    evaluator = load_alphago_evaluator(sl_model, value_model, threads=threads, device=device)
    base = (config or SearchConfig()).with_(num_simulations=visits)
    return SearchPlayer(alphago_config(base, lam, value_model is not None), size, evaluator, play=play, seed=seed,
                        max_moves=max_moves, rollout_weights=load_rollout_weights(rollout_model), name=name)
