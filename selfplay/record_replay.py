"""Rebuild a `GameState` from a self-play `PlayedGame` (for SGF output, tests and analysis)."""

from __future__ import annotations

from goengine.game import GameState, move_limit

from .records import PlayedGame


def game_of_record(record: PlayedGame, max_moves: int | None = None) -> GameState:
    """The game as it was played; a resignation is kept. Raises IllegalMove on a corrupt record."""
    game = GameState(record.board_size, komi=record.komi, rules=record.rules,
                     max_moves=max(max_moves or 0, record.num_moves, move_limit(record.board_size)))
    if record.setup:
        game.setup_stones({loc: colour for loc, colour in record.setup}, to_play=record.first_player)
        game.handicap = record.handicap
    for action in record.actions:
        game.play_action(action)
    if record.resigned:
        game.resign(record.resigned)
    return game
