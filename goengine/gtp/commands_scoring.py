"""final_score and final_status_list: dead stones by the ownership estimate (random playouts
from the final position with a fixed seed; the network's ownership head settles the chains they
leave in doubt: stone_status.end_of_game_ownership), the score by the
game's rules. The answer depends on the position alone, not on the engine's --seed."""

from __future__ import annotations

from ..coords import vertex_of_loc
from . import args as A
from .engine import Engine
from .protocol import GtpError
from ..stone_status import StoneStatus, end_of_game_status, final_score as score_of


def stone_status(engine: Engine) -> StoneStatus:
    engine.wait_ready()
    game = engine.game
    return end_of_game_status(game, engine.evaluator, engine.options.ownership_playouts)


def final_score(engine: Engine, args: tuple) -> str:
    A.expect_count(args, 0, usage="final_score")
    game = engine.game
    if game.resigned is not None:
        return game.result_string()
    return score_of(game, stone_status(engine)).result_string()


def final_status_list(engine: Engine, args: tuple) -> str:
    """One line per chain with the status asked for."""
    A.expect_count(args, 1, usage="final_status_list alive|dead|seki")
    which = args[0].lower()
    if which not in ("alive", "dead", "seki"):
        raise GtpError(f"invalid status {args[0]!r}: expected alive, dead or seki")
    chains = stone_status(engine).chains(engine.game, which)
    size = engine.game.size
    return "\n".join(" ".join(vertex_of_loc(loc, size) for loc in chain) for chain in chains)


COMMANDS = {
    "final_score": final_score,
    "final_status_list": final_status_list,
}
