"""Game records: loadsgf FILE [MOVE_NUMBER] and printsgf [FILE]."""

from __future__ import annotations

from ..sgf import SgfError, read_sgf, replay, write_sgf
from . import args as A
from .engine import NAME, Engine
from .protocol import GtpError


def loadsgf(engine: Engine, args: tuple) -> str:
    """The position before move MOVE_NUMBER (1-based; the whole game without it), with the
    file's board size and komi and the engine's rules. The board is unchanged on any error."""
    A.expect_count(args, 1, 2, "loadsgf FILE [MOVE_NUMBER]")
    limit = None
    if len(args) == 2:
        limit = A.integer(args[1], "move number")
        if limit < 1:
            raise GtpError("move number must be at least 1")
        limit -= 1
    try:
        record = read_sgf(args[0])
        game = replay(record, limit, rules=engine.rules)
    except FileNotFoundError:
        raise GtpError(f"cannot load file: {args[0]} does not exist") from None
    except (OSError, SgfError) as e:
        raise GtpError(f"cannot load file: {e}") from None
    problem = engine.size_problem(game.size)
    if problem is not None:
        raise GtpError(f"cannot load file: {problem}")
    engine.komi_set = game.komi
    engine.set_game(game)
    return ""


def printsgf(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 0, 1, "printsgf [FILE]")
    players = {"black": "Black", "white": "White"}
    if len(args) == 1:
        try:
            write_sgf(engine.game, args[0], **players, AP=NAME)
        except OSError as e:
            raise GtpError(f"cannot write file: {e}") from None
        return ""
    return write_sgf(engine.game, **players, AP=NAME).decode("utf-8")


COMMANDS = {
    "loadsgf": loadsgf,
    "printsgf": printsgf,
}
