"""The three network families, built from `blocks.py` and `heads.py` by `build_network(config)`.

Every network takes x float32 [B, in_planes, N, N] (features converted from uint8) for any
board size N and returns a `NetOutput`; fields a network does not produce are None.

| network        | kind           | trunk                                             | outputs           |
|----------------|----------------|---------------------------------------------------|-------------------|
| PolicyNet      | "policy"       | 5x5 conv block, then blocks-2 3x3 conv blocks     | policy_logits     |
|                |                | (AlphaGo SL/RL policy: 13 layers with the head)   |                   |
| ValueNet       | "value"        | the same plain stack                              | value             |
| PolicyValueNet | "policy_value" | 3x3 stem conv block + `blocks` residual blocks    | policy_logits,    |
|                |                | (AlphaGo Zero; optional global-pooling blocks)    | value, [ownership,|
|                |                |                                                   | score]            |

The plain stacks use batch norm, which AlphaGo did not; it trains faster and folds into the
convolutions at inference time.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import nn

from .blocks import ConvBlock, GlobalPoolingResidualBlock, ResidualBlock
from .config import NetConfig
from .heads import OwnershipHead, PolicyHead, ScoreHead, ValueHead


class NetOutput(NamedTuple):
    policy_logits: Optional[torch.Tensor]  # float [B, N*N + 1]
    value: Optional[torch.Tensor]  # float [B], tanh
    ownership: Optional[torch.Tensor] = None  # float [B, N*N], tanh
    score: Optional[torch.Tensor] = None  # float [B], points


def _plain_stack(config: NetConfig) -> nn.Sequential:
    layers = [ConvBlock(config.in_planes, config.channels, 5)]
    layers += [ConvBlock(config.channels, config.channels, 3) for _ in range(config.blocks - 2)]
    return nn.Sequential(*layers)


class PolicyNet(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        self.trunk = _plain_stack(config)
        self.policy = PolicyHead(config.channels, min(config.head_channels, config.channels))

    def forward(self, x: torch.Tensor) -> NetOutput:
        return NetOutput(self.policy(self.trunk(x)), None)


class ValueNet(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        self.trunk = _plain_stack(config)
        self.value = ValueHead(config.channels, min(config.head_channels, config.channels),
                               config.value_hidden)

    def forward(self, x: torch.Tensor) -> NetOutput:
        return NetOutput(None, self.value(self.trunk(x)))


class PolicyValueNet(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        every = config.global_pooling
        self.stem = ConvBlock(config.in_planes, config.channels, 3)
        self.tower = nn.Sequential(*[
            GlobalPoolingResidualBlock(config.channels) if every and (i + 1) % every == 0
            else ResidualBlock(config.channels)
            for i in range(config.blocks)])
        head = min(config.head_channels, config.channels)
        self.policy = PolicyHead(config.channels, head)
        self.value = ValueHead(config.channels, head, config.value_hidden)
        self.ownership = OwnershipHead(config.channels, head) if config.ownership else None
        self.score = ScoreHead(config.channels, head, config.value_hidden) if config.score else None

    def forward(self, x: torch.Tensor) -> NetOutput:
        h = self.tower(self.stem(x))
        return NetOutput(
            self.policy(h),
            self.value(h),
            self.ownership(h) if self.ownership is not None else None,
            self.score(h) if self.score is not None else None,
        )


NETWORK_CLASSES: dict[str, type[nn.Module]] = {
    "policy": PolicyNet,
    "value": ValueNet,
    "policy_value": PolicyValueNet,
}


def build_network(config: NetConfig) -> nn.Module:
    """A freshly initialised network for `config` (train mode, float32, on the CPU)."""
    return NETWORK_CLASSES[config.kind](config)
