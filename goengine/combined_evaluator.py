"""`CombinedEvaluator`: AlphaGo's two networks behind one `Evaluator` (numpy level): the policy
logits come from one evaluator (the SL policy network), the values from another (the value
network).

The search encodes one feature set per leaf. The two networks may use different sets when one
set's planes are the leading planes of the other (`PLANE_PREFIXES`): the search then encodes
the larger set and the network of the smaller one gets the first planes of it, a view, no
re-encoding. AlphaGo's pair is of this kind: the value network's "alphago-value" is the policy
network's 48 "alphago" planes plus a 49th, "black to play". Any other pair of different sets is
refused; encoding a leaf twice would need the board, which the Evaluator interface does not
carry.
"""

from __future__ import annotations

import numpy as np

from .evaluator import Evaluator, check_features
from .features import get_feature_set

# (smaller set, larger set): the smaller set's planes are the first planes of the larger one.
PLANE_PREFIXES = {("alphago", "alphago-value")}


def _canonical(name: str) -> str:
    return get_feature_set(name).name


class CombinedEvaluator:
    """Policy logits from `policy_evaluator`, values from `value_evaluator`."""

    def __init__(self, policy_evaluator: Evaluator, value_evaluator: Evaluator):
        self.policy_evaluator = policy_evaluator
        self.value_evaluator = value_evaluator
        policy_set = _canonical(policy_evaluator.feature_set)
        value_set = _canonical(value_evaluator.feature_set)
        if policy_set == value_set:
            self.feature_set = policy_set
        elif (policy_set, value_set) in PLANE_PREFIXES:
            self.feature_set = value_set
        elif (value_set, policy_set) in PLANE_PREFIXES:
            self.feature_set = policy_set
        else:
            raise ValueError(f"the policy network's features {policy_set!r} and the value network's "
                             f"{value_set!r} cannot be served from one encoding; supported pairs: the same "
                             f"set, or {sorted(PLANE_PREFIXES)}")
        self._policy_planes = get_feature_set(policy_set).num_planes
        self._value_planes = get_feature_set(value_set).num_planes
        sizes = {s for s in (policy_evaluator.board_size, value_evaluator.board_size) if s is not None}
        if len(sizes) > 1:
            raise ValueError(f"the networks were made for different board sizes: {sorted(sizes)}")
        self.board_size = sizes.pop() if sizes else None

    def evaluate(self, features_bchw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        check_features(features_bchw, self.board_size, get_feature_set(self.feature_set).num_planes)
        logits, _ = self.policy_evaluator.evaluate(features_bchw[:, :self._policy_planes])
        _, values = self.value_evaluator.evaluate(features_bchw[:, :self._value_planes])
        return (np.asarray(logits, dtype=np.float32), np.asarray(values, dtype=np.float32))
