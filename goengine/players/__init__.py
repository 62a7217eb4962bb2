"""Players: one object per kind of player, serving one game or G games in lockstep. GTP,
matches, gating, self-play and the AlphaGo-style player are adapters over these."""

from .base import Decision, Player, RandomPlayer, random_move
from .policy_player import PolicyPlayer
from .resign import ResignRule, ResignStreaks
from .search_player import PASS_RULES, PlayerConfig, SearchPlayer

__all__ = ["Decision", "PASS_RULES", "Player", "PlayerConfig", "PolicyPlayer", "RandomPlayer", "ResignRule",
           "ResignStreaks", "SearchPlayer", "random_move"]
