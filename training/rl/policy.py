"""A policy network for lockstep play and training: numpy features in, logits out, the torch
module kept at hand for gradient steps.

Batch norm stays in eval mode throughout, also while the policy-gradient step runs: the
gradient is then taken of exactly the function that sampled the moves, and the running
statistics learned from expert games are kept.
"""

from __future__ import annotations

import os
from typing import Optional

import numpy as np
import torch

from goengine.nn import NetConfig, load_checkpoint, save_checkpoint


class TorchPolicy:
    def __init__(self, model: torch.nn.Module, config: NetConfig, device: str = "cpu", name: str = "policy"):
        if config.kind not in ("policy", "policy_value"):
            raise ValueError(f"a policy needs a network of kind 'policy' or 'policy_value', got {config.kind!r}")
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.config = config
        self.feature_set = config.feature_set
        self.name = name

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str = "cpu", name: Optional[str] = None) -> "TorchPolicy":
        model, config, meta = load_checkpoint(path, device=device)
        return cls(model, config, device, name or meta.get("model_id") or os.path.basename(os.fspath(path)))

    def to_tensor(self, features: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(features)).to(self.device).float()

    def logits(self, features: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """float32 [B, A] policy logits of uint8 features [B, C, N, N]."""
        self.model.eval()
        parts = []
        with torch.inference_mode():
            for start in range(0, len(features), batch_size):
                out = self.model(self.to_tensor(features[start:start + batch_size]))
                parts.append(out.policy_logits.float().cpu().numpy())
        if not parts:
            size = features.shape[-1]
            return np.zeros((0, size * size + 1), np.float32)
        return np.concatenate(parts)

    def save(self, path: str | os.PathLike, *, step: int, model_id: Optional[str] = None,
             parent_model_id: Optional[str] = None, train_config: Optional[dict] = None,
             extra: Optional[dict] = None) -> None:
        save_checkpoint(path, self.model, self.config, step=step, model_id=model_id,
                        parent_model_id=parent_model_id, train_config=train_config, extra=extra)
