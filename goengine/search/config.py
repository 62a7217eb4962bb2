"""Search settings: one frozen value built at the entry point (from a preset or the command line)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional


@dataclass(frozen=True)
class SearchConfig:
    num_simulations: int = 200
    # PUCT: "constant" uses c_puct; "alphazero" uses c(s) = log((1 + N + c_base) / c_base) + c_init.
    puct: str = "alphazero"
    c_puct: float = 1.5
    c_base: float = 19652.0
    c_init: float = 1.25
    # First-play urgency (Leela Zero): an unvisited child's Q is the node's own evaluation minus
    # reduction * sqrt(sum of the priors of the visited children).
    fpu_reduction: float = 0.25
    fpu_root_reduction: float = 0.0
    # Root Dirichlet noise; alpha None scales AlphaZero's 0.03 to the board: 0.03 * 361 / N^2.
    dirichlet_noise: bool = False
    dirichlet_alpha: Optional[float] = None
    dirichlet_weight: float = 0.25
    # Leaves per tree per batch, kept apart by virtual loss (each counts as a visit that lost).
    leaves_per_tree: int = 8
    virtual_loss: int = 1
    policy_softmax_temperature: float = 1.0
    # Leaf evaluation V = (1 - lambda) * value network + lambda * rollout outcome (AlphaGo: 0.5).
    rollout_lambda: float = 0.0
    # Move choice.
    temperature: float = 1.0
    temperature_moves: int = 0  # moves of the game played at `temperature`; greedy after
    use_lcb: bool = False
    lcb_min_visit_fraction: float = 0.1
    # Gumbel root search (Danihelka et al. 2022): sequential halving over gumbel_m actions.
    gumbel: bool = False
    gumbel_m: int = 16
    gumbel_c_visit: float = 50.0
    gumbel_c_scale: float = 1.0
    # Capacity: nodes per tree are num_simulations * tree_memory_factor (tree reuse needs room).
    tree_memory_factor: int = 4

    def __post_init__(self) -> None:
        if self.num_simulations < 1:
            raise ValueError("num_simulations must be at least 1")
        if self.puct not in ("constant", "alphazero"):
            raise ValueError(f"puct must be 'constant' or 'alphazero', got {self.puct!r}")
        if not 0.0 <= self.rollout_lambda <= 1.0:
            raise ValueError("rollout_lambda must be in [0, 1]")
        if self.leaves_per_tree < 1 or self.virtual_loss < 0:
            raise ValueError("leaves_per_tree must be >= 1 and virtual_loss >= 0")
        if not 0.0 <= self.dirichlet_weight <= 1.0:
            raise ValueError("dirichlet_weight must be in [0, 1]")
        if self.gumbel and self.gumbel_m < 1:
            raise ValueError("gumbel_m must be at least 1")

    def with_(self, **changes) -> "SearchConfig":
        return replace(self, **changes)

    def alpha_for(self, size: int) -> float:
        return self.dirichlet_alpha if self.dirichlet_alpha is not None else 0.03 * 361 / (size * size)

def rollout_search_config(num_simulations: int = 10000, **changes) -> SearchConfig:
    """Settings for the classical search (random rollouts, uniform priors): UCT-like, every
    child is tried once before any is tried twice (a large negative FPU reduction), with a
    constant exploration weight suited to noisy +-1 rollout values."""
    base = SearchConfig(num_simulations=num_simulations, rollout_lambda=1.0, leaves_per_tree=1, puct="constant",
                        c_puct=3.0, fpu_reduction=-100.0, fpu_root_reduction=-100.0)
    return base.with_(**changes) if changes else base
