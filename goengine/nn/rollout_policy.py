"""`RolloutPolicy`: AlphaGo's fast rollout policy as a torch module, a linear softmax over the
sparse candidate features of `goengine.rollout.features`.

Input: feats int64 [B, K, S], the feature ids of up to K candidate moves of B positions, S =
NUM_SLOTS slots each, -1 in unused slots and in the rows of missing candidates; counts int64
[B], the number of real candidates per position. Output: logits float32 [B, K], the sum of the
weights of each candidate's features, -inf beyond counts[b]. The weight vector is one float per
feature id (an embedding of width 1, zero at start: a uniform policy).

Checkpoints use the numpy format of `goengine.rollout.model` (safetensors + JSON), so the
search reads them without torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch import nn

from ..rollout.features import NUM_FEATURES
from ..rollout.model import load_rollout_model, save_rollout_model


class RolloutPolicy(nn.Module):
    def __init__(self, num_features: int = NUM_FEATURES):
        super().__init__()
        self.num_features = num_features
        # The extra last row is the padding id for unused slots; it stays zero.
        self.weights = nn.Embedding(num_features + 1, 1, padding_idx=num_features)
        nn.init.zeros_(self.weights.weight)

    def forward(self, feats: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        ids = torch.where(feats < 0, torch.full_like(feats, self.num_features), feats)
        logits = self.weights(ids).squeeze(-1).sum(-1)
        k = torch.arange(feats.shape[1], device=feats.device)
        return logits.masked_fill(k[None, :] >= counts[:, None], float("-inf"))

    def weight_vector(self) -> np.ndarray:
        """float32 [num_features]: the weight of each feature id."""
        return self.weights.weight.detach()[:self.num_features, 0].float().cpu().numpy().copy()

    def load_weight_vector(self, weights: np.ndarray) -> None:
        with torch.no_grad():
            self.weights.weight[:self.num_features, 0] = torch.as_tensor(weights, dtype=torch.float32)
            self.weights.weight[self.num_features] = 0.0

    def save(self, path: str | os.PathLike, *, step: int = 0, train_config: Optional[dict] = None,
             extra: Optional[dict] = None) -> Path:
        return save_rollout_model(path, self.weight_vector(), step=step, train_config=train_config,
                                  extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "RolloutPolicy":
        model = cls()
        model.load_weight_vector(load_rollout_model(path).weights)
        return model
