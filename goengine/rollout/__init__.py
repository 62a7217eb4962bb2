"""The fast rollout policy: local move features, a linear softmax over them, and playouts that
use it (numba); weights are loaded from checkpoints with numpy alone."""

from .features import NUM_FEATURES, NUM_SLOTS, candidate_features, feature_name, new_cache
from .model import RolloutModel, load_rollout_model, save_rollout_model
from .playout import best_candidate, policy_playout, sample_candidate

__all__ = ["NUM_FEATURES", "NUM_SLOTS", "RolloutModel", "best_candidate", "candidate_features",
           "feature_name", "load_rollout_model", "new_cache", "policy_playout", "sample_candidate",
           "save_rollout_model"]
