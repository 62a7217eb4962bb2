"""A network in the form inference runtimes convert: uint8 features in, a flat tuple of float32
tensors out, in a fixed order with fixed names.

| output         | shape        | present when                        |
|----------------|--------------|-------------------------------------|
| policy_logits  | [B, N*N + 1] | kind "policy" or "policy_value"     |
| value          | [B]          | kind "value" or "policy_value"      |
| ownership      | [B, N*N]     | config.ownership                    |
| score          | [B]          | config.score                        |

The input is named "features" (uint8 [B, C, N, N]); the conversion to float happens inside the
graph so the runtime reads a quarter of the bytes. Batch and board size are dynamic in the
converted graph (global pooling reads the board size from the input's shape, so one converted
file serves every size); a runtime may fix the size when it compiles.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import NetConfig

INPUT_NAME = "features"


def output_names(config: NetConfig) -> list[str]:
    names = []
    if config.kind in ("policy", "policy_value"):
        names.append("policy_logits")
    if config.kind in ("value", "policy_value"):
        names.append("value")
    if config.ownership:
        names.append("ownership")
    if config.score:
        names.append("score")
    return names


class ExportModule(nn.Module):
    """Wraps a network (eval mode) so that it returns only the tensors it produces."""

    def __init__(self, model: nn.Module, config: NetConfig):
        super().__init__()
        self.model = model.eval()
        self.names = output_names(config)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(features.float())._asdict()
        return tuple(out[name] for name in self.names)


def example_input(config: NetConfig, size: int, batch: int = 2) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 2, (batch, config.in_planes, size, size), generator=generator,
                         dtype=torch.uint8)
