"""The feature sets a network can be trained on, as frozen values looked up by name.

| name          | code | version | planes | history H | what                                        |
|---------------|------|---------|--------|-----------|---------------------------------------------|
| agz           | 1    | 1       | 18     | 8         | AlphaGo Zero's stone history + Leela edge   |
| alphago       | 2    | 1       | 48     | 8         | AlphaGo's policy-network planes             |
| alphago-value | 3    | 1       | 49     | 8         | the same plus "black to play" (value net)   |

`code` is what the numba dispatcher `encode.encode` takes; `version` goes into checkpoints, so
a change to what a set's planes mean must bump it. `history` is the length H of the colour and
move histories the caller keeps ([H, L] colour rows, [H] move locs): every set asks for 8 so a
search can keep one pair of arrays whatever the set.
"""

from __future__ import annotations

from dataclasses import dataclass

AGZ = 1
ALPHAGO = 2
ALPHAGO_VALUE = 3


@dataclass(frozen=True)
class FeatureSet:
    name: str
    code: int
    version: int
    num_planes: int
    history: int


FEATURE_SETS: dict[str, FeatureSet] = {
    fs.name: fs
    for fs in (
        FeatureSet("agz", AGZ, 1, 18, 8),
        FeatureSet("alphago", ALPHAGO, 1, 48, 8),
        FeatureSet("alphago-value", ALPHAGO_VALUE, 1, 49, 8),
    )
}


def get_feature_set(name: str) -> FeatureSet:
    """A feature set by name (case-insensitive; "_" may stand for "-")."""
    key = name.strip().lower().replace("_", "-")
    if key not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {name!r}; known: {', '.join(FEATURE_SETS)}")
    return FEATURE_SETS[key]


def feature_set_of_code(code: int) -> FeatureSet:
    for fs in FEATURE_SETS.values():
        if fs.code == code:
            return fs
    raise ValueError(f"unknown feature-set code {code!r}")
