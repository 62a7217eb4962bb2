"""The required and tournament commands: identity, board setup, moves, handicap, showboard."""

from __future__ import annotations

from ..board import BLACK, COLOR, EMPTY
from ..coords import MAX_SIZE, MIN_SIZE, PASS_LOC, all_locs, loc_of, vertex_of_loc
from ..game import IllegalMove
from ..handicap import fixed_handicap_locs, max_fixed_handicap, parse_free_handicap
from . import args as A
from .engine import NAME, VERSION, Engine
from .protocol import GtpError


def protocol_version(engine: Engine, args: tuple) -> str:
    return "2"


def name(engine: Engine, args: tuple) -> str:
    return NAME


def version(engine: Engine, args: tuple) -> str:
    return VERSION


def known_command(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="known_command NAME")
    return "true" if args[0].lower() in engine.handlers else "false"


def list_commands(engine: Engine, args: tuple) -> str:
    return "\n".join(engine.handlers)


def quit_(engine: Engine, args: tuple) -> str:
    engine.quit_requested = True
    return ""


def boardsize(engine: Engine, args: tuple) -> str:
    # Lizzie sends `boardsize W H`; only square boards exist here.
    A.expect_count(args, 1, 2, "boardsize SIZE")
    try:
        sizes = {int(a) for a in args}
    except ValueError:
        raise GtpError("unacceptable size") from None
    size = sizes.pop()
    if sizes or not MIN_SIZE <= size <= MAX_SIZE:
        raise GtpError("unacceptable size")
    problem = engine.size_problem(size)
    if problem is not None:
        raise GtpError(f"unacceptable size: {problem}")
    engine.size = size
    engine.clear_board()
    engine.prepare_search()
    return ""


def clear_board(engine: Engine, args: tuple) -> str:
    engine.clear_board()
    return ""


def komi(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="komi VALUE")
    try:
        value = A.number(args[0], "komi")
    except GtpError:
        raise GtpError("komi not a float") from None
    engine.komi_set = value
    engine.game.komi = value
    engine.forget_search()
    return ""


def play(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 2, usage="play COLOR VERTEX")
    color = A.colour(args[0])
    loc = A.vertex(args[1], engine.game.size)
    try:
        engine.game.play(loc, color)
    except IllegalMove:
        raise GtpError("illegal move") from None
    return ""


def undo(engine: Engine, args: tuple) -> str:
    try:
        engine.game.undo()
    except IndexError:
        raise GtpError("cannot undo") from None
    return ""


def showboard(engine: Engine, args: tuple) -> str:
    game = engine.game
    black, white = game.captures
    to_play = "black" if game.to_play == BLACK else "white"
    return (f"\n{game.to_ascii()}\nmove {game.move_number}, {to_play} to play, komi {game.komi:g}, "
            f"rules {game.rules.name}, captures black {black} white {white}")


def _board_is_empty(engine: Engine) -> bool:
    game = engine.game
    return not game.moves and all(game.board[COLOR, loc] == EMPTY for loc in all_locs(game.size))


def _place_handicap(engine: Engine, locs: list[int]) -> None:
    if not _board_is_empty(engine):
        raise GtpError("board not empty")
    engine.game.place_handicap(locs)


def fixed_handicap(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="fixed_handicap STONES")
    stones = A.integer(args[0], "number of stones")
    try:
        locs = fixed_handicap_locs(engine.game.size, stones)
    except ValueError:
        raise GtpError("invalid number of stones") from None
    _place_handicap(engine, locs)
    return " ".join(vertex_of_loc(loc, engine.game.size) for loc in locs)


def free_handicap_locs(size: int, stones: int) -> list[int]:
    """Where the engine puts `stones` handicap stones of its own choice: the fixed points as far
    as they go, then the points farthest from every stone so far (ties: nearer the centre),
    keeping off the first two lines while there is room."""
    chosen = fixed_handicap_locs(size, min(stones, max_fixed_handicap(size))) if max_fixed_handicap(size) >= 2 else []
    points = [(r, c) for r in range(size) for c in range(size)]
    inner = [p for p in points if min(p[0], p[1], size - 1 - p[0], size - 1 - p[1]) >= 2] if size >= 7 else points
    taken = {(loc // (size + 2) - 1, loc % (size + 2) - 1) for loc in chosen}
    centre = (size - 1) / 2
    while len(chosen) < stones:
        pool = [p for p in inner if p not in taken] or [p for p in points if p not in taken]

        def key(p: tuple[int, int]) -> tuple[float, float]:
            nearest = min((abs(p[0] - q[0]) + abs(p[1] - q[1]) for q in taken), default=0)
            return (-nearest, abs(p[0] - centre) + abs(p[1] - centre))

        best = min(pool, key=key)
        taken.add(best)
        chosen.append(loc_of(best[0], best[1], size))
    return chosen


def place_free_handicap(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 1, usage="place_free_handicap STONES")
    stones = A.integer(args[0], "number of stones")
    size = engine.game.size
    if not 2 <= stones < size * size:
        raise GtpError("invalid number of stones")
    locs = free_handicap_locs(size, stones)
    _place_handicap(engine, locs)
    return " ".join(vertex_of_loc(loc, size) for loc in locs)


def set_free_handicap(engine: Engine, args: tuple) -> str:
    size = engine.game.size
    try:
        locs = parse_free_handicap(list(args), size)
    except ValueError as e:
        raise GtpError(f"bad handicap: {e}") from None
    if PASS_LOC in locs:
        raise GtpError("bad handicap: a pass is not a stone")
    _place_handicap(engine, locs)
    return ""


COMMANDS = {
    "protocol_version": protocol_version,
    "name": name,
    "version": version,
    "known_command": known_command,
    "list_commands": list_commands,
    "quit": quit_,
    "boardsize": boardsize,
    "clear_board": clear_board,
    "komi": komi,
    "play": play,
    "undo": undo,
    "showboard": showboard,
    "fixed_handicap": fixed_handicap,
    "place_free_handicap": place_free_handicap,
    "set_free_handicap": set_free_handicap,
}
