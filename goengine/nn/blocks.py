"""Building blocks shared by every network. Tensors are float [B, C, N, N]; all boards in a
batch have one size N, and nothing here depends on N, so one network plays every size.

- `ConvBlock`: conv (odd kernel, "same" padding, no bias) -> batch norm -> ReLU.
- `ResidualBlock`: x + BN(conv3x3(ReLU(BN(conv3x3(x))))), then ReLU (AlphaGo Zero).
- `GlobalPoolingBias` / `GlobalPoolingResidualBlock`: KataGo-style global pooling; the first
  conv's activations are pooled over the board (mean, size-scaled mean, max per channel) and a
  linear map of those adds a per-channel bias, which lets distant parts of the board (ko
  threats, the overall score) influence every point.
"""

from __future__ import annotations

import torch
from torch import nn


def global_pool(x: torch.Tensor) -> torch.Tensor:
    """[B, C, N, N] -> [B, 3C]: channel means, means scaled by board size, channel maxes.

    The scaled mean ((N - 14) / 10 times the mean, as N = sqrt(area)) tells the layers after
    the pooling which board size they are on; it is zero on 14x14 and about +-0.5 on 19x19 and
    9x9."""
    size = x.shape[-1]
    mean = x.mean(dim=(2, 3))
    peak = x.amax(dim=(2, 3))
    return torch.cat([mean, mean * ((size - 14.0) / 10.0), peak], dim=1)


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                              bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return torch.relu(x + h)


class GlobalPoolingBias(nn.Module):
    """Pools `pooled_channels` channels over the board and returns per-channel biases
    [B, out_channels, 1, 1] to add to a feature map."""

    def __init__(self, pooled_channels: int, out_channels: int):
        super().__init__()
        self.linear = nn.Linear(3 * pooled_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(global_pool(x))[:, :, None, None]


class GlobalPoolingResidualBlock(nn.Module):
    """A residual block whose inner activations get a bias computed from their own global
    pooling before the second conv."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.pool_bias = GlobalPoolingBias(channels, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        h = h + self.pool_bias(h)
        h = self.bn2(self.conv2(h))
        return torch.relu(x + h)
