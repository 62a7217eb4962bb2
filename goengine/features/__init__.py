"""Input features for the networks: numba encoders and the feature-set registry."""

from .agz import encode_agz
from .alphago import encode_alphago, encode_alphago_value
from .encode import encode, encode_game, encode_game_positions, push_position
from .registry import AGZ, ALPHAGO, ALPHAGO_VALUE, FEATURE_SETS, FeatureSet, feature_set_of_code, get_feature_set

__all__ = [
    "AGZ", "ALPHAGO", "ALPHAGO_VALUE", "FEATURE_SETS", "FeatureSet", "encode", "encode_agz",
    "encode_alphago", "encode_alphago_value", "encode_game", "encode_game_positions",
    "feature_set_of_code", "get_feature_set", "push_position",
]
