"""Output heads. Each takes trunk features float [B, C, N, N] and is size-independent: per-point
outputs come from 1x1 convolutions and whole-board outputs from global pooling, never from a
fully connected layer over the N*N points.

| head           | output shape    | meaning                                                   |
|----------------|-----------------|-----------------------------------------------------------|
| PolicyHead     | [B, N*N + 1]    | logits in action order (row-major from top-left, pass last)|
| ValueHead      | [B]             | tanh, expected outcome for the side to move               |
| OwnershipHead  | [B, N*N]        | tanh, +1 = owned by the side to move, -1 = by the opponent |
| ScoreHead      | [B]             | score lead of the side to move, in points                 |
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ConvBlock, GlobalPoolingBias, global_pool


class PolicyHead(nn.Module):
    """1x1 conv block -> global-pooling bias -> 1x1 conv to one logit per point; the pass logit
    is a linear map of the pooled head features."""

    def __init__(self, channels: int, head_channels: int):
        super().__init__()
        self.conv = ConvBlock(channels, head_channels, 1)
        self.pool_bias = GlobalPoolingBias(head_channels, head_channels)
        self.point_logit = nn.Conv2d(head_channels, 1, 1)
        self.pass_logit = nn.Linear(3 * head_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        pooled = global_pool(h)
        points = self.point_logit(torch.relu(h + self.pool_bias(h))).flatten(1)
        return torch.cat([points, self.pass_logit(pooled)], dim=1)


class ValueHead(nn.Module):
    """1x1 conv block -> global pooling -> FC -> ReLU -> FC -> tanh."""

    def __init__(self, channels: int, head_channels: int, hidden: int):
        super().__init__()
        self.conv = ConvBlock(channels, head_channels, 1)
        self.hidden = nn.Linear(3 * head_channels, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(global_pool(self.conv(x))))
        return torch.tanh(self.out(h)).squeeze(1)


class OwnershipHead(nn.Module):
    def __init__(self, channels: int, head_channels: int):
        super().__init__()
        self.conv = ConvBlock(channels, head_channels, 1)
        self.out = nn.Conv2d(head_channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.out(self.conv(x))).flatten(1)


class ScoreHead(nn.Module):
    """Like the value head without the tanh; the output is scaled by 20 points so that typical
    scores are reached with unit-sized activations."""

    SCALE = 20.0

    def __init__(self, channels: int, head_channels: int, hidden: int):
        super().__init__()
        self.conv = ConvBlock(channels, head_channels, 1)
        self.hidden = nn.Linear(3 * head_channels, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(global_pool(self.conv(x))))
        return self.out(h).squeeze(1) * self.SCALE
