"""`NetConfig`: everything needed to rebuild a network, stored beside its weights.

| field          | meaning                                                                     |
|----------------|-----------------------------------------------------------------------------|
| kind           | "policy" (AlphaGo SL/RL policy), "value" (AlphaGo value net) or              |
|                | "policy_value" (AlphaGo Zero residual tower with both heads)                |
| blocks         | residual blocks for "policy_value"; conv layers (output layer included) for  |
|                | the plain "policy" and "value" stacks (AlphaGo: 13)                          |
| channels       | filters per trunk layer                                                     |
| in_planes      | input feature planes C (features uint8[B, C, N, N])                          |
| feature_set    | name of the feature encoder the net was trained with ("agz", "alphago", ...) |
| feature_version| version of that encoder                                                     |
| board_sizes    | board sizes it was trained on; the net itself is size-independent           |
| global_pooling | 0: none; k: every k-th residual block (k, 2k, ...) is a global-pooling block |
| ownership      | add an ownership head (per point, tanh, side to move's view)                |
| score          | add a score-lead head (points, side to move's view)                         |
| head_channels  | 1x1-conv channels in the policy/value/score heads                           |
| value_hidden   | width of the hidden fully connected layer of the value and score heads      |

The `tag` ("b6c64") names the architecture by blocks and channels, as in model ids
("000013-b6c64").
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

KINDS = ("policy", "value", "policy_value")
_TAG = re.compile(r"^b(\d+)c(\d+)$")


@dataclass(frozen=True)
class NetConfig:
    kind: str = "policy_value"
    blocks: int = 6
    channels: int = 64
    in_planes: int = 18
    feature_set: str = "agz"
    feature_version: int = 1
    board_sizes: tuple[int, ...] = (9,)
    global_pooling: int = 0
    ownership: bool = False
    score: bool = False
    head_channels: int = 32
    value_hidden: int = 128

    def __post_init__(self) -> None:
        sizes = self.board_sizes
        if isinstance(sizes, int):
            sizes = (sizes,)
        object.__setattr__(self, "board_sizes", tuple(int(s) for s in sizes))
        object.__setattr__(self, "global_pooling", int(self.global_pooling))
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        minimum_blocks = 1 if self.kind == "policy_value" else 2
        if self.blocks < minimum_blocks:
            raise ValueError(f"a {self.kind} net needs at least {minimum_blocks} blocks, "
                             f"got {self.blocks}")
        for name in ("channels", "in_planes", "head_channels", "value_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.board_sizes or any(s < 2 for s in self.board_sizes):
            raise ValueError(f"board_sizes must list sizes >= 2, got {self.board_sizes}")
        if self.global_pooling < 0:
            raise ValueError(f"global_pooling must be >= 0, got {self.global_pooling}")
        if self.kind != "policy_value" and (self.global_pooling or self.ownership or self.score):
            raise ValueError("global pooling, ownership and score heads need kind 'policy_value'")

    @property
    def tag(self) -> str:
        return f"b{self.blocks}c{self.channels}"

    @property
    def board_size(self) -> int | None:
        """The one size trained on, or None for a multi-size net."""
        return self.board_sizes[0] if len(self.board_sizes) == 1 else None

    @classmethod
    def from_tag(cls, tag: str, **fields: Any) -> "NetConfig":
        """NetConfig.from_tag("b6c64", kind="policy_value", in_planes=18, ...)."""
        match = _TAG.match(tag.strip())
        if not match:
            raise ValueError(f"architecture tag must look like 'b6c64', got {tag!r}")
        return cls(blocks=int(match.group(1)), channels=int(match.group(2)), **fields)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["board_sizes"] = list(self.board_sizes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NetConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown NetConfig fields: {unknown}")
        return cls(**data)
