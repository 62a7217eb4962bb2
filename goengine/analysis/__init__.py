"""Analysis for review tools: score and ownership estimates shared with GTP's kata-analyze, and
KataGo's JSON analysis protocol (`goengine analysis`)."""

from .estimates import Estimate, MoveEstimates, has_head, network_estimates, root_estimate

__all__ = ["Estimate", "MoveEstimates", "has_head", "network_estimates", "root_estimate"]
